// Reset by token, POST /auth/reset: one transaction that spends the token,
// replaces the password, reinstates the account and revokes its login
// tokens; one answer for every bad token; a policy failure leaves the token
// unspent; of concurrent requests with one token exactly one succeeds.

import assert from 'node:assert/strict';
import { generateKeyPair, SignJWT, decodeJwt, decodeProtectedHeader, base64url } from 'jose';
import { after, before, test } from 'node:test';
import { RESET_TOKEN_ISSUER, signResetToken } from '../../src/password-reset/reset-token.js';
import { describeEachDatabase } from '../kit/databases.js';
import { USER_PASSWORD, startServiceWithAdmin, type TestService } from '../kit/service.js';

const NEW_PASSWORD = 'a brand new passphrase';
const INVALID_BODY = { kind: 'invalid-token', msg: 'The reset token is invalid or expired. Ask an administrator for a new one.' };

describeEachDatabase('reset by token', (target) => {
  let service: TestService;
  let admin: string;
  before(async () => ({ service, admin } = await startServiceWithAdmin(target.dialect)));
  after(() => service?.close());

  const issue = async (sid: string) => (await service.request({ method: 'POST', url: `/rbac-api/v1/users/${sid}/password/reset`, token: admin })).body;
  const reset = (token: string, password = NEW_PASSWORD) =>
    service.request({ method: 'POST', url: '/rbac-api/v1/auth/reset', payload: { token, password } });
  const userRow = (id: string) => service.store.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const tokenRow = (token: string) =>
    service.store.db.selectFrom('reset_tokens').selectAll().where('jti', '=', decodeJwt(token).jti as string).executeTakeFirstOrThrow();
  const canLogin = async (login: string, password: string) =>
    (await service.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: { login, password } })).statusCode === 200;

  test('200: the password is replaced, the token spent, and the response logs no one in', async () => {
    const id = await service.createUser('reset-basic');
    const token = await issue(id);
    const response = await reset(token);
    assert.equal(response.statusCode, 200);
    assert.equal(response.body, '', 'no token or session in the response');
    assert.equal(response.headers['set-cookie'], undefined);
    assert.ok(await canLogin('reset-basic', NEW_PASSWORD));
    assert.ok(!(await canLogin('reset-basic', USER_PASSWORD)), 'the old password stops working');
    assert.notEqual((await tokenRow(token)).spent_at, null);
  });

  test('single use: the same token a second time is 403 invalid-token', async () => {
    const id = await service.createUser('reset-twice');
    const token = await issue(id);
    assert.equal((await reset(token)).statusCode, 200);
    const again = await reset(token, 'yet another passphrase');
    assert.equal(again.statusCode, 403);
    assert.deepEqual(again.json(), INVALID_BODY);
    assert.ok(await canLogin('reset-twice', NEW_PASSWORD), 'the second request changed nothing');
  });

  test('clears is_revoked and the failed-attempt count, and revokes every login token of the user', async () => {
    const id = await service.createUser('reset-reinstate');
    const loginToken = await service.login('reset-reinstate', USER_PASSWORD);
    await service.store.db.updateTable('users').set({ is_revoked: 1, failed_attempts: 7 }).where('id', '=', id).execute();
    await service.store.db.updateTable('users').set({ is_revoked: 0 }).where('id', '=', id).execute();
    assert.equal((await service.request({ method: 'GET', url: '/rbac-api/v1/users/current', token: loginToken })).statusCode, 200);
    await service.store.db.updateTable('users').set({ is_revoked: 1 }).where('id', '=', id).execute();

    assert.equal((await reset(await issue(id))).statusCode, 200);
    const row = await userRow(id);
    assert.equal(row.is_revoked, 0);
    assert.equal(row.failed_attempts, 0);
    assert.equal((await service.request({ method: 'GET', url: '/rbac-api/v1/users/current', token: loginToken })).statusCode, 401);
    const live = await service.store.db.selectFrom('login_tokens').select('token_hash').where('user_id', '=', id).where('revoked_at', 'is', null).execute();
    assert.equal(live.length, 0);
  });

  test('400 invalid-password for a policy violation, and the token stays unspent', async () => {
    const id = await service.createUser('reset-policy');
    const token = await issue(id);
    const weak = await reset(token, 'short');
    assert.equal(weak.statusCode, 400);
    const body = weak.json() as { kind: string; details: { failures: { 'rule-identifier': string }[] } };
    assert.equal(body.kind, 'invalid-password');
    assert.deepEqual(body.details.failures.map((failure) => failure['rule-identifier']).sort(), ['common-password', 'password-minimum-length']);
    assert.equal((await tokenRow(token)).spent_at, null);
    const containsLogin = await reset(token, 'my login is reset-policy!');
    assert.equal(containsLogin.statusCode, 400);
    assert.equal((await reset(token)).statusCode, 200, 'the same token still works with a good password');
  });

  test('every bad token gets the same 403 body, and nothing changes', async () => {
    const id = await service.createUser('reset-forgeries');
    const before = await userRow(id);
    const good = await issue(id);
    const [headerPart, payloadPart, signaturePart] = good.split('.') as [string, string, string];
    const claims = decodeJwt(good);
    const encode = (value: object) => base64url.encode(JSON.stringify(value));

    // Tokens the service's own key signed, but whose row says no: expired, or for another user.
    const expired = await signResetToken(service.keys, id, 3600, Date.now() - 2 * 3600 * 1000);
    await service.store.db
      .insertInto('reset_tokens')
      .values({ jti: expired.claims.jti, user_id: id, kid: expired.claims.kid, issued_at: 0, expires_at: Date.now() + 3600_000, issued_by: null, spent_at: null, superseded_at: null })
      .execute();
    const otherId = await service.createUser('reset-forgeries-other');
    const { privateKey: strangerKey } = await generateKeyPair('RS256');
    const kid = decodeProtectedHeader(good).kid as string;

    const forgeries: Record<string, string> = {
      garbage: 'not a token at all',
      empty: '',
      'alg none': `${encode({ alg: 'none', typ: 'JWT' })}.${payloadPart}.`,
      'tampered payload': `${headerPart}.${encode({ ...claims, sub: otherId })}.${signaturePart}`,
      'tampered signature': `${headerPart}.${payloadPart}.${signaturePart.slice(0, -4)}AAAA`,
      'unknown kid': `${encode({ alg: 'RS256', kid: 'no-such-key' })}.${payloadPart}.${signaturePart}`,
      'another deployment key': await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'RS256', kid }).sign(strangerKey),
      'JWT expired': expired.token,
      'not yet valid': await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid }).setIssuer(RESET_TOKEN_ISSUER).setSubject(id).setJti('x').setIssuedAt().setExpirationTime('1h').setNotBefore('30m').sign(strangerKey),
      'other user in sub (signed)': (await signResetToken(service.keys, otherId, 3600)).token,
      'HS256 signed with the public key': await new SignJWT({ ...claims })
        .setProtectedHeader({ alg: 'HS256', kid })
        .sign(new TextEncoder().encode(JSON.stringify((await service.keys.publicJwks()).keys[0]))),
    };
    for (const [name, token] of Object.entries(forgeries)) {
      const response = await service.request({ method: 'POST', url: '/rbac-api/v1/auth/reset', payload: { token, password: NEW_PASSWORD } });
      if (name === 'empty') {
        assert.ok([400, 403].includes(response.statusCode), name);
        continue;
      }
      assert.equal(response.statusCode, 403, name);
      assert.deepEqual(response.json(), INVALID_BODY, name);
    }
    const afterRow = await userRow(id);
    assert.equal(afterRow.password_hash, before.password_hash, 'the password is unchanged');
    assert.ok(await canLogin('reset-forgeries', USER_PASSWORD));
    assert.equal((await reset(good)).statusCode, 200, 'the genuine token was not spent by the forgeries');
  });

  test('403 when the user is gone or has become remote', async () => {
    const goneId = await service.createUser('reset-gone');
    const goneToken = await issue(goneId);
    assert.equal((await service.request({ method: 'DELETE', url: `/rbac-api/v1/users/${goneId}`, token: admin })).statusCode, 204);
    assert.deepEqual((await reset(goneToken)).json(), INVALID_BODY);

    const remoteId = await service.createUser('reset-now-remote');
    const remoteToken = await issue(remoteId);
    await service.store.db.updateTable('users').set({ is_remote: 1, password_hash: null }).where('id', '=', remoteId).execute();
    const response = await reset(remoteToken);
    assert.equal(response.statusCode, 403);
    assert.deepEqual(response.json(), INVALID_BODY);
    assert.equal((await userRow(remoteId)).password_hash, null);
  });

  test('a token past its expiry in the database is refused', async () => {
    const id = await service.createUser('reset-row-expired');
    const token = await issue(id);
    await service.store.db.updateTable('reset_tokens').set({ expires_at: Date.now() - 1 }).where('jti', '=', decodeJwt(token).jti as string).execute();
    assert.deepEqual((await reset(token)).json(), INVALID_BODY);
  });

  test('50 concurrent requests with one token: exactly one succeeds', async () => {
    const id = await service.createUser('reset-race');
    const token = await issue(id);
    const passwords = Array.from({ length: 50 }, (_, i) => `concurrent passphrase number ${i}`);
    const responses = await Promise.all(passwords.map((password) => reset(token, password)));
    const winners = responses.map((response, i) => (response.statusCode === 200 ? i : -1)).filter((i) => i >= 0);
    assert.equal(winners.length, 1, `statuses: ${responses.map((response) => response.statusCode).join(',')}`);
    assert.ok(responses.every((response) => response.statusCode === 200 || response.statusCode === 403));
    assert.ok(await canLogin('reset-race', passwords[winners[0] as number] as string), "the winner's password is the one stored");
    const used = await service.store.db.selectFrom('audit_events').select('id').where('type', '=', 'reset-token-used').where('subject_id', '=', id).execute();
    assert.equal(used.length, 1);
  });

  test('use and rejection are audited, without the token or the password', async () => {
    const id = await service.createUser('reset-audit');
    const token = await issue(id);
    await reset('garbage-token');
    await reset(token);
    const events = await service.store.db.selectFrom('audit_events').selectAll().where('at', '>=', Date.now() - 60_000).execute();
    const forUser = events.filter((event) => event.subject_id === id);
    assert.ok(forUser.some((event) => event.type === 'reset-token-used' && event.source_address === '127.0.0.1'));
    assert.ok(forUser.some((event) => event.type === 'password-changed'));
    assert.ok(events.some((event) => event.type === 'reset-rejected'));
    for (const event of events) {
      const text = JSON.stringify(event);
      assert.ok(!text.includes(NEW_PASSWORD) && !text.includes(token) && !text.includes('garbage-token'), text);
    }
  });
});
