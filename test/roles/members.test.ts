// Giving roles to users and taking them away: add-users / remove-users,
// add-roles / remove-roles, POST /users role_ids, PUT /users/:sid role_ids —
// one rule everywhere: user_roles:edit_members on the role, and to give it,
// every permission it holds (no escalation), unless a superuser. Groups
// (add-user-groups, add-groups, remove-groups) until a directory service
// exists: an empty list only. Events role-assigned / role-removed.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { UNKNOWN_ID, api, rolesSuite } from './support.js';

describeEachDatabase('role members', (target) => {
  const suite = rolesSuite(target);
  const { permission, users, createRole, actorWith } = suite;
  let admin: string;
  before(() => ({ admin } = suite));

  const addUsers = (token: string, role_id: unknown, user_ids: unknown) => suite.command('roles/add-users', token, { role_id, user_ids });
  const removeUsers = (token: string, role_id: unknown, user_ids: unknown) => suite.command('roles/remove-users', token, { role_id, user_ids });
  const addRoles = (token: string, user_id: unknown, role_ids: unknown) => suite.command('users/add-roles', token, { user_id, role_ids });
  const removeRoles = (token: string, user_id: unknown, role_ids: unknown) => suite.command('users/remove-roles', token, { user_id, role_ids });

  describe('no escalation', () => {
    test('user_roles:edit_members but lacking a permission of the role: 403 giving it, by every route; nothing given', async () => {
      const role = await createRole([users('edit'), users('disable')]);
      const giver = await actorWith('escalation-giver', [permission('user_roles', 'edit_members'), users('edit'), users('create')]);
      const target = await suite.service.createUser('escalation-target');
      const since = await suite.lastEventId();

      assertError(await addUsers(giver.token, role, [target]), 403, 'permission-denied');
      assertError(await addUsers(giver.token, role, [giver.id]), 403, 'permission-denied');
      assertError(await addRoles(giver.token, target, [role]), 403, 'permission-denied');
      assertError(await addRoles(giver.token, giver.id, [role]), 403, 'permission-denied');
      assertError(await suite.putUser(target, giver.token, { id: target, role_ids: [role] }), 403, 'permission-denied');
      const created = await suite.service.request({ method: 'POST', url: api('/users'), token: giver.token, payload: { login: 'escalation-new', role_ids: [role] } });
      assertError(created, 403, 'permission-denied');
      assert.match(assertError(await addUsers(giver.token, role, [target]), 403, 'permission-denied').msg, /users:disable/);

      assert.deepEqual(await suite.roleIdsOf(target), []);
      assert.equal((await suite.service.store.db.selectFrom('users').select('id').where('login_key', '=', 'escalation-new').execute()).length, 0);
      assert.deepEqual(await suite.eventsSince(since, 'role-assigned', 'user-created'), []);
    });

    test('holding every permission of the role and user_roles:edit_members: giving it succeeds by every route', async () => {
      const role = await createRole([users('edit'), users('disable')]);
      const giver = await actorWith('able-giver', [permission('user_roles', 'edit_members', '*'), users('edit'), users('disable'), users('create')]);
      const [a, b, c] = [await suite.service.createUser('able-a'), await suite.service.createUser('able-b'), await suite.service.createUser('able-c')];

      assert.equal((await addUsers(giver.token, role, [a])).statusCode, 204);
      assert.equal((await addRoles(giver.token, b, [role])).statusCode, 204);
      const put = await suite.putUser(c, giver.token, { id: c, role_ids: [role] });
      assert.equal(put.statusCode, 200, put.body);
      const created = await suite.service.request({ method: 'POST', url: api('/users'), token: giver.token, payload: { login: 'able-new', role_ids: [role] } });
      assert.equal(created.statusCode, 201, created.body);
      for (const id of [a, b, c, (created.json() as { id: string }).id]) assert.deepEqual(await suite.roleIdsOf(id), [role]);
    });

    test('a holder on one user id cannot give a role holding that permission on "*"; the other way round it can', async () => {
      const victim = await suite.service.createUser('narrow-victim');
      const wide = await createRole([users('edit')]);
      const narrow = await createRole([users('edit', victim)]);
      const giver = await actorWith('narrow-giver', [permission('user_roles', 'edit_members'), users('edit', victim)]);
      const target = await suite.service.createUser('narrow-target');
      assertError(await addUsers(giver.token, wide, [target]), 403, 'permission-denied');
      assert.equal((await addUsers(giver.token, narrow, [target])).statusCode, 204);
      const wideGiver = await actorWith('wide-giver', [permission('user_roles', 'edit_members'), users('edit')]);
      assert.equal((await addUsers(wideGiver.token, narrow, [victim])).statusCode, 204);
    });

    test('a superuser gives any role', async () => {
      const role = await createRole([users('edit'), users('disable'), permission('user_roles', 'create')]);
      const target = await suite.service.createUser('superuser-given');
      assert.equal((await addRoles(admin, target, [role])).statusCode, 204);
      assert.deepEqual(await suite.roleIdsOf(target), [role]);
    });
  });

  describe('who may change members', () => {
    test('user_roles:edit_members on that role: allowed; on another role or none: 403 (taking as giving)', async () => {
      const role = await createRole([]);
      const other = await createRole([]);
      const manager = await actorWith('members-manager', [permission('user_roles', 'edit_members', String(role))]);
      const outsider = await actorWith('members-outsider', [permission('user_roles', 'edit'), users('edit')]);
      const target = await suite.service.createUser('members-target');

      assert.equal((await addUsers(manager.token, role, [target])).statusCode, 204);
      assertError(await addUsers(manager.token, other, [target]), 403, 'permission-denied');
      assertError(await addRoles(manager.token, target, [role, other]), 403, 'permission-denied');
      assertError(await removeUsers(outsider.token, role, [target]), 403, 'permission-denied');
      assertError(await removeRoles(outsider.token, target, [role]), 403, 'permission-denied');
      assert.deepEqual(await suite.roleIdsOf(target), [role]);
      assert.equal((await removeRoles(manager.token, target, [role])).statusCode, 204);
      assert.deepEqual(await suite.roleIdsOf(target), []);
    });

    test('PUT /users/:sid role_ids: users:edit alone is not enough to change roles', async () => {
      const role = await createRole([]);
      const editor = await actorWith('users-editor-roles', [users('edit')]);
      const target = await suite.service.createUser('users-editor-roles-target');
      assertError(await suite.putUser(target, editor.token, { id: target, role_ids: [role] }), 403, 'permission-denied');
      assert.deepEqual(await suite.roleIdsOf(target), []);
    });
  });

  describe('commands', () => {
    test('add-users and remove-users: 204, once each, events role-assigned and role-removed naming each user', async () => {
      const role = await createRole([users('reset_password')]);
      const a = await suite.service.createUser('command-a');
      const b = await suite.service.createUser('command-b');
      const since = await suite.lastEventId();
      const added = await addUsers(admin, role, [a, b.toUpperCase(), a]);
      assert.equal(added.statusCode, 204, added.body);
      assert.equal(added.body, '');
      assert.equal((await addUsers(admin, role, [a])).statusCode, 204, 'adding a member again changes nothing');
      assert.deepEqual((await suite.fetchRole(role)).user_ids, [a, b].sort());
      assert.equal((await removeUsers(admin, role, [a])).statusCode, 204);
      assert.equal((await removeUsers(admin, role, [a])).statusCode, 204, 'removing a non-member changes nothing');
      assert.deepEqual((await suite.fetchRole(role)).user_ids, [b]);
      const events = await suite.eventsSince(since, 'role-assigned', 'role-removed');
      assert.deepEqual(
        events.map((event) => [event.type, event.subject?.login, event.details.role_id]),
        [
          ['role-assigned', 'command-a', role],
          ['role-assigned', 'command-b', role],
          ['role-removed', 'command-a', role],
        ],
      );
      assert.ok(events.every((event) => event.actor?.login === 'admin'));
    });

    test('add-roles and remove-roles: 204, events; a user token still in use sees the new permissions at once', async () => {
      const role = await createRole([users('reset_password')]);
      const { id, token } = await actorWith('command-roles-user', []);
      const other = await suite.service.createUser('command-roles-other');
      const reset = () => suite.service.request({ method: 'POST', url: api(`/users/${other}/password/reset`), token });
      assertError(await reset(), 403, 'permission-denied');
      const since = await suite.lastEventId();
      assert.equal((await addRoles(admin, id, [role, role])).statusCode, 204);
      assert.equal((await reset()).statusCode, 201);
      assert.equal((await removeRoles(admin, id, [role])).statusCode, 204);
      assertError(await reset(), 403, 'permission-denied');
      assert.deepEqual(
        (await suite.eventsSince(since, 'role-assigned', 'role-removed')).map((event) => [event.type, event.subject?.id, event.details.role_id]),
        [
          ['role-assigned', id, role],
          ['role-removed', id, role],
        ],
      );
    });

    test('unknown subjects are 404, unknown listed ids 400 — for who may change the members; others get 403 first', async () => {
      const role = await createRole([]);
      const user = await suite.service.createUser('command-unknowns');
      for (const call of [addUsers, removeUsers]) {
        assertError(await call(admin, 999999, [user]), 404, 'not-found');
        assertError(await call(admin, role, [UNKNOWN_ID]), 400, 'schema-violation');
        assertError(await call(admin, role, ['not-a-uuid']), 400, 'schema-violation');
      }
      assertError(await addRoles(admin, UNKNOWN_ID, [role]), 404, 'not-found');
      assertError(await removeRoles(admin, UNKNOWN_ID, [role]), 404, 'not-found');
      assertError(await addRoles(admin, user, [role, 999999]), 400, 'schema-violation');
      assertError(await removeRoles(admin, user, [999999]), 400, 'schema-violation');
      assert.deepEqual(await suite.roleIdsOf(user), [], 'nothing given when one role is unknown');
      const nobody = await actorWith('command-unknowns-nobody', [users('edit')]);
      assertError(await addUsers(nobody.token, 999999, [user]), 403, 'permission-denied');
      assertError(await addRoles(nobody.token, UNKNOWN_ID, [role]), 403, 'permission-denied');
    });

    test('bad bodies are 400, never a 5xx: non-numeric, huge or zero role ids, NUL characters, bad user ids, missing keys', async () => {
      const role = await createRole([]);
      const user = await suite.service.createUser('command-bad-bodies');
      const cases: [string, unknown][] = [
        ['roles/add-users', { role_id: 'abc', user_ids: [user] }],
        ['roles/add-users', { role_id: 1e20, user_ids: [user] }],
        ['roles/add-users', { role_id: 2 ** 31, user_ids: [user] }],
        ['roles/add-users', { role_id: 0, user_ids: [user] }],
        ['roles/add-users', { role_id: 1.5, user_ids: [user] }],
        ['roles/add-users', { role_id: role, user_ids: [`${user}\u0000`] }],
        ['roles/add-users', { role_id: role, user_ids: user }],
        ['roles/add-users', { role_id: role }],
        ['roles/remove-users', { role_id: role, user_ids: [user], extra: 1 }],
        ['users/add-roles', { user_id: user, role_ids: ['1'] }],
        ['users/add-roles', { user_id: user, role_ids: [1e20] }],
        ['users/add-roles', { user_id: 'not-a-uuid', role_ids: [role] }],
        ['users/add-roles', { user_id: `${user}\u0000`, role_ids: [role] }],
        ['users/remove-roles', { user_id: user }],
        ['roles/add-user-groups', { role_id: 'abc', group_ids: [] }],
      ];
      for (const [path, body] of cases) {
        const response = await suite.command(path, admin, body);
        assert.equal(response.statusCode, 400, `${path} ${JSON.stringify(body)}: ${response.body}`);
      }
      assert.deepEqual(await suite.roleIdsOf(user), []);
    });
  });

  describe('groups', () => {
    test('add-user-groups, add-groups and remove-groups: an empty list is 204; any group id is 400 (no directory service); unknown role 404; 403 without edit_members', async () => {
      const role = await createRole([]);
      const plain = await actorWith('groups-plain', [users('edit')]);
      for (const path of ['roles/add-user-groups', 'roles/add-groups', 'roles/remove-groups']) {
        assert.equal((await suite.command(path, admin, { role_id: role, group_ids: [] })).statusCode, 204, path);
        assertError(await suite.command(path, admin, { role_id: role, group_ids: [UNKNOWN_ID] }), 400, 'schema-violation');
        assertError(await suite.command(path, admin, { role_id: 999999, group_ids: [] }), 404, 'not-found');
        assertError(await suite.command(path, plain.token, { role_id: role, group_ids: [] }), 403, 'permission-denied');
      }
      assert.deepEqual((await suite.fetchRole(role)).group_ids, []);
    });
  });

  test('every command needs authentication: 401', async () => {
    for (const path of ['roles/add-users', 'roles/remove-users', 'roles/add-permissions', 'roles/remove-permissions', 'roles/add-user-groups', 'roles/add-groups', 'roles/remove-groups', 'users/add-roles', 'users/remove-roles']) {
      assertError(await suite.service.request({ method: 'POST', url: api(`/command/${path}`), payload: {} }), 401, 'user-unauthenticated');
    }
    for (const [method, url] of [['PUT', '/roles/2'], ['DELETE', '/roles/2']] as const) {
      assertError(await suite.service.request({ method, url: api(url) }), 401, 'user-unauthenticated');
    }
    // A revoked member's token stops working for commands as for everything.
    const { id, token } = await actorWith('revoked-manager', [permission('user_roles', 'edit_members')]);
    await suite.putUser(id, admin, { id, is_revoked: true });
    assert.equal((await addUsers(token, 2, [id])).statusCode, 401);
  });
});
