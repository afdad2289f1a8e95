// Every list a client can send is bounded (CONTRACT §7): a request names at
// most 1,000 ids — user_ids, group_ids, role_ids, permissions, the names of
// DELETE /rbac-api/v2/tokens in the query or the body (and both together),
// GET /groups' ?id= filter. Each list of each route is sent with exactly
// 1,000 entries, which works, and with 1,001, which is 400 schema-violation
// and changes nothing. The users, roles and groups named exist (inserted
// straight into the store), so a request at the limit really does its work.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, test } from 'node:test';
import { describeEachDatabase, insertUser } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { usersSuite } from '../users/support.js';

const LIMIT = 1000;
const V1 = '/rbac-api/v1';
const V2 = '/rbac-api/v2';

describeEachDatabase('lists in requests are bounded at 1,000', (target) => {
  const suite = usersSuite(target);
  // LIMIT + 1 of each, existing.
  let userIds: string[];
  let logins: string[];
  let roleIds: number[];
  let groupIds: string[];
  let role: number;
  let group: string;
  let member: string;

  before(async () => {
    const { db } = suite.service.store;
    logins = Array.from({ length: LIMIT + 1 }, (_, i) => `bounded-${i}`);
    userIds = [];
    for (const login of logins) userIds.push(await insertUser(db, login));
    roleIds = [];
    for (let i = 0; i <= LIMIT; i++) {
      const row = await db.insertInto('roles').values({ display_name: `bounded role ${i}`, description: '', permissions: '[]' }).returning('id').executeTakeFirstOrThrow();
      roleIds.push(row.id);
    }
    groupIds = Array.from({ length: LIMIT + 1 }, () => randomUUID());
    await db
      .insertInto('groups')
      .values(groupIds.map((id, i) => ({ id, login: `bounded-group-${i}`, login_key: `bounded-group-${i}`, display_name: `bounded group ${i}`, directory_id: null, created_at: Date.now() })))
      .execute();
    role = roleIds[0] as number;
    group = groupIds[0] as string;
    member = userIds[0] as string;
  });

  const send = (method: string, url: string, payload?: unknown) =>
    suite.service.request({ method: method as 'POST', url, token: suite.admin, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
  /** How many rows each table a refused request could have written holds. */
  const counts = async () => {
    const { db } = suite.service.store;
    const tables = ['users', 'roles', 'user_roles', 'groups', 'group_roles', 'login_tokens', 'audit_events'] as const;
    return Object.fromEntries(await Promise.all(tables.map(async (table) => [table, (await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n])));
  };
  const revokedTokens = async () => Number((await suite.service.store.db.selectFrom('login_tokens').select((eb) => eb.fn.countAll().as('n')).where('revoked_at', 'is not', null).executeTakeFirstOrThrow()).n);
  const permissions = (n: number) => Array.from({ length: n }, () => ({ object_type: 'users', action: 'edit', instance: randomUUID() }));
  const labels = (n: number) => Array.from({ length: n }, (_, i) => `l${i}`);
  let created = 0;

  /** Each route's list, as a body (or URL) with `n` entries, and the status that works at the limit. */
  const lists: { name: string; method: string; url: (n: number) => string; body?: (n: number) => unknown; ok: number }[] = [
    { name: 'POST /users role_ids', method: 'POST', url: () => `${V1}/users`, body: (n) => ({ login: `bounded-new-${++created}`, role_ids: roleIds.slice(0, n) }), ok: 201 },
    { name: 'PUT /users/:sid role_ids', method: 'PUT', url: () => `${V1}/users/${member}`, body: (n) => ({ role_ids: roleIds.slice(0, n) }), ok: 200 },
    { name: 'PUT /users/:sid inherited_role_ids (read-only)', method: 'PUT', url: () => `${V1}/users/${member}`, body: (n) => ({ inherited_role_ids: roleIds.slice(0, n) }), ok: 200 },
    { name: 'PUT /users/:sid group_ids (read-only)', method: 'PUT', url: () => `${V1}/users/${member}`, body: (n) => ({ group_ids: groupIds.slice(0, n) }), ok: 200 },
    { name: 'POST /command/users/add-roles role_ids', method: 'POST', url: () => `${V1}/command/users/add-roles`, body: (n) => ({ user_id: member, role_ids: roleIds.slice(0, n) }), ok: 204 },
    { name: 'POST /command/users/remove-roles role_ids', method: 'POST', url: () => `${V1}/command/users/remove-roles`, body: (n) => ({ user_id: member, role_ids: roleIds.slice(0, n) }), ok: 204 },
    { name: 'POST /roles permissions', method: 'POST', url: () => `${V1}/roles`, body: (n) => ({ display_name: `bounded new role ${++created}`, permissions: permissions(n) }), ok: 201 },
    { name: 'POST /roles user_ids', method: 'POST', url: () => `${V1}/roles`, body: (n) => ({ display_name: `bounded new role ${++created}`, user_ids: userIds.slice(0, n) }), ok: 201 },
    { name: 'POST /roles group_ids', method: 'POST', url: () => `${V1}/roles`, body: (n) => ({ display_name: `bounded new role ${++created}`, group_ids: groupIds.slice(0, n) }), ok: 201 },
    { name: 'PUT /roles/:rid permissions', method: 'PUT', url: () => `${V1}/roles/${role}`, body: (n) => ({ permissions: permissions(n) }), ok: 200 },
    { name: 'PUT /roles/:rid user_ids', method: 'PUT', url: () => `${V1}/roles/${role}`, body: (n) => ({ user_ids: userIds.slice(0, n) }), ok: 200 },
    { name: 'PUT /roles/:rid group_ids', method: 'PUT', url: () => `${V1}/roles/${role}`, body: (n) => ({ group_ids: groupIds.slice(0, n) }), ok: 200 },
    { name: 'POST /command/roles/add-users user_ids', method: 'POST', url: () => `${V1}/command/roles/add-users`, body: (n) => ({ role_id: role, user_ids: userIds.slice(0, n) }), ok: 204 },
    { name: 'POST /command/roles/remove-users user_ids', method: 'POST', url: () => `${V1}/command/roles/remove-users`, body: (n) => ({ role_id: role, user_ids: userIds.slice(0, n) }), ok: 204 },
    { name: 'POST /command/roles/add-groups group_ids', method: 'POST', url: () => `${V1}/command/roles/add-groups`, body: (n) => ({ role_id: role, group_ids: groupIds.slice(0, n) }), ok: 204 },
    { name: 'POST /command/roles/remove-groups group_ids', method: 'POST', url: () => `${V1}/command/roles/remove-groups`, body: (n) => ({ role_id: role, group_ids: groupIds.slice(0, n) }), ok: 204 },
    { name: 'POST /command/roles/add-permissions permissions', method: 'POST', url: () => `${V1}/command/roles/add-permissions`, body: (n) => ({ role_id: roleIds[1], permissions: permissions(n) }), ok: 204 },
    { name: 'POST /command/roles/remove-permissions permissions', method: 'POST', url: () => `${V1}/command/roles/remove-permissions`, body: (n) => ({ role_id: role, permissions: permissions(n) }), ok: 204 },
    { name: 'POST /command/groups/create role_ids', method: 'POST', url: () => `${V1}/command/groups/create`, body: (n) => ({ login: `bounded-new-group-${++created}`, role_ids: roleIds.slice(0, n) }), ok: 201 },
    { name: 'PUT /groups/:sid role_ids', method: 'PUT', url: () => `${V1}/groups/${group}`, body: (n) => ({ role_ids: roleIds.slice(0, n) }), ok: 200 },
    { name: 'PUT /groups/:sid user_ids (read-only)', method: 'PUT', url: () => `${V1}/groups/${group}`, body: (n) => ({ user_ids: userIds.slice(0, n) }), ok: 200 },
    { name: 'POST /permitted permissions', method: 'POST', url: () => `${V1}/permitted`, body: (n) => ({ token: member, permissions: permissions(n) }), ok: 200 },
    { name: 'GET /groups?id=', method: 'GET', url: (n) => `${V1}/groups?id=${groupIds.slice(0, n).join(',')}`, ok: 200 },
    { name: 'DELETE /v2/tokens revoke_tokens (body)', method: 'DELETE', url: () => `${V2}/tokens`, body: (n) => ({ revoke_tokens: Array.from({ length: n }, () => randomUUID().replaceAll('-', '')) }), ok: 204 },
    { name: 'DELETE /v2/tokens revoke_tokens_by_usernames (body)', method: 'DELETE', url: () => `${V2}/tokens`, body: (n) => ({ revoke_tokens_by_usernames: logins.slice(0, n) }), ok: 204 },
    { name: 'DELETE /v2/tokens revoke_tokens_by_labels (body)', method: 'DELETE', url: () => `${V2}/tokens`, body: (n) => ({ revoke_tokens_by_labels: labels(n) }), ok: 204 },
    { name: 'DELETE /v2/tokens revoke_tokens_by_ids (body)', method: 'DELETE', url: () => `${V2}/tokens`, body: (n) => ({ revoke_tokens_by_ids: userIds.slice(0, n) }), ok: 204 },
    { name: 'DELETE /v2/tokens revoke_tokens_by_labels (query)', method: 'DELETE', url: (n) => `${V2}/tokens?revoke_tokens_by_labels=${labels(n).join(',')}`, ok: 204 },
    { name: 'DELETE /v2/tokens revoke_tokens_by_usernames (query)', method: 'DELETE', url: (n) => `${V2}/tokens?revoke_tokens_by_usernames=${logins.slice(0, n).join(',')}`, ok: 204 },
  ];

  for (const list of lists) {
    test(`${list.name}: 1,000 entries work, 1,001 are 400 schema-violation and change nothing`, async () => {
      const atLimit = await send(list.method, list.url(LIMIT), list.body?.(LIMIT));
      assert.equal(atLimit.statusCode, list.ok, atLimit.body.slice(0, 500));
      const before = await counts();
      const revokedBefore = await revokedTokens();
      const past = assertError(await send(list.method, list.url(LIMIT + 1), list.body?.(LIMIT + 1)), 400, 'schema-violation');
      assert.match(past.msg, /1000/, past.msg);
      assert.deepEqual(await counts(), before);
      assert.equal(await revokedTokens(), revokedBefore);
    });
  }

  test('DELETE /v2/tokens: one parameter names at most 1,000 in the query and the body together', async () => {
    const both = (query: number, body: number) => send('DELETE', `${V2}/tokens?revoke_tokens_by_labels=${labels(query).join(',')}`, { revoke_tokens_by_labels: labels(body).map((label) => `b${label}`) });
    assert.equal((await both(500, 500)).statusCode, 204);
    const before = await revokedTokens();
    const refused = assertError(await both(500, 501), 400, 'schema-violation');
    assert.match(refused.msg, /1000/, refused.msg);
    assert.equal(await revokedTokens(), before);
  });
});
