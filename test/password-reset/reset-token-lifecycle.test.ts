// A reset token's life ends with the state it was issued for: the user
// changing their own password, an administrator revoking the user, and the
// admin password reset script cancel the user's unused tokens (and say so in
// the audit trail); a token issued after a revocation still reinstates. A
// token is bound to the key that signed it, and only its one canonical
// spelling is accepted.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SignJWT, decodeJwt, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { RESET_TOKEN_ISSUER } from '../../src/password-reset/reset-token.js';
import { resetAdminPassword } from '../../src/users/admin-password.js';
import { describeEachDatabase } from '../kit/databases.js';
import { USER_PASSWORD, startServiceWithAdmin, type TestService } from '../kit/service.js';

const NEW_PASSWORD = 'a brand new passphrase';
const OPERATOR = { actor: null, sourceAddress: null };

interface Event {
  type: string;
  subject: { id: string | null; login: string | null } | null;
  details: Record<string, unknown>;
}

describeEachDatabase('the life of a reset token', (target) => {
  let service: TestService;
  let admin: string;
  before(async () => ({ service, admin } = await startServiceWithAdmin(target.dialect)));
  after(() => service?.close());

  const issue = async (sid: string) => {
    const response = await service.request({ method: 'POST', url: `/rbac-api/v1/users/${sid}/password/reset`, token: admin });
    assert.equal(response.statusCode, 201, response.body);
    return response.body;
  };
  const reset = (token: string, password = NEW_PASSWORD) => service.request({ method: 'POST', url: '/rbac-api/v1/auth/reset', payload: { token, password } });
  const revoke = (sid: string, revoked: boolean) =>
    service.request({ method: 'PUT', url: `/rbac-api/v1/users/${sid}`, token: admin, payload: { is_revoked: revoked } });
  const userOf = async (sid: string) => (await service.request({ method: 'GET', url: `/rbac-api/v1/users/${sid}`, token: admin })).json() as { is_revoked: boolean };
  const cancellations = async (sid: string) => {
    const { events } = (await service.request({ method: 'GET', url: '/rbac-api/v1/events?limit=1000', token: admin })).json() as { events: Event[] };
    return events.filter((event) => event.type === 'reset-tokens-cancelled' && event.subject?.id === sid);
  };

  test("changing one's own password cancels the unused reset token, and the audit trail says so", async () => {
    const id = await service.createUser('life-change');
    const token = await issue(id);
    const own = await service.login('life-change', USER_PASSWORD);
    const changed = await service.request({
      method: 'PUT',
      url: '/rbac-api/v1/users/current/password',
      token: own,
      payload: { current_password: USER_PASSWORD, password: 'my own choice of passphrase' },
    });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.equal((await reset(token)).statusCode, 403, 'the old token no longer sets the password');
    assert.ok(await service.login('life-change', 'my own choice of passphrase'));
    const [event] = await cancellations(id);
    assert.deepEqual(event?.details, { reason: 'password-changed', count: 1 });
  });

  test('revoking a user cancels its unused reset token: using it neither reinstates nor sets the password', async () => {
    const id = await service.createUser('life-revoke');
    const token = await issue(id);
    assert.equal((await revoke(id, true)).statusCode, 200);
    assert.equal((await reset(token)).statusCode, 403);
    assert.equal((await userOf(id)).is_revoked, true, 'still revoked');
    const refused = await service.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: { login: 'life-revoke', password: NEW_PASSWORD } });
    assert.equal(refused.statusCode, 401);
    assert.deepEqual((await cancellations(id))[0]?.details, { reason: 'account-revoked', count: 1 });
  });

  test('a token issued after the revocation still reinstates the user (PE: that is what users:reset_password means)', async () => {
    const id = await service.createUser('life-after-revoke');
    assert.equal((await revoke(id, true)).statusCode, 200);
    const token = await issue(id);
    assert.equal((await reset(token)).statusCode, 200);
    assert.equal((await userOf(id)).is_revoked, false);
    assert.ok(await service.login('life-after-revoke', NEW_PASSWORD));
  });

  test("a retired key cannot sign a working copy of a live token's claims: the row's kid must match, and the key be in service", async () => {
    const id = await service.createUser('life-forged');
    const oldKid = (await service.keys.activeKey()).kid;
    await service.keys.rotate(OPERATOR, Date.now() + 1);
    const live = await issue(id);
    assert.notEqual(decodeProtectedHeader(live).kid, oldKid);
    await service.keys.retire(oldKid, OPERATOR);
    // The retired key leaked: whoever holds it signs the live token's claims with it.
    const row = await service.store.db.selectFrom('signing_keys').select('private_jwk').where('kid', '=', oldKid).executeTakeFirstOrThrow();
    const leaked = await importJWK(JSON.parse(row.private_jwk) as JWK, 'RS256');
    const claims = decodeJwt(live);
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: oldKid, typ: 'JWT' })
      .setIssuer(RESET_TOKEN_ISSUER)
      .setSubject(id)
      .setIssuedAt(claims.iat as number)
      .setExpirationTime(claims.exp as number)
      .setJti(claims.jti as string)
      .sign(leaked);
    assert.equal((await reset(forged, 'an attacker chose this one')).statusCode, 403);
    assert.equal((await reset(live)).statusCode, 200, 'the real token still works');
  });

  test('only the canonical spelling of a token is accepted: other spellings of the same bytes are 403 and leave it unspent', async () => {
    const id = await service.createUser('life-spelling');
    const token = await issue(id);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const [header, payload, signature] = token.split('.') as [string, string, string];
    // A 256-byte signature is 342 characters: the last one carries 4 bits no byte uses.
    const last = alphabet.indexOf(signature.at(-1) as string);
    const sameBytes = `${signature.slice(0, -1)}${alphabet[(last & 0b110000) | ((last + 1) & 0b1111)]}`;
    assert.deepEqual(Buffer.from(sameBytes, 'base64url'), Buffer.from(signature, 'base64url'));
    for (const spelling of [`${header}.${payload}.${sameBytes}`, `${token}=`, `${header}.${payload}.${signature}==`, ` ${token}`, `${token}\n`]) {
      const response = await reset(spelling);
      assert.equal(response.statusCode, 403, JSON.stringify(spelling.slice(-4)));
      assert.equal((response.json() as { kind: string }).kind, 'invalid-token');
    }
    assert.equal((await reset(token)).statusCode, 200);
  });

  // Last: the script revokes the admin's login tokens, which the other tests use.
  test("the admin password reset script cancels admin's unused reset tokens", async () => {
    const adminId = (await service.request({ method: 'GET', url: '/rbac-api/v1/users/current', token: admin })).json() as { id: string };
    const token = await issue(adminId.id);
    // A password admin never had: the history refuses its current one.
    const scripted = 'a fresh superuser passphrase';
    await resetAdminPassword({ db: service.store.db, hasher: service.hasher, rules: service.config }, scripted, { operator: 'test' });
    admin = await service.login('admin', scripted);
    assert.equal((await reset(token, 'a takeover passphrase here')).statusCode, 403);
    assert.ok(await service.login('admin', scripted), "admin's password is the script's");
    assert.deepEqual((await cancellations(adminId.id))[0]?.details, { reason: 'admin-password-reset-by-script', count: 1 });
  });
});
