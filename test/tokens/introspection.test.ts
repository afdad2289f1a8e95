// POST /rbac-api/v2/auth/token/authenticate (token introspection), and
// last_active: written at most about once a minute per token by requests, or
// now when introspection asks.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ACTIVITY_INTERVAL_MS, authenticateLoginToken } from '../../src/login/login-tokens.js';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { ADMIN_PASSWORD, USER_PASSWORD, startTestService } from '../kit/service.js';
import { usersSuite } from '../users/support.js';
import { V1, V2, newToken, tokenRow } from './support.js';

const INTROSPECTION_KEYS = [
  'client', 'creation', 'description', 'display_name', 'email', 'expiration', 'id', 'is_group', 'is_remote', 'is_revoked', 'is_superuser',
  'label', 'last_active', 'last_login', 'login', 'role_ids', 'timeout', 'user_id',
];

describeEachDatabase('token introspection and last activity', (target) => {
  const suite = usersSuite(target);
  const introspect = (payload: unknown) => suite.service.request({ method: 'POST', url: `${V2}/auth/token/authenticate`, payload: payload as never });
  const setLastActive = async (token: string, at: number) =>
    suite.service.store.db.updateTable('login_tokens').set({ last_active: at }).where('id', '=', (await tokenRow(suite.service, token)).id).execute();

  describe('POST /rbac-api/v2/auth/token/authenticate', () => {
    test("answers, without authentication, the user's fields and the token's, with PE's keys", async () => {
      const role = await suite.createRole([suite.users('edit')]);
      const { id } = await suite.actorWith('introspected', []);
      await suite.putUser(id, suite.admin, { role_ids: [role] });
      const token = await newToken(suite.service, await suite.service.login('introspected', USER_PASSWORD), { label: 'svc', description: 'a service', client: 'curl', lifetime: '2h' });
      const row = await tokenRow(suite.service, token);
      const response = await introspect({ token });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.headers['cache-control'], 'no-store');
      const body = response.json() as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), INTROSPECTION_KEYS);
      assert.deepEqual(
        { id: body.id, user_id: body.user_id, login: body.login, email: body.email, role_ids: body.role_ids, is_revoked: body.is_revoked, is_superuser: body.is_superuser, is_group: body.is_group },
        { id, user_id: id, login: 'introspected', email: 'introspected@example.com', role_ids: [role], is_revoked: false, is_superuser: false, is_group: false },
      );
      assert.deepEqual([body.label, body.description, body.client, body.timeout], ['svc', 'a service', 'curl', null]);
      assert.equal(body.creation, new Date(row.created_at).toISOString());
      assert.equal(body.expiration, new Date(row.expires_at as number).toISOString());
      assert.equal(body.last_active, new Date(row.last_active).toISOString());
      assert.ok(!response.body.includes(token) && !response.body.includes(row.token_hash));
    });

    test('400 invalid-token for anything that is no token of ours; bad bodies are 400, never 5xx', async () => {
      for (const token of ['x'.repeat(43), 'not a token!', '', 'a'.repeat(4000), 'short']) assertError(await introspect({ token }), 400, 'invalid-token');
      for (const payload of [{}, { token: 1 }, { token: null }, { token: 'x'.repeat(43), 'update_last_activity?': 'yes' }, { token: 'x'.repeat(43), extra: 1 }, [], { token: 'a\u0000b' }, { token: 'x'.repeat(5000) }]) {
        const response = await introspect(payload);
        assert.equal(response.statusCode, 400, `${JSON.stringify(payload).slice(0, 60)}: ${response.body}`);
      }
      assertError(await suite.service.request({ method: 'POST', url: `${V2}/auth/token/authenticate` }), 400, 'schema-violation');
    });

    test('403 token-revoked at once when the token, or its user, is revoked; 403 token-expired after its expiry', async () => {
      const { id } = await suite.actorWith('short-lived', []);
      const login = () => suite.service.login('short-lived', USER_PASSWORD);
      const loggedOut = await login();
      assert.equal((await introspect({ token: loggedOut })).statusCode, 200);
      await suite.service.request({ method: 'DELETE', url: `${V1}/tokens/current`, token: loggedOut });
      assertError(await introspect({ token: loggedOut }), 403, 'token-revoked');

      const named = await login();
      assert.equal((await suite.service.request({ method: 'DELETE', url: `${V2}/tokens/${named}`, token: suite.admin })).statusCode, 204);
      assertError(await introspect({ token: named }), 403, 'token-revoked');

      const expired = await login();
      await suite.service.store.db.updateTable('login_tokens').set({ expires_at: Date.now() - 1 }).where('id', '=', (await tokenRow(suite.service, expired)).id).execute();
      assertError(await introspect({ token: expired }), 403, 'token-expired');

      const ofRevokedUser = await login();
      assert.equal((await introspect({ token: ofRevokedUser })).statusCode, 200);
      // Even were its token row left live, a revoked user's token is refused.
      await suite.service.store.db.updateTable('users').set({ is_revoked: 1 }).where('id', '=', id).execute();
      assertError(await introspect({ token: ofRevokedUser }), 403, 'token-revoked');
    });

    test('update_last_activity? true records this moment; false or absent writes nothing', async () => {
      const token = await suite.service.login('admin', ADMIN_PASSWORD);
      const long = Date.now() - 3600_000;
      await setLastActive(token, long);
      assert.equal((await introspect({ token, 'update_last_activity?': false })).json().last_active, new Date(long).toISOString());
      assert.equal((await introspect({ token })).json().last_active, new Date(long).toISOString());
      assert.equal((await tokenRow(suite.service, token)).last_active, long);
      const before = Date.now();
      const answer = (await introspect({ token, 'update_last_activity?': true })).json() as { last_active: string };
      const recorded = (await tokenRow(suite.service, token)).last_active;
      assert.ok(recorded >= before && recorded <= Date.now());
      assert.equal(answer.last_active, new Date(recorded).toISOString());
    });
  });

  describe('last_active on authenticated requests', () => {
    test('a request writes it only when the recorded time is over a minute old', async () => {
      const token = await suite.service.login('admin', ADMIN_PASSWORD);
      const current = () => suite.service.request({ method: 'GET', url: `${V1}/users/current`, token });
      const recent = Date.now() - ACTIVITY_INTERVAL_MS + 5_000;
      await setLastActive(token, recent);
      assert.equal((await current()).statusCode, 200);
      assert.equal((await tokenRow(suite.service, token)).last_active, recent, 'under a minute old: not written');
      const stale = Date.now() - ACTIVITY_INTERVAL_MS - 1_000;
      await setLastActive(token, stale);
      const before = Date.now();
      assert.equal((await current()).statusCode, 200);
      const written = (await tokenRow(suite.service, token)).last_active;
      assert.ok(written >= before, 'over a minute old: brought up to date');
      assert.equal((await current()).statusCode, 200);
      assert.equal((await tokenRow(suite.service, token)).last_active, written, 'and not again within the minute');
    });

    test('with the clock under control: one write per interval, however many requests', async () => {
      const token = await suite.service.login('admin', ADMIN_PASSWORD);
      const row = await tokenRow(suite.service, token);
      const start = row.last_active;
      const db = suite.service.store.db;
      for (const offset of [1, 30_000, ACTIVITY_INTERVAL_MS]) {
        await authenticateLoginToken(db, token, start + offset);
        assert.equal((await tokenRow(suite.service, token)).last_active, start, `+${offset} ms`);
      }
      await authenticateLoginToken(db, token, start + ACTIVITY_INTERVAL_MS + 1);
      assert.equal((await tokenRow(suite.service, token)).last_active, start + ACTIVITY_INTERVAL_MS + 1);
      // Concurrent requests past the next interval: one of them writes.
      const next = start + 2 * ACTIVITY_INTERVAL_MS + 2;
      await Promise.all([next, next + 5, next + 10].map((now) => authenticateLoginToken(db, token, now)));
      const written = (await tokenRow(suite.service, token)).last_active;
      assert.ok([next, next + 5, next + 10].includes(written), `${written}`);
    });
  });
});

