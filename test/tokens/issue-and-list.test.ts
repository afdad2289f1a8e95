// POST /tokens (a login token for the caller) and GET /users/:sid/tokens (a
// user's live tokens' metadata).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { USER_PASSWORD } from '../kit/service.js';
import { UNKNOWN_ID, UUID, usersSuite } from '../users/support.js';
import { V1, newToken, tokenRow, works } from './support.js';

describeEachDatabase('POST /tokens and GET /users/:sid/tokens', (target) => {
  const suite = usersSuite(target, { tokenMaximumLifetimeSeconds: 30 * 86400 });
  const list = (id: string, token: string, query = '') => suite.service.request({ method: 'GET', url: `${V1}/users/${id}/tokens${query}`, token });

  describe('POST /tokens', () => {
    test('gives the caller a new working token carrying label, description and client; the calling one keeps working', async () => {
      const { id, token } = await suite.actorWith('issuer', []);
      const started = Date.now();
      const issued = await newToken(suite.service, token, { lifetime: '2h', label: 'ci', description: 'for the pipeline', client: 'curl' });
      assert.notEqual(issued, token);
      assert.ok(Buffer.from(issued, 'base64url').length >= 32);
      assert.ok(await works(suite.service, issued));
      assert.ok(await works(suite.service, token));
      const row = await tokenRow(suite.service, issued);
      assert.equal(row.user_id, id);
      assert.deepEqual([row.label, row.description, row.client], ['ci', 'for the pipeline', 'curl']);
      assert.ok(Math.abs((row.expires_at as number) - started - 2 * 3600_000) < 5000);
      assert.match(row.id, UUID);
    });

    test('lifetime as POST /auth/token: token-auth-lifetime by default, capped at token-maximum-lifetime, 0 is the maximum; an empty body is fine', async () => {
      const expiry = async (payload?: Record<string, unknown>) => {
        const started = Date.now();
        const response = await suite.service.request({ method: 'POST', url: `${V1}/tokens`, token: suite.admin, ...(payload ? { payload } : {}) });
        assert.equal(response.statusCode, 200, response.body);
        const row = await tokenRow(suite.service, (response.json() as { token: string }).token);
        return Math.round(((row.expires_at as number) - started) / 1000);
      };
      const near = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) <= 2, `${actual} ≈ ${expected}`);
      near(await expiry(), 3600);
      near(await expiry({}), 3600);
      near(await expiry({ lifetime: '1y' }), 30 * 86400);
      near(await expiry({ lifetime: 0 }), 30 * 86400);
      near(await expiry({ lifetime: '15m' }), 900);
    });

    test('needs a token; bad bodies are 400 and issue nothing', async () => {
      assertError(await suite.service.request({ method: 'POST', url: `${V1}/tokens`, payload: {} }), 401, 'user-unauthenticated');
      const before = (await suite.service.store.db.selectFrom('login_tokens').select('id').execute()).length;
      for (const payload of [{ lifetime: 'forever' }, { login: 'admin' }, { password: USER_PASSWORD }, { label: 'x'.repeat(300) }, { lifetime: -1 }, { label: 'a\u0000b' }, [1]]) {
        const response = await suite.service.request({ method: 'POST', url: `${V1}/tokens`, token: suite.admin, payload: payload as never });
        assertError(response, 400, 'schema-violation');
      }
      assert.equal((await suite.service.store.db.selectFrom('login_tokens').select('id').execute()).length, before);
    });

    test('a revoked caller gets no new token', async () => {
      const { id, token } = await suite.actorWith('revoked-issuer', []);
      assert.equal((await suite.putUser(id, suite.admin, { is_revoked: true })).statusCode, 200);
      const response = await suite.service.request({ method: 'POST', url: `${V1}/tokens`, token, payload: {} });
      assert.equal(response.statusCode, 401, response.body);
      const live = await suite.service.store.db.selectFrom('login_tokens').select('id').where('user_id', '=', id).where('revoked_at', 'is', null).execute();
      assert.deepEqual(live, []);
    });
  });

  describe('GET /users/:sid/tokens', () => {
    test("lists the user's live tokens with PE's keys, never a token or its hash; revoked and expired ones are left out", async () => {
      const { id, token } = await suite.actorWith('lister', []);
      const labelled = await newToken(suite.service, token, { label: 'laptop', description: 'my laptop', client: 'puppet-access' });
      const revoked = await newToken(suite.service, token, { label: 'old' });
      const expired = await newToken(suite.service, token, { label: 'expired' });
      await suite.service.request({ method: 'DELETE', url: `${V1}/tokens/current`, token: revoked });
      await suite.service.store.db.updateTable('login_tokens').set({ expires_at: Date.now() - 1 }).where('id', '=', (await tokenRow(suite.service, expired)).id).execute();

      const response = await list(id, token);
      assert.equal(response.statusCode, 200, response.body);
      for (const secret of [token, labelled, revoked, expired]) assert.ok(!response.body.includes(secret));
      const rows = await suite.service.store.db.selectFrom('login_tokens').select('token_hash').where('user_id', '=', id).execute();
      for (const row of rows) assert.ok(!response.body.includes(row.token_hash), 'no hash');
      const body = response.json() as { items: Record<string, unknown>[]; pagination: Record<string, unknown> };
      assert.deepEqual(body.pagination, { limit: null, offset: 0, order_by: 'creation_date', order: 'asc', total: 2 });
      assert.equal(body.items.length, 2);
      for (const item of body.items) {
        assert.deepEqual(Object.keys(item).sort(), ['client', 'creation_date', 'description', 'expiration_date', 'id', 'label', 'last_active_date']);
        assert.match(item.id as string, UUID);
        for (const key of ['creation_date', 'expiration_date', 'last_active_date']) assert.match(item[key] as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      }
      const laptop = body.items.find((item) => item.label === 'laptop');
      assert.deepEqual([laptop?.description, laptop?.client, laptop?.id], ['my laptop', 'puppet-access', (await tokenRow(suite.service, labelled)).id]);
    });

    test('limit, offset, order_by and order', async () => {
      const { id, token } = await suite.actorWith('pager', []);
      const base = Date.now() - 10_000;
      const clients = ['b', 'c', 'a', 'd'];
      for (const [i, client] of clients.entries()) {
        const issued = await newToken(suite.service, token, { client, lifetime: `${100 - i * 10}m` });
        await suite.service.store.db.updateTable('login_tokens').set({ created_at: base + i * 1000, last_active: base + (3 - i) * 1000 }).where('id', '=', (await tokenRow(suite.service, issued)).id).execute();
      }
      // The caller's own login token (client null, created now) is live too: five in all.
      const clientsOf = async (query: string) => {
        const response = await list(id, token, query);
        assert.equal(response.statusCode, 200, `${query}: ${response.body}`);
        const body = response.json() as { items: { client: string | null }[]; pagination: { total: number } };
        assert.equal(body.pagination.total, 5);
        return body.items.map((item) => item.client);
      };
      assert.deepEqual(await clientsOf(''), ['b', 'c', 'a', 'd', null]);
      assert.deepEqual(await clientsOf('?order=desc'), [null, 'd', 'a', 'c', 'b']);
      assert.deepEqual(await clientsOf('?order_by=client'), ['a', 'b', 'c', 'd', null]);
      assert.deepEqual(await clientsOf('?order_by=expiration_date'), [null, 'd', 'a', 'c', 'b']);
      assert.deepEqual(await clientsOf('?order_by=last_active_date&order=asc'), ['d', 'a', 'c', 'b', null]);
      assert.deepEqual(await clientsOf('?limit=2'), ['b', 'c']);
      assert.deepEqual(await clientsOf('?limit=2&offset=2'), ['a', 'd']);
      assert.deepEqual(await clientsOf('?offset=4'), [null]);
      const page = (await list(id, token, '?limit=2&offset=1&order_by=client&order=desc')).json() as { pagination: unknown };
      assert.deepEqual(page.pagination, { limit: 2, offset: 1, order_by: 'client', order: 'desc', total: 5 });
    });

    test('bad parameters are 400, never 5xx', async () => {
      for (const query of ['?limit=-1', '?limit=abc', '?offset=1.5', '?order_by=token', '?order=up', '?limit=99999999999', '?extra=1', '?limit=1%00']) {
        const response = await list(suite.adminId, suite.admin, query);
        assert.equal(response.statusCode, 400, `${query}: ${response.body}`);
      }
      assertError(await list('not-a-uuid', suite.admin), 400, 'invalid-uuid');
    });

    test("who may list: the user itself, or users:disable on that user (a superuser's only by superusers); others get 403 whether or not the user exists", async () => {
      const target = await suite.actorWith('list-target', []);
      const stranger = await suite.actorWith('list-stranger', [suite.users('edit'), suite.users('reset_password')]);
      const disabler = await suite.actorWith('list-disabler', [suite.users('disable')]);
      const narrow = await suite.actorWith('list-narrow', [suite.users('disable', target.id)]);

      assert.equal((await list(target.id, target.token)).statusCode, 200);
      assert.equal((await list(target.id, disabler.token)).statusCode, 200);
      assert.equal((await list(target.id, narrow.token)).statusCode, 200);
      assert.equal((await list(suite.adminId, suite.admin)).statusCode, 200);
      assert.equal((await list(target.id, suite.admin)).statusCode, 200);

      assertError(await list(target.id, stranger.token), 403, 'permission-denied');
      assertError(await list(UNKNOWN_ID, stranger.token), 403, 'permission-denied');
      assertError(await list(disabler.id, narrow.token), 403, 'permission-denied');
      assertError(await list(suite.adminId, disabler.token), 403, 'permission-denied');
      assertError(await list(UNKNOWN_ID, disabler.token), 404, 'not-found');
      assertError(await list(target.id, 'x'.repeat(43)), 401, 'user-unauthenticated');
    });
  });
});
