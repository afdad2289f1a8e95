// GET /rbac-api/v2/users: PE's paged list — offset, limit (default 500,
// lowered to 1000), order, order_by (each of PE's six keys, ties by id),
// filter (case-insensitive substring of login, email or display name, LIKE
// wildcards matched as typed), include_roles; the answer's pagination; who
// may read it; and 400 schema-violation, never a 5xx, for bad parameters.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import type { TestService } from '../kit/service.js';
import { UUID, usersSuite } from './support.js';

interface ListedJson {
  id: string;
  login: string;
  email: string;
  display_name: string;
  role_ids?: number[];
  is_group: boolean;
  is_remote: boolean;
  is_superuser: boolean;
  is_revoked: boolean;
  last_login: string | null;
}
interface PageJson {
  users: ListedJson[];
  pagination: { offset: number; limit: number; order: string; order_by: string; filter?: string; total: number };
}

const LISTED_KEYS = ['display_name', 'email', 'group_ids', 'id', 'inherited_role_ids', 'is_group', 'is_remote', 'is_revoked', 'is_superuser', 'last_login', 'login', 'failed_attempts', 'locked_at', 'lockout_lifts_at', 'password_change_required', 'revoked_by'].sort();

describeEachDatabase('users', (target) => {
  const suite = usersSuite(target);
  let service: TestService;
  let admin: string;
  before(() => ({ service, admin } = suite));
  const { users, actorWith, createRole } = suite;

  const get = (query: string, token = admin) => service.request({ method: 'GET', url: `/rbac-api/v2/users${query}`, token });
  async function page(query: string, token = admin): Promise<PageJson> {
    const response = await get(query, token);
    assert.equal(response.statusCode, 200, response.body);
    return response.json() as PageJson;
  }
  /** Users without a password (no hashing), with the given fields. */
  const make = (login: string, extra: Record<string, unknown> = {}) => service.createUser(login, { password: null, ...extra });
  const rowsMatching = (prefix: string) => service.store.db.selectFrom('users').selectAll().where('login', 'like', `${prefix}%`).execute();

  describe('GET /v2/users', () => {
    test('defaults: every user by id ascending, 500 at most, PE user fields without role_ids, and the pagination PE answers', async () => {
      await make('v2d-one');
      const body = await page('');
      assert.deepEqual(Object.keys(body).sort(), ['pagination', 'users']);
      const total = (await service.store.db.selectFrom('users').select('id').execute()).length;
      assert.deepEqual(body.pagination, { offset: 0, limit: 500, order: 'asc', order_by: 'id', total });
      assert.equal(body.users.length, total);
      for (const user of body.users) {
        assert.deepEqual(Object.keys(user).sort(), LISTED_KEYS);
        assert.match(user.id, UUID);
      }
      const ids = body.users.map((user) => user.id);
      assert.deepEqual(ids, [...ids].sort());
    });

    test('include_roles=true: each user carries role_ids; false or absent: none', async () => {
      const roleId = await createRole([users('reset_password')]);
      const id = await make('v2r-holder', { role_ids: [roleId] });
      await make('v2r-none');
      const withRoles = await page('?filter=v2r-&include_roles=true&order_by=login');
      assert.deepEqual(
        withRoles.users.map((user) => [user.login, user.role_ids]),
        [['v2r-holder', [roleId]], ['v2r-none', []]],
      );
      assert.deepEqual(Object.keys(withRoles.users[0] ?? {}).sort(), [...LISTED_KEYS, 'role_ids'].sort());
      assert.equal(withRoles.users[0]?.id, id);
      for (const query of ['?filter=v2r-&include_roles=false', '?filter=v2r-', '?filter=v2r-&include_roles="false"']) {
        for (const user of (await page(query)).users) assert.equal('role_ids' in user, false, query);
      }
      assert.deepEqual((await page('?filter=v2r-&include_roles="true"&order_by=login')).users[0]?.role_ids, [roleId]);
    });

    test('offset and limit page through a stable order: no user twice, none skipped, total the same on every page', async () => {
      for (let i = 0; i < 7; i++) await make(`v2p-${i}`, { email: 'same@example.com', display_name: 'Same Name' });
      for (const orderBy of ['email', 'display_name', 'last_login', 'id', 'login', 'creation_date']) {
        for (const order of ['asc', 'desc']) {
          const whole = await page(`?filter=v2p-&order_by=${orderBy}&order=${order}`);
          const seen: string[] = [];
          for (let offset = 0; offset < 9; offset += 3) {
            const part = await page(`?filter=v2p-&order_by=${orderBy}&order=${order}&limit=3&offset=${offset}`);
            assert.deepEqual(part.pagination, { offset, limit: 3, order, order_by: orderBy, filter: 'v2p-', total: 7 });
            seen.push(...part.users.map((user) => user.id));
          }
          assert.deepEqual(seen, whole.users.map((user) => user.id), `${orderBy} ${order}`);
          assert.equal(new Set(seen).size, 7);
        }
      }
      const beyond = await page('?filter=v2p-&offset=100');
      assert.deepEqual(beyond.users, []);
      assert.equal(beyond.pagination.total, 7);
    });

    test('each order_by sorts by its field (text ignoring case, never-logged-in first in asc), ties by id, desc the exact reverse', async () => {
      const specs = [
        { login: 'v2o-Charlie', email: 'b@example.com', display_name: 'zed', last_login: 3000 },
        { login: 'v2o-alpha', email: 'C@example.com', display_name: 'Yan', last_login: null },
        { login: 'v2o-Bravo', email: 'a@example.com', display_name: 'xavier', last_login: 1000 },
        { login: 'v2o-delta', email: 'a@example.com', display_name: 'Yan', last_login: null },
      ];
      for (const [i, spec] of specs.entries()) {
        const id = await make(spec.login, { email: spec.email, display_name: spec.display_name });
        await service.store.db.updateTable('users').set({ last_login: spec.last_login, created_at: 10_000 - i }).where('id', '=', id).execute();
      }
      const rows = await rowsMatching('v2o-');
      const keyOf: Record<string, (row: (typeof rows)[number]) => string | number> = {
        login: (row) => row.login.toLowerCase(),
        email: (row) => row.email.toLowerCase(),
        display_name: (row) => row.display_name.toLowerCase(),
        last_login: (row) => row.last_login ?? -1,
        id: (row) => row.id,
        creation_date: (row) => row.created_at,
      };
      for (const [orderBy, key] of Object.entries(keyOf)) {
        const expected = [...rows]
          .sort((a, b) => {
            const [x, y] = [key(a), key(b)];
            return x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : 1;
          })
          .map((row) => row.login);
        assert.deepEqual((await page(`?filter=v2o-&order_by=${orderBy}`)).users.map((user) => user.login), expected, `${orderBy} asc`);
        assert.deepEqual((await page(`?filter=v2o-&order_by=${orderBy}&order=desc`)).users.map((user) => user.login), [...expected].reverse(), `${orderBy} desc`);
        assert.deepEqual((await page(`?filter=v2o-&order_by="${orderBy}"&order="desc"`)).users.map((user) => user.login), [...expected].reverse(), 'PE-style quoted values');
      }
      // A sanity check of the fixture: creation_date is not login order.
      assert.deepEqual((await page('?filter=v2o-&order_by=creation_date')).users.map((user) => user.login), ['v2o-delta', 'v2o-Bravo', 'v2o-alpha', 'v2o-Charlie']);
    });

    test('filter: a case-insensitive substring of login, email or display name; wildcards and quotes are plain text', async () => {
      await make('v2f-login-match');
      await make('v2f-plain', { email: 'someone@MATCHING.example', display_name: 'Nothing' });
      await make('v2f-named', { email: 'x@example.org', display_name: 'Has MaTcH inside' });
      await make('v2f-percent', { display_name: '100% sure' });
      await make('v2f-under', { display_name: 'snake_case' });
      await make('v2f-slash', { display_name: 'back\\slash' });
      const logins = async (filter: string) => (await page(`?filter=${encodeURIComponent(filter)}&order_by=login`)).users.map((user) => user.login);
      assert.deepEqual(await logins('MATCH'), ['v2f-login-match', 'v2f-named', 'v2f-plain']);
      assert.deepEqual(await logins('%'), ['v2f-percent']);
      assert.deepEqual(await logins('_'), ['api_user', 'v2f-under'], "PE's api_user has one too");
      assert.deepEqual(await logins('\\'), ['v2f-slash']);
      assert.deepEqual(await logins('0%'), ['v2f-percent']);
      assert.deepEqual(await logins('e_c'), ['v2f-under']);
      assert.deepEqual(await logins('"match"'), ['v2f-login-match', 'v2f-named', 'v2f-plain'], 'PE-style quoted value');
      assert.deepEqual(await logins('no such user anywhere'), []);
      const body = await page(`?filter=${encodeURIComponent('%')}`);
      assert.deepEqual(body.pagination, { offset: 0, limit: 500, order: 'asc', order_by: 'id', filter: '%', total: 1 });
      assert.equal((await page('?filter=')).pagination.total, (await page('')).pagination.total, 'an empty filter matches everyone');
    });

    test('a limit above 1000 is lowered to 1000, and the answer says so', async () => {
      assert.equal((await page('?limit=5000')).pagination.limit, 1000);
      assert.equal((await page('?limit=999999999')).pagination.limit, 1000);
      assert.equal((await page('?limit=1')).users.length, 1);
    });

    test('bad parameters are 400 schema-violation on either database', async () => {
      const bad = [
        'limit=-1', 'limit=0', 'limit=1e20', 'limit=100000000000000000000', 'limit=1.5', 'limit=abc', 'limit=', 'limit=1&limit=2',
        'offset=-1', 'offset=1e3', 'offset=99999999999', 'offset=x',
        'order=up', 'order=ASC', 'order="asc', 'order_by=password_hash', 'order_by=login_key', 'order_by=login;drop', 'order_by=',
        'include_roles=yes', 'include_roles=1', `filter=${'x'.repeat(300)}`, 'filter=a%00b', 'colour=blue',
      ];
      for (const query of bad) assertError(await get(`?${query}`), 400, 'schema-violation');
    });

    test('who may read: superusers and holders of any users permission; others 403, anonymous 401', async () => {
      const nobody = await actorWith('v2a-nobody', []);
      assertError(await get('', nobody.token), 403, 'permission-denied');
      assertError(await get('?filter=v2a-', nobody.token), 403, 'permission-denied');
      const narrow = await actorWith('v2a-narrow', [users('reset_password', nobody.id)]);
      assert.ok((await page('?filter=v2a-', narrow.token)).users.some((user) => user.login === 'v2a-nobody'));
      assertError(await service.request({ method: 'GET', url: '/rbac-api/v2/users' }), 401, 'user-unauthenticated');
      assert.equal((await service.request({ method: 'GET', url: `/rbac-api/v2/users?token=${encodeURIComponent(admin)}&limit=1` })).statusCode, 200, 'the token as a query parameter');
    });
  });
});
