// Lists sent as null (CONTRACT §10, "Lists may be null"): PE's Go client
// marshals an empty slice as null, so it creates a role as
// {"permissions": null, "user_ids": null, "group_ids": null}. In every body a
// list field sent as null is the empty list — for a new object, an edit
// (PUT: the object ends up with none) and a command (nothing to do) alike —
// and a null where no list belongs is still 400.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { USER_PASSWORD, startServiceWithAdmin, type TestService } from '../kit/service.js';

const v1 = (path: string) => `/rbac-api/v1${path}`;

describeEachDatabase('lists sent as null', (target) => {
  let service: TestService;
  let admin: string;
  before(async () => {
    ({ service, admin } = await startServiceWithAdmin(target.dialect));
  });
  after(() => service?.close());

  const call = (method: 'POST' | 'PUT' | 'GET', url: string, payload?: object) => service.request({ method, url, token: admin, ...(payload ? { payload } : {}) });

  test("a role as PE's Go client creates it (permissions, user_ids, group_ids null) is a role with none of them", async () => {
    const created = await call('POST', v1('/roles'), { display_name: 'Go made', description: 'from a Go client', permissions: null, user_ids: null, group_ids: null });
    assert.equal(created.statusCode, 201, created.body);
    const role = created.json() as { id: number; permissions: unknown[]; user_ids: unknown[]; group_ids: unknown[] };
    assert.deepEqual([role.permissions, role.user_ids, role.group_ids], [[], [], []]);
  });

  test('an edit with a null list leaves the object with none: PUT /roles/:rid, PUT /users/:sid, PUT /groups/:sid', async () => {
    const userId = await service.createUser('null-lists', { password: USER_PASSWORD });
    const role = (await call('POST', v1('/roles'), { display_name: 'Members', permissions: [{ object_type: 'users', action: 'edit', instance: '*' }], user_ids: [userId] })).json() as { id: number };
    const edited = await call('PUT', v1(`/roles/${role.id}`), { id: role.id, display_name: 'Members', permissions: null, user_ids: null, group_ids: null });
    assert.equal(edited.statusCode, 200, edited.body);
    assert.deepEqual(edited.json(), { id: role.id, display_name: 'Members', description: '', permissions: [], user_ids: [], group_ids: [] });

    assert.equal((await call('POST', v1('/command/users/add-roles'), { user_id: userId, role_ids: [role.id] })).statusCode, 204);
    const user = (await call('GET', v1(`/users/${userId}`))).json() as Record<string, unknown>;
    const userEdited = await call('PUT', v1(`/users/${userId}`), { ...user, role_ids: null, inherited_role_ids: null, group_ids: null });
    assert.equal(userEdited.statusCode, 200, userEdited.body);
    assert.deepEqual((userEdited.json() as { role_ids: number[] }).role_ids, []);

    const group = await call('POST', v1('/command/groups/create'), { login: 'null-group', role_ids: null });
    assert.equal(group.statusCode, 201, group.body);
    const groupBody = group.json() as { id: string; role_ids: number[] };
    assert.deepEqual(groupBody.role_ids, []);
    assert.equal((await call('POST', v1('/command/roles/add-groups'), { role_id: role.id, group_ids: [groupBody.id] })).statusCode, 204);
    const groupEdited = await call('PUT', v1(`/groups/${groupBody.id}`), { id: groupBody.id, role_ids: null, user_ids: null });
    assert.equal(groupEdited.statusCode, 200, groupEdited.body);
    assert.deepEqual((groupEdited.json() as { role_ids: number[] }).role_ids, []);
  });

  test('a command or a new user with a null list: nothing given, nothing taken; POST /permitted with null asks about nothing', async () => {
    const created = await call('POST', v1('/users'), { login: 'null-roles', email: 'n@example.com', display_name: 'N', role_ids: null, password: null });
    assert.equal(created.statusCode, 201, created.body);
    const user = created.json() as { id: string; role_ids: number[] };
    assert.deepEqual(user.role_ids, []);
    for (const [path, body] of [
      ['roles/add-users', { role_id: 1, user_ids: null }],
      ['roles/remove-users', { role_id: 1, user_ids: null }],
      ['roles/add-permissions', { role_id: 2_000, permissions: null }],
      ['users/add-roles', { user_id: user.id, role_ids: null }],
      ['roles/add-groups', { role_id: 1, group_ids: null }],
    ] as const) {
      const response = await call('POST', v1(`/command/${path}`), body);
      if (path === 'roles/add-permissions') assertError(response, 404, 'not-found');
      else assert.equal(response.statusCode, 204, `${path}: ${response.body}`);
    }
    assert.deepEqual(((await call('GET', v1('/roles/1'))).json() as { user_ids: string[] }).user_ids.includes(user.id), false);
    const permitted = await call('POST', v1('/permitted'), { token: user.id, permissions: null });
    assert.equal(permitted.statusCode, 200, permitted.body);
    assert.deepEqual(permitted.json(), []);
  });

  test('null where no list belongs is still 400 schema-violation', async () => {
    assertError(await call('POST', v1('/roles'), { display_name: null }), 400, 'schema-violation');
    assertError(await call('POST', v1('/command/roles/add-users'), { role_id: null, user_ids: [] }), 400, 'schema-violation');
    assertError(await call('POST', v1('/command/users/add-roles'), { user_id: null, role_ids: null }), 400, 'schema-violation');
  });
});
