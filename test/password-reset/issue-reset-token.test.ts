// Issuing reset tokens, POST /users/:sid/password/reset: who may issue a reset token,
// what the token is, and that a new one supersedes the old.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { SigningKeyRing } from '../../src/password-reset/signing-keys.js';
import { atOnce } from '../kit/concurrency.js';
import { describeEachDatabase } from '../kit/databases.js';
import { USER_PASSWORD, startServiceWithAdmin, startTestService, type TestService } from '../kit/service.js';

const NEW_PASSWORD = 'a brand new passphrase';

describeEachDatabase('issuing reset tokens', (target) => {
  let service: TestService;
  let admin: string;
  before(async () => ({ service, admin } = await startServiceWithAdmin(target.dialect, { passwordResetExpirationHours: 24 })));
  after(() => service?.close());

  const issue = (sid: string, token: string = admin, headers: Record<string, string> = {}) =>
    service.request({ method: 'POST', url: `/rbac-api/v1/users/${sid}/password/reset`, token, headers });
  const reset = (token: string, password = NEW_PASSWORD) =>
    service.request({ method: 'POST', url: '/rbac-api/v1/auth/reset', payload: { token, password } });

  const issuedEventsFor = (id: string) =>
    service.store.db.selectFrom('audit_events').select('id').where('type', '=', 'reset-token-issued').where('subject_id', '=', id).execute();

  /** A user holding a role with the given users permission; returns its login token. */
  async function userWithPermission(login: string, action: string, instance: string): Promise<string> {
    const role = await service.request({
      method: 'POST',
      url: '/rbac-api/v1/roles',
      token: admin,
      payload: { display_name: `role-${login}`, permissions: [{ object_type: 'users', action, instance }] },
    });
    assert.equal(role.statusCode, 201, role.body);
    await service.createUser(login, { role_ids: [(role.json() as { id: number }).id] });
    return service.login(login, USER_PASSWORD);
  }

  test('201 with the token as text/plain, not cached', async () => {
    const id = await service.createUser('issue-text');
    for (const headers of [{} as Record<string, string>, { accept: '*/*' }, { accept: 'text/plain' }, { accept: 'text/plain, application/json;q=0.5' }]) {
      const response = await issue(id, admin, headers);
      assert.equal(response.statusCode, 201, JSON.stringify(headers));
      assert.match(String(response.headers['content-type']), /^text\/plain/);
      assert.equal(response.headers['cache-control'], 'no-store');
      assert.match(response.body, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'the body is the bare JWT');
    }
  });

  test('{"token": …} when Accept prefers application/json', async () => {
    const id = await service.createUser('issue-json');
    for (const accept of ['application/json', 'application/json, text/plain;q=0.5', 'application/*']) {
      const response = await issue(id, admin, { accept });
      assert.equal(response.statusCode, 201);
      assert.match(String(response.headers['content-type']), /^application\/json/);
      const { token } = response.json() as { token: string };
      assert.equal(token.split('.').length, 3);
    }
  });

  test('the token is an RS256 JWT with kid, iss, sub, iat, exp, jti; exp − iat = password-reset-expiration hours', async () => {
    const id = await service.createUser('issue-claims');
    const token = (await issue(id)).body;
    const header = decodeProtectedHeader(token);
    assert.equal(header.alg, 'RS256');
    assert.equal(typeof header.kid, 'string');
    const claims = decodeJwt(token);
    assert.equal(claims.sub, id);
    assert.equal(typeof claims.iss, 'string');
    assert.equal(typeof claims.jti, 'string');
    assert.ok(Math.abs((claims.iat as number) - Date.now() / 1000) < 60);
    assert.equal((claims.exp as number) - (claims.iat as number), 24 * 3600);
    // It verifies against the service's published public keys.
    const verified = await jwtVerify(token, createLocalJWKSet(await service.keys.publicJwks()), { algorithms: ['RS256'] });
    assert.equal(verified.payload.sub, id);
  });

  test('tokens are unpredictable and non-numeric: every token and jti differs', async () => {
    const id = await service.createUser('issue-unique');
    const tokens = await atOnce(5, async () => (await issue(id)).body);
    assert.equal(new Set(tokens).size, 5);
    assert.equal(new Set(tokens.map((token) => decodeJwt(token).jti)).size, 5);
    assert.ok(tokens.every((token) => !/^\d+$/.test(token)));
  });

  test('the lifetime follows password-reset-expiration', async () => {
    const short = await startTestService(target.dialect, { passwordResetExpirationHours: 2 });
    try {
      const id = await short.createUser('issue-lifetime');
      const response = await short.request({ method: 'POST', url: `/rbac-api/v1/users/${id}/password/reset`, token: await short.adminToken() });
      const claims = decodeJwt(response.body);
      assert.equal((claims.exp as number) - (claims.iat as number), 2 * 3600);
    } finally {
      await short.close();
    }
  });

  test('a new token supersedes the earlier unused ones', async () => {
    const id = await service.createUser('issue-supersede');
    const first = (await issue(id)).body;
    const second = (await issue(id)).body;
    const refused = await reset(first);
    assert.equal(refused.statusCode, 403);
    assert.equal((refused.json() as { kind: string }).kind, 'invalid-token');
    assert.equal((await reset(second)).statusCode, 200);
  });

  test('401 without authentication', async () => {
    const id = await service.createUser('issue-unauth');
    const response = await service.request({ method: 'POST', url: `/rbac-api/v1/users/${id}/password/reset` });
    assert.equal(response.statusCode, 401);
    assert.equal((response.json() as { kind: string }).kind, 'user-unauthenticated');
  });

  test('403 without users:reset_password; allowed with it on that user or on "*"', async () => {
    const target1 = await service.createUser('issue-target-1');
    const target2 = await service.createUser('issue-target-2');
    await service.createUser('issue-nobody');
    const nobody = await service.login('issue-nobody', USER_PASSWORD);
    const onlyTarget1 = await userWithPermission('issue-helper-one', 'reset_password', target1);
    const everyone = await userWithPermission('issue-helper-all', 'reset_password', '*');
    const editOnly = await userWithPermission('issue-editor', 'edit', '*');

    // A refused request costs no signature: the permission is read before anything is signed.
    let keysTaken = 0;
    const signingKey = service.keys.signingKey.bind(service.keys);
    service.keys.signingKey = (options) => (keysTaken++, signingKey(options));
    try {
      const denied = await issue(target1, nobody);
      assert.equal(denied.statusCode, 403);
      assert.equal((denied.json() as { kind: string }).kind, 'permission-denied');
      assert.equal((await issue(target1, editOnly)).statusCode, 403, 'another users permission is not enough');
      assert.equal(keysTaken, 0, 'no signing key was taken for a refused request');
    } finally {
      service.keys.signingKey = signingKey;
    }
    assert.equal((await issue(target1, onlyTarget1)).statusCode, 201);
    assert.equal((await issue(target2, onlyTarget1)).statusCode, 403);
    assert.equal((await issue(target1, everyone)).statusCode, 201);
    assert.equal((await issue(target2, everyone)).statusCode, 201);
  });

  test('403 for a superuser target unless the caller is a superuser, even with users:reset_password on "*"', async () => {
    const everyone = await userWithPermission('issue-helpdesk', 'reset_password', '*');
    const adminId = (await service.request({ method: 'GET', url: '/rbac-api/v1/users/current', token: admin }).then((r) => r.json())) as { id: string };
    const before = await service.store.db.selectFrom('reset_tokens').select('jti').where('user_id', '=', adminId.id).execute();
    const denied = await issue(adminId.id, everyone);
    assert.equal(denied.statusCode, 403);
    assert.equal((denied.json() as { kind: string }).kind, 'permission-denied');
    assert.match((denied.json() as { msg: string }).msg, /superuser/);
    const after = await service.store.db.selectFrom('reset_tokens').select('jti').where('user_id', '=', adminId.id).execute();
    assert.deepEqual(after, before, 'no token was recorded, none superseded');
    assert.equal((await issue(adminId.id, admin)).statusCode, 201, 'a superuser may');
  });

  test('403 for a remote user, even for a superuser', async () => {
    const created = await service.request({ method: 'POST', url: '/rbac-api/v1/users', token: admin, payload: { login: 'issue-remote', is_remote: true } });
    const id = (created.json() as { id: string }).id;
    const response = await issue(id);
    assert.equal(response.statusCode, 403);
    assert.equal((response.json() as { kind: string }).kind, 'permission-denied');
    assert.match((response.json() as { msg: string }).msg, /remote/i);
    const rows = await service.store.db.selectFrom('reset_tokens').select('jti').where('user_id', '=', id).execute();
    assert.equal(rows.length, 0, 'no token was recorded');
    assert.deepEqual(await issuedEventsFor(id), [], 'no issue was recorded');
  });

  test('404 when no user has the id; 400 invalid-uuid when it is not a UUID', async () => {
    const nobody = randomUUID();
    const missing = await issue(nobody);
    assert.equal(missing.statusCode, 404);
    assert.equal((missing.json() as { kind: string }).kind, 'not-found');
    assert.deepEqual(await service.store.db.selectFrom('reset_tokens').select('jti').where('user_id', '=', nobody).execute(), [], 'no token was recorded');
    assert.deepEqual(await issuedEventsFor(nobody), [], 'no issue was recorded');
    const bad = await issue('not-a-uuid');
    assert.equal(bad.statusCode, 400);
    assert.equal((bad.json() as { kind: string }).kind, 'invalid-uuid');
  });

  test('works for a revoked (locked-out) user, and the reset reinstates it', async () => {
    const id = await service.createUser('issue-revoked');
    await service.store.db.updateTable('users').set({ is_revoked: 1, failed_attempts: 10 }).where('id', '=', id).execute();
    const response = await issue(id);
    assert.equal(response.statusCode, 201);
    assert.equal((await reset(response.body)).statusCode, 200);
    const row = await service.store.db.selectFrom('users').select(['is_revoked', 'failed_attempts']).where('id', '=', id).executeTakeFirstOrThrow();
    assert.deepEqual(row, { is_revoked: 0, failed_attempts: 0 });
    assert.ok(await service.login('issue-revoked', NEW_PASSWORD));
  });

  test('issuing is audited with actor, subject and source address, never the token', async () => {
    const id = await service.createUser('issue-audit');
    const token = (await issue(id)).body;
    const event = await service.store.db
      .selectFrom('audit_events')
      .selectAll()
      .where('type', '=', 'reset-token-issued')
      .where('subject_id', '=', id)
      .executeTakeFirstOrThrow();
    assert.equal(event.actor_login, 'admin');
    assert.equal(event.subject_login, 'issue-audit');
    assert.equal(event.source_address, '127.0.0.1');
    assert.ok(!event.details.includes(token) && !event.details.includes(token.split('.')[2] as string));
  });

  test('instances sharing a database share the signing keys: one issues, another verifies', async () => {
    const id = await service.createUser('issue-shared-keys');
    const token = (await issue(id)).body;
    const otherInstance = new SigningKeyRing(service.store.db);
    await otherInstance.ensureKey(); // finds the existing key, creates none
    const keys = await service.store.db.selectFrom('signing_keys').select('kid').execute();
    assert.equal(keys.length, 1);
    const { kid } = decodeProtectedHeader(token);
    assert.ok(await otherInstance.verificationKey(kid as string));
    assert.equal((await otherInstance.activeKey()).kid, kid);
  });

  test('after a key rotation new tokens use the new key and tokens signed by the old one still work', async () => {
    const id = await service.createUser('issue-rotation');
    const oldToken = (await issue(id)).body;
    const otherId = await service.createUser('issue-rotation-2');
    // Another instance rotates: this one has signed with the old key, and learns of the new one only when its write is refused.
    const newKid = await new SigningKeyRing(service.store.db).rotate({ actor: null, sourceAddress: null }, Date.now() + 1);
    const newToken = (await issue(otherId)).body;
    assert.equal(decodeProtectedHeader(newToken).kid, newKid);
    const rows = await service.store.db.selectFrom('reset_tokens').select(['kid', 'superseded_at']).where('user_id', '=', otherId).execute();
    assert.deepEqual(rows, [{ kid: newKid, superseded_at: null }], 'one token recorded, under the key that signed it');
    assert.equal((await issuedEventsFor(otherId)).length, 1, 'one issue recorded');
    assert.notEqual(decodeProtectedHeader(oldToken).kid, newKid);
    assert.equal((await reset(oldToken)).statusCode, 200);
    assert.equal((await reset(newToken)).statusCode, 200);
  });
});