// CONTRACT §10: a service behind this one asks from one address for all its
// users, so introspection is under no per-address limit, and junk tokens cost
// a SHA-256 and one index lookup — never a password hash, never a refusal of
// the valid tokens asked for from the same address.
describeEachDatabase('token introspection is not under the password endpoints\' per-address limit', (target) => {
  let service: Awaited<ReturnType<typeof startTestService>>;
  before(async () => {
    service = await startTestService(target.dialect, { rateLimitPerAddress: 5 });
  });
  after(() => service?.close());

  const address = '192.0.2.40';
  const introspect = (token: string) => service.request({ method: 'POST', url: `${V2}/auth/token/authenticate`, payload: { token }, remoteAddress: address });

  test('125 junk tokens from one address: each 400 invalid-token, no hash, and valid tokens from it still answer 200', async () => {
    const token = await service.login('admin', ADMIN_PASSWORD);
    const hashes = { ...service.hasher.counts };
    // Token-shaped junk (43 base64url characters): each reaches the lookup by hash.
    for (let i = 0; i < 125; i++) assertError(await introspect(`junk${String(i).padStart(3, '0')}${'J'.repeat(36)}`), 400, 'invalid-token');
    assert.deepEqual(service.hasher.counts, hashes, 'no password hash for a junk token');
    for (let i = 0; i < 10; i++) assert.equal((await introspect(token)).statusCode, 200, `valid token, check ${i}`);
  });

  test('the password endpoints\' per-address limit neither counts introspections nor stops them', async () => {
    const token = await service.login('admin', ADMIN_PASSWORD);
    for (let i = 0; i < 20; i++) assert.equal((await introspect(token)).statusCode, 200);
    const login = (password: string) => service.request({ method: 'POST', url: `${V1}/auth/token`, payload: { login: 'nobody-here', password }, remoteAddress: address });
    for (let i = 0; i < 5; i++) assertError(await login(`wrong password ${i}`), 401, 'user-unauthenticated');
    assertError(await login('wrong password 6'), 429, 'rate-limited');
    assert.equal((await introspect(token)).statusCode, 200, 'the address is limited on logins, not on introspection');
  });
});
