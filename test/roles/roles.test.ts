// Roles and permissions: GET /roles, GET /roles/:rid, POST /roles
// (user_roles:create), GET /types; permissions {object_type, action, instance}
// of known types only; a role's permissions on "*" or on one user id.
// Editing, deleting, members and the no-escalation rule: test/roles/edit.test.ts
// and test/roles/members.test.ts.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { atOnce } from '../kit/concurrency.js';
import { describeEachDatabase } from '../kit/databases.js';
import { USER_PASSWORD, startServiceWithAdmin, type TestService } from '../kit/service.js';
import { assertError } from '../kit/errors.js';
import type { Permission, RoleJson } from './support.js';

interface TypeJson {
  object_type: string;
  display_name: string;
  description: string;
  has_instances: boolean;
  actions: { name: string; display_name: string; description: string }[];
}


const ROLE_KEYS = ['description', 'display_name', 'group_ids', 'id', 'permissions', 'user_ids'];
const USER_ACTIONS = ['create', 'edit', 'disable', 'reset_password'];
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

const api = (path: string) => `/rbac-api/v1${path}`;
const users = (action: string, instance = '*'): Permission => ({ object_type: 'users', action, instance });

describeEachDatabase('roles and permission types', (target) => {
  let service: TestService;
  let admin: string;
  before(async () => ({ service, admin } = await startServiceWithAdmin(target.dialect)));
  after(() => service?.close());

  const postRole = (payload: unknown, token = admin) =>
    service.request({
      method: 'POST',
      url: api('/roles'),
      token,
      payload: JSON.stringify(payload),
      headers: { 'content-type': 'application/json' },
    });
  const roleCount = async () => (await service.store.db.selectFrom('roles').select('id').execute()).length;
  const roleNamed = (name: string) => service.store.db.selectFrom('roles').selectAll().where('display_name', '=', name).executeTakeFirst();
  const userRoleIds = async (id: string) => {
    const response = await service.request({ method: 'GET', url: api(`/users/${id}`), token: admin });
    assert.equal(response.statusCode, 200, response.body);
    return (response.json() as { role_ids: number[] }).role_ids;
  };

  test('every roles endpoint needs authentication: 401 user-unauthenticated', async () => {
    const count = await roleCount();
    const calls = [
      { method: 'GET', url: api('/roles') },
      { method: 'GET', url: api('/roles/1') },
      { method: 'GET', url: api('/types') },
      { method: 'POST', url: api('/roles'), payload: { display_name: 'unauthenticated role' } },
    ] as const;
    for (const call of calls) {
      for (const token of [undefined, 'x'.repeat(43)]) {
        assertError(await service.request({ ...call, ...(token ? { token } : {}) }), 401, 'user-unauthenticated');
      }
    }
    assert.equal(await roleCount(), count, 'no role was created');
  });

  test('GET /types lists object type users with actions create, edit, disable, reset_password', async () => {
    const response = await service.request({ method: 'GET', url: api('/types'), token: admin });
    assert.equal(response.statusCode, 200, response.body);
    const types = response.json() as TypeJson[];
    assert.ok(Array.isArray(types));
    const usersType = types.find((type) => type.object_type === 'users');
    assert.ok(usersType, 'the users type is listed');
    assert.deepEqual(usersType.actions.map((action) => action.name).sort(), [...USER_ACTIONS].sort());
    assert.equal(usersType.has_instances, true, 'users permissions can name one user');
    for (const action of usersType.actions) {
      assert.equal(typeof action.display_name, 'string');
      assert.ok(action.display_name.length > 0);
    }
  });

  test('POST /roles as a superuser: 201, the role, a Location; GET /roles and GET /roles/:rid show it', async () => {
    const userId = await service.createUser('role-member');
    const permissions = [users('create'), users('edit', userId), users('disable'), users('reset_password', userId)];
    const response = await postRole({ display_name: 'Help desk', description: 'Resets passwords', permissions, user_ids: [userId] });
    assert.equal(response.statusCode, 201, response.body);
    const role = response.json() as RoleJson;
    assert.deepEqual(Object.keys(role).sort(), ROLE_KEYS);
    assert.ok(Number.isInteger(role.id));
    assert.deepEqual(role, { id: role.id, display_name: 'Help desk', description: 'Resets passwords', permissions, user_ids: [userId], group_ids: [] });
    assert.equal(response.headers.location, api(`/roles/${role.id}`));

    const one = await service.request({ method: 'GET', url: response.headers.location as string, token: admin });
    assert.equal(one.statusCode, 200, one.body);
    assert.deepEqual(one.json(), role);

    const list = await service.request({ method: 'GET', url: api('/roles'), token: admin });
    assert.equal(list.statusCode, 200, list.body);
    const listed = (list.json() as RoleJson[]).find((candidate) => candidate.id === role.id);
    assert.deepEqual(listed, role);

    assert.deepEqual(await userRoleIds(userId), [role.id], 'the member lists the role');
  });

  test('a role needs only a display_name; description and permissions default to empty', async () => {
    const response = await postRole({ display_name: 'Empty role' });
    assert.equal(response.statusCode, 201, response.body);
    const role = response.json() as RoleJson;
    assert.deepEqual(role, { id: role.id, display_name: 'Empty role', description: '', permissions: [], user_ids: [], group_ids: [] });
  });

  test('POST /roles needs user_roles:create: 403 even with every users permission on "*"', async () => {
    const role = (await postRole({ display_name: 'All user powers', permissions: USER_ACTIONS.map((action) => users(action)) })).json() as RoleJson;
    await service.createUser('role-non-super', { role_ids: [role.id] });
    const token = await service.login('role-non-super', USER_PASSWORD);
    const count = await roleCount();
    for (const payload of [{ display_name: 'Self-made' }, { display_name: 'Self-made', permissions: [users('edit')] }]) {
      assertError(await postRole(payload, token), 403, 'permission-denied');
    }
    assert.equal(await roleCount(), count, 'no role was created');
    assert.equal(await roleNamed('Self-made'), undefined);
  });

  test('every users action is a known permission on "*"; all but create also on a user id (PE: creating names no user)', async () => {
    const userId = await service.createUser('known-actions-target');
    for (const instance of ['*', userId]) {
      for (const action of USER_ACTIONS.filter((name) => instance === '*' || name !== 'create')) {
        const response = await postRole({ display_name: `known ${action} ${instance}`, permissions: [users(action, instance)] });
        assert.equal(response.statusCode, 201, `${action} on ${instance}: ${response.body}`);
        assert.deepEqual((response.json() as RoleJson).permissions, [users(action, instance)]);
      }
    }
    assertError(await postRole({ display_name: 'create on one user', permissions: [users('create', userId)] }), 400, 'schema-violation');
  });

  test('permissions of unknown types or actions are 400 schema-violation; nothing is created', async () => {
    const count = await roleCount();
    const unknown: Permission[] = [
      { object_type: 'users', action: 'delete', instance: '*' },
      { object_type: 'users', action: 'reset-password', instance: '*' },
      { object_type: 'users', action: '', instance: '*' },
      { object_type: 'nodes', action: 'edit', instance: '*' },
      { object_type: 'user_roles', action: 'delete', instance: '*' },
      { object_type: 'tokens', action: 'edit', instance: '*' },
      { object_type: '*', action: '*', instance: '*' },
      { object_type: '', action: 'edit', instance: '*' },
    ];
    for (const permission of unknown) {
      const response = await postRole({ display_name: 'Unknown permission role', permissions: [users('edit'), permission] });
      assertError(response, 400, 'schema-violation');
    }
    assert.equal(await roleCount(), count);
    assert.equal(await roleNamed('Unknown permission role'), undefined);
  });

  test('a permission instance that is neither "*" nor a user id is 400 schema-violation; nothing is created', async () => {
    const count = await roleCount();
    for (const instance of ['', 'admin', '**', 'not-a-uuid', '00000000-0000-0000-0000-00000000000g', ' *']) {
      assertError(await postRole({ display_name: 'Aimless role', permissions: [users('edit', instance)] }), 400, 'schema-violation');
    }
    assert.equal(await roleCount(), count);
    assert.equal(await roleNamed('Aimless role'), undefined);
  });

  test('a display_name that exists is 409 conflict', async () => {
    assert.equal((await postRole({ display_name: 'Taken name' })).statusCode, 201);
    const count = await roleCount();
    assertError(await postRole({ display_name: 'Taken name', permissions: [users('edit')] }), 409, 'conflict');
    assert.equal(await roleCount(), count);
    const stored = await roleNamed('Taken name');
    assert.equal(stored?.permissions, '[]', 'the first role is unchanged');
  });

  test('concurrent creations of one role name: exactly one 201, the rest 409, never a 5xx', async () => {
    const count = await roleCount();
    const responses = await atOnce(12, () => postRole({ display_name: 'Race role', permissions: [users('edit')] }));
    const statuses = responses.map((response) => response.statusCode).sort();
    assert.deepEqual(statuses, [201, ...Array<number>(11).fill(409)], responses.map((response) => response.body).join('\n'));
    for (const response of responses.filter((candidate) => candidate.statusCode === 409)) assertError(response, 409, 'conflict');
    assert.equal(await roleCount(), count + 1);
  });

  test('unknown keys, wrong types and missing keys are 400 schema-violation; nothing is created', async () => {
    const count = await roleCount();
    const bodies: unknown[] = [
      { display_name: 'Bad role', colour: 'blue' },
      { display_name: 'Bad role', id: 42 },
      { display_name: 5 },
      { display_name: '' },
      { description: 'no name' },
      { display_name: 'Bad role', description: 7 },
      { display_name: 'Bad role', permissions: 'users:edit' },
      { display_name: 'Bad role', permissions: [{ object_type: 'users', action: 'edit' }] },
      { display_name: 'Bad role', permissions: [{ object_type: 'users', action: 'edit', instance: '*', extra: true }] },
      { display_name: 'Bad role', permissions: [{ object_type: 'users', action: 'edit', instance: 5 }] },
      { display_name: 'Bad role', user_ids: 'everyone' },
      { display_name: 'Bad role', user_ids: [5] },
      { display_name: 'Bad role', group_ids: [UNKNOWN_ID] },
      [],
      'Bad role',
    ];
    for (const payload of bodies) {
      assertError(await postRole(payload), 400, 'schema-violation');
    }
    assert.equal(await roleCount(), count);
    assert.equal(await roleNamed('Bad role'), undefined);
  });

  test('user_ids naming no user is 400 schema-violation; nothing is created', async () => {
    const count = await roleCount();
    const existing = await service.createUser('role-existing-member');
    for (const user_ids of [[UNKNOWN_ID], [existing, UNKNOWN_ID], ['not-a-uuid']]) {
      assertError(await postRole({ display_name: 'Ghost members', user_ids }), 400, 'schema-violation');
    }
    assert.equal(await roleCount(), count);
    assert.deepEqual(await userRoleIds(existing), [], 'the existing user got no role');
  });

  test('GET /roles/:rid: an unknown id is 404 not-found; a non-numeric id 400 schema-violation', async () => {
    assertError(await service.request({ method: 'GET', url: api('/roles/999999'), token: admin }), 404, 'not-found');
    for (const rid of ['abc', '-1', '1.5', '1e3']) {
      assertError(await service.request({ method: 'GET', url: api(`/roles/${rid}`), token: admin }), 400, 'schema-violation');
    }
  });

  test('a role on "*" grants the action on every user; on one user id only on that user', async () => {
    const a = await service.createUser('grant-a');
    const b = await service.createUser('grant-b');
    await service.createUser('grant-star');
    await service.createUser('grant-one');
    const starToken = await service.login('grant-star', USER_PASSWORD);
    const oneToken = await service.login('grant-one', USER_PASSWORD);
    const starId = ((await service.request({ method: 'GET', url: api('/users/current'), token: starToken })).json() as { id: string }).id;
    const oneId = ((await service.request({ method: 'GET', url: api('/users/current'), token: oneToken })).json() as { id: string }).id;

    const edit = (id: string, token: string, email: string) => service.request({ method: 'PUT', url: api(`/users/${id}`), token, payload: { id, email } });

    // Before any role: nothing is allowed.
    assertError(await edit(a, starToken, 'before@example.com'), 403, 'permission-denied');
    assertError(await edit(a, oneToken, 'before@example.com'), 403, 'permission-denied');

    // Membership given by POST /roles user_ids takes effect at once, on tokens already issued.
    assert.equal((await postRole({ display_name: 'Edit everyone', permissions: [users('edit')], user_ids: [starId] })).statusCode, 201);
    assert.equal((await postRole({ display_name: 'Edit grant-a', permissions: [users('edit', a)], user_ids: [oneId] })).statusCode, 201);

    for (const id of [a, b]) {
      const response = await edit(id, starToken, `star-${id}@example.com`);
      assert.equal(response.statusCode, 200, response.body);
      assert.equal((response.json() as { email: string }).email, `star-${id}@example.com`);
    }

    const allowed = await edit(a, oneToken, 'one@example.com');
    assert.equal(allowed.statusCode, 200, allowed.body);
    assert.equal((allowed.json() as { email: string }).email, 'one@example.com');
    assertError(await edit(b, oneToken, 'one@example.com'), 403, 'permission-denied');
    const row = await service.store.db.selectFrom('users').select('email').where('id', '=', b).executeTakeFirstOrThrow();
    assert.equal(row.email, `star-${b}@example.com`, 'grant-b was not changed by the one-user editor');

    // The action matters, not just the instance: edit on grant-a does not allow disabling grant-a.
    assertError(await service.request({ method: 'PUT', url: api(`/users/${a}`), token: oneToken, payload: { id: a, is_revoked: true } }), 403, 'permission-denied');
    assertError(await service.request({ method: 'DELETE', url: api(`/users/${a}`), token: oneToken }), 403, 'permission-denied');
  });

  test('a user id in a permission or in user_ids matches whatever its case', async () => {
    const target = await service.createUser('case-target');
    const other = await service.createUser('case-other');
    const editorId = await service.createUser('case-editor');
    const response = await postRole({
      display_name: 'Upper-case ids',
      permissions: [users('edit', target.toUpperCase())],
      user_ids: [editorId.toUpperCase()],
    });
    assert.equal(response.statusCode, 201, response.body);
    const role = response.json() as RoleJson;
    assert.deepEqual(role.user_ids, [editorId]);
    assert.deepEqual(await userRoleIds(editorId), [role.id]);

    const token = await service.login('case-editor', USER_PASSWORD);
    const allowed = await service.request({ method: 'PUT', url: api(`/users/${target}`), token, payload: { id: target, display_name: 'Case Target' } });
    assert.equal(allowed.statusCode, 200, allowed.body);
    assertError(await service.request({ method: 'PUT', url: api(`/users/${other}`), token, payload: { id: other, display_name: 'Nope' } }), 403, 'permission-denied');
  });
});
