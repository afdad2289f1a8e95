// GET /types (PE's permission types) and the permission checks: POST
// /permitted ({token: a user id, permissions} → [bool]), GET
// /permitted/:object_type/:action (the caller's instances) and
// GET /permitted/:object_type/:action/:uuid (another user's: a superuser or a
// permission on users, as reading the user needs).

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { UNKNOWN_ID, api, rolesSuite } from '../roles/support.js';

/** The service's own types, first in GET /types (PE's other types follow: test/permissions/catalogue.test.ts). */
const TYPES: Record<string, { actions: string[]; has_instances: boolean }> = {
  users: { actions: ['create', 'edit', 'disable', 'reset_password'], has_instances: true },
  user_roles: { actions: ['create', 'edit', 'edit_members'], has_instances: true },
  user_groups: { actions: ['import', 'delete'], has_instances: true },
  directory_service: { actions: ['edit'], has_instances: false },
  configuration: { actions: ['view', 'edit', 'view_disclaimer', 'edit_disclaimer'], has_instances: false },
  tokens: { actions: ['override_lifetime'], has_instances: false },
};

describeEachDatabase('permission types and checks', (target) => {
  const suite = rolesSuite(target);
  const { permission, users, actorWith } = suite;
  let admin: string;
  before(() => ({ admin } = suite));

  const get = (url: string, token?: string) => suite.service.request({ method: 'GET', url: api(url), ...(token ? { token } : {}) });
  const permitted = (token: string, body: unknown) =>
    suite.service.request({ method: 'POST', url: api('/permitted'), token, payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

  test("GET /types lists the service's own object types first, with their actions, in PE's shape", async () => {
    const response = await get('/types', admin);
    assert.equal(response.statusCode, 200, response.body);
    const types = response.json() as { id: number; object_type: string; display_name: string; description: string; has_instances: boolean; actions: { id: number; name: string; display_name: string; description: string }[] }[];
    assert.deepEqual(Object.fromEntries(types.slice(0, 6).map((type) => [type.object_type, { actions: type.actions.map((action) => action.name), has_instances: type.has_instances }])), TYPES);
    for (const type of types) {
      assert.deepEqual(Object.keys(type).sort(), ['actions', 'description', 'display_name', 'has_instances', 'id', 'object_type']);
      for (const action of type.actions) assert.deepEqual(Object.keys(action).sort(), ['description', 'display_name', 'has_instances', 'id', 'name']);
    }
  });

  describe('POST /permitted', () => {
    test('answers for each permission, in order: "*" covers one id, one id covers only itself; unknown permissions are false', async () => {
      const victim = await suite.service.createUser('permitted-victim');
      const other = await suite.service.createUser('permitted-other');
      const role = await suite.createRole([]);
      const { id, token } = await actorWith('permitted-subject', [users('edit'), users('reset_password', victim), permission('user_roles', 'edit_members', String(role))]);
      const queries = [
        users('edit', victim),
        users('edit'),
        users('reset_password', victim.toUpperCase()),
        users('reset_password', other),
        users('reset_password'),
        users('disable', victim),
        permission('user_roles', 'edit_members', String(role)),
        permission('user_roles', 'edit_members', String(role + 1)),
        permission('nodes', 'view'),
      ];
      const response = await permitted(token, { token: id, permissions: queries });
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), [true, true, true, false, false, false, true, false, false]);
      assert.deepEqual((await permitted(token, { token: id, permissions: [] })).json(), []);
    });

    test('a superuser holds every known permission; a revoked user none', async () => {
      const everything = [users('create'), permission('tokens', 'override_lifetime'), permission('user_roles', 'edit', '7'), permission('nodes', 'view')];
      assert.deepEqual((await permitted(admin, { token: suite.adminId, permissions: everything })).json(), [true, true, true, false]);
      const revoked = await actorWith('permitted-revoked', [users('edit')]);
      await suite.putUser(revoked.id, admin, { id: revoked.id, is_revoked: true });
      assert.deepEqual((await permitted(admin, { token: revoked.id, permissions: [users('edit')] })).json(), [false]);
    });

    test('about another user: a superuser or a permission on users; others 403; an unknown user 404; bad bodies 400', async () => {
      const subject = await actorWith('permitted-asked-about', [users('edit')]);
      const plain = await actorWith('permitted-plain', [permission('user_roles', 'edit')]);
      const reader = await actorWith('permitted-reader', [users('reset_password', subject.id)]);
      const body = { token: subject.id, permissions: [users('edit')] };
      assertError(await permitted(plain.token, body), 403, 'permission-denied');
      assertError(await permitted(plain.token, { ...body, token: UNKNOWN_ID }), 403, 'permission-denied');
      assert.deepEqual((await permitted(reader.token, body)).json(), [true]);
      assert.deepEqual((await permitted(admin, body)).json(), [true]);
      assertError(await permitted(admin, { ...body, token: UNKNOWN_ID }), 404, 'not-found');
      assertError(await permitted(admin, { ...body, token: 'not-a-uuid' }), 400, 'invalid-uuid');
      for (const bad of [{ token: subject.id }, { token: subject.id, permissions: 'users:edit' }, { token: 5, permissions: [] }, { token: `${subject.id}\u0000`, permissions: [] }, { ...body, extra: true }]) {
        assert.equal((await permitted(admin, bad)).statusCode, 400, JSON.stringify(bad));
      }
      assertError(await suite.service.request({ method: 'POST', url: api('/permitted'), payload: body }), 401, 'user-unauthenticated');
    });
  });

  describe('a group as the subject (PE: token may be a group id)', () => {
    test("POST /permitted with a group's id answers for the group's roles' permissions; any caller may ask, as any may read groups and roles", async () => {
      const victim = await suite.service.createUser('group-permitted-victim');
      const role = await suite.createRole([users('reset_password', victim), permission('user_groups', 'import')]);
      const created = await suite.service.request({ method: 'POST', url: api('/command/groups/create'), token: admin, payload: { login: 'permitted-group', role_ids: [role] } });
      assert.equal(created.statusCode, 201, created.body);
      const groupId = (created.json() as { id: string }).id;
      const queries = [users('reset_password', victim), users('reset_password'), permission('user_groups', 'import'), users('edit', victim), permission('nodes', 'view')];
      assert.deepEqual((await permitted(admin, { token: groupId, permissions: queries })).json(), [true, false, true, false, false]);
      const plain = await actorWith('group-permitted-plain', [permission('user_roles', 'edit')]);
      const asked = await permitted(plain.token, { token: groupId.toUpperCase(), permissions: queries });
      assert.equal(asked.statusCode, 200, asked.body);
      assert.deepEqual(asked.json(), [true, false, true, false, false]);
      const instances = await get(`/permitted/users/reset_password/${groupId}`, admin);
      assert.equal(instances.statusCode, 200, instances.body);
      assert.deepEqual(instances.json(), [victim]);

      const administrators = await suite.service.request({ method: 'POST', url: api('/command/groups/create'), token: admin, payload: { login: 'permitted-admins', role_ids: [1] } });
      const adminsGroup = (administrators.json() as { id: string }).id;
      assert.deepEqual((await permitted(admin, { token: adminsGroup, permissions: [users('edit', victim), permission('tokens', 'override_lifetime')] })).json(), [true, true]);
      const empty = await suite.service.request({ method: 'POST', url: api('/command/groups/create'), token: admin, payload: { login: 'permitted-empty', role_ids: [] } });
      assert.deepEqual((await permitted(admin, { token: (empty.json() as { id: string }).id, permissions: [users('edit')] })).json(), [false]);
      // Neither a group nor a user: as before, 403 for a caller who may not ask about users, 404 for one who may.
      assertError(await permitted(plain.token, { token: UNKNOWN_ID, permissions: queries }), 403, 'permission-denied');
      assertError(await permitted(admin, { token: UNKNOWN_ID, permissions: queries }), 404, 'not-found');
    });
  });

  describe('GET /permitted/:object_type/:action', () => {
    test('the caller\'s instances: ["*"] for a holder on "*" or a superuser, else the ids, [] for none; unknown type or action 404', async () => {
      const a = await suite.service.createUser('instances-a');
      const b = await suite.service.createUser('instances-b');
      const { token } = await actorWith('instances-holder', [users('edit', b), users('edit', a), users('disable'), users('disable', a)]);
      assert.deepEqual((await get('/permitted/users/edit', token)).json(), [a, b].sort());
      assert.deepEqual((await get('/permitted/users/disable', token)).json(), ['*']);
      assert.deepEqual((await get('/permitted/users/reset_password', token)).json(), []);
      assert.deepEqual((await get('/permitted/tokens/override_lifetime', admin)).json(), ['*']);
      for (const url of ['/permitted/nodes/view', '/permitted/users/delete', '/permitted/users/create']) {
        const response = await get(url, token);
        if (url.endsWith('create')) assert.deepEqual(response.json(), []);
        else assertError(response, 404, 'not-found');
      }
      // A NUL anywhere in a request is refused before any route looks at it (src/http/nul-characters.ts).
      assertError(await get('/permitted/users/edit%00', token), 400, 'schema-violation');
      assertError(await get('/permitted/users/edit'), 401, 'user-unauthenticated');
    });

    test('/:uuid: another user\'s instances for a superuser or a holder of a users permission; 403 for others; 404 unknown; 400 bad uuid', async () => {
      const subject = await actorWith('instances-subject', [permission('user_roles', 'edit_members', '3'), permission('user_roles', 'edit_members', '12')]);
      const plain = await actorWith('instances-plain', [permission('configuration', 'view')]);
      const reader = await actorWith('instances-reader', [users('create')]);
      const url = `/permitted/user_roles/edit_members/${subject.id}`;
      assert.deepEqual((await get(url, admin)).json(), ['12', '3']);
      assert.deepEqual((await get(url, reader.token)).json(), ['12', '3']);
      assert.deepEqual((await get(url, subject.token)).json(), ['12', '3'], 'oneself');
      assertError(await get(url, plain.token), 403, 'permission-denied');
      assert.deepEqual((await get(`/permitted/users/edit/${suite.adminId}`, reader.token)).json(), ['*'], 'a superuser may do everything');
      assertError(await get(`/permitted/users/edit/${UNKNOWN_ID}`, admin), 404, 'not-found');
      assertError(await get('/permitted/users/edit/not-a-uuid', admin), 400, 'invalid-uuid');
      assertError(await get(`/permitted/nodes/view/${subject.id}`, admin), 404, 'not-found');
    });
  });
});
