// Creating (user_roles:create), editing (PUT /roles/:rid) and deleting roles
// (user_roles:edit on the role or "*"), and add-permissions /
// remove-permissions: who may, 403 otherwise; adding a permission needs
// holding it (no escalation); the events each records; bad input is 400.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { UNKNOWN_ID, rolesSuite, type RoleJson } from './support.js';

describeEachDatabase('editing roles', (target) => {
  const suite = rolesSuite(target);
  const { permission, users } = suite;
  let admin: string;
  before(() => ({ admin } = suite));

  let counter = 0;
  /** A role created by admin; returns it. */
  const makeRole = async (permissions = [users('reset_password')], user_ids: string[] = []) => {
    const response = await suite.postRole(admin, { display_name: `edit-test role ${++counter}`, permissions, user_ids });
    assert.equal(response.statusCode, 201, response.body);
    return response.json() as RoleJson;
  };

  describe('creating', () => {
    test('user_roles:create lets a non-superuser create a role with permissions it holds; 201 and role-created', async () => {
      const creator = await suite.actorWith('role-creator', [permission('user_roles', 'create'), users('edit')]);
      const since = await suite.lastEventId();
      const response = await suite.postRole(creator.token, { display_name: 'Made by a delegate', permissions: [users('edit')] });
      assert.equal(response.statusCode, 201, response.body);
      const role = response.json() as RoleJson;
      const [event] = await suite.eventsSince(since, 'role-created');
      assert.deepEqual(event?.details, { role_id: role.id, display_name: 'Made by a delegate', permissions: ['users:edit:*'] });
      assert.equal(event?.actor?.id, creator.id);
    });

    test('user_roles:create without a permission the role would hold is 403: only a superuser gives what it does not hold', async () => {
      const creator = await suite.actorWith('role-creator-limited', [permission('user_roles', 'create')]);
      assertError(await suite.postRole(creator.token, { display_name: 'Escalating role', permissions: [users('disable')] }), 403, 'permission-denied');
      assertError(await suite.postRole(creator.token, { display_name: 'Escalating role', permissions: [permission('user_roles', 'create', '*'), users('edit')] }), 403, 'permission-denied');
      assert.equal((await suite.postRole(creator.token, { display_name: 'Harmless role' })).statusCode, 201);
    });

    test('POST /roles with user_ids needs user_roles:edit_members on "*" besides user_roles:create', async () => {
      const member = await suite.service.createUser('created-role-member');
      const creator = await suite.actorWith('role-creator-members', [permission('user_roles', 'create')]);
      assertError(await suite.postRole(creator.token, { display_name: 'With members', user_ids: [member] }), 403, 'permission-denied');
      const both = await suite.actorWith('role-creator-both', [permission('user_roles', 'create'), permission('user_roles', 'edit_members')]);
      const response = await suite.postRole(both.token, { display_name: 'With members', user_ids: [member] });
      assert.equal(response.statusCode, 201, response.body);
      assert.deepEqual((response.json() as RoleJson).user_ids, [member]);
    });

    test('user_roles permissions name a role by its id; group permissions a UUID; types without instances only "*"', async () => {
      const role = await makeRole();
      const good = [
        permission('user_roles', 'edit', String(role.id)),
        permission('user_roles', 'edit_members', String(role.id)),
        permission('user_groups', 'delete', UNKNOWN_ID),
        permission('configuration', 'view'),
        permission('tokens', 'override_lifetime'),
        permission('directory_service', 'edit'),
      ];
      assert.equal((await suite.postRole(admin, { display_name: 'Instances of every kind', permissions: good })).statusCode, 201);
      for (const bad of [
        permission('user_roles', 'edit', UNKNOWN_ID),
        permission('user_roles', 'edit', '0'),
        permission('user_roles', 'edit', '1e20'),
        permission('user_roles', 'edit', '99999999999'),
        permission('user_roles', 'create', '5'),
        permission('user_groups', 'import', UNKNOWN_ID),
        permission('user_groups', 'delete', '5'),
        permission('configuration', 'edit', UNKNOWN_ID),
        permission('tokens', 'override_lifetime', '1'),
      ]) {
        assertError(await suite.postRole(admin, { display_name: 'Bad instance', permissions: [bad] }), 400, 'schema-violation');
      }
    });
  });

  describe('PUT /roles/:rid', () => {
    test('takes the role object as GET returns it: name, description, permissions and members change; 200 with the role', async () => {
      const member = await suite.service.createUser('put-role-member');
      const role = await makeRole();
      const since = await suite.lastEventId();
      const edited = { ...role, display_name: 'Renamed role', description: 'Now described', permissions: [users('edit'), users('disable')], user_ids: [member] };
      const response = await suite.putRole(role.id, admin, edited);
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), edited);
      assert.deepEqual(await suite.fetchRole(role.id), edited);
      const events = await suite.eventsSince(since, 'role-edited', 'role-assigned');
      assert.deepEqual(
        events.map((event) => [event.type, event.details]),
        [
          ['role-edited', { role_id: role.id, fields: ['display_name', 'description', 'permissions'], permissions_added: ['users:edit:*', 'users:disable:*'], permissions_removed: ['users:reset_password:*'] }],
          ['role-assigned', { role_id: role.id }],
        ],
      );
      assert.equal(events[1]?.subject?.id, member);
    });

    test('a PUT that changes nothing records nothing', async () => {
      const role = await makeRole();
      const since = await suite.lastEventId();
      assert.equal((await suite.putRole(role.id, admin, role)).statusCode, 200);
      assert.deepEqual(await suite.eventsSince(since, 'role-edited', 'role-assigned', 'role-removed'), []);
    });

    test('user_roles:edit on that role (or "*") may edit it; on another role, or without it, 403 and nothing changes', async () => {
      const role = await makeRole();
      const other = await makeRole();
      const onOne = await suite.actorWith('role-editor-one', [permission('user_roles', 'edit', String(role.id)), users('reset_password')]);
      const onAll = await suite.actorWith('role-editor-all', [permission('user_roles', 'edit')]);
      const plain = await suite.actorWith('role-editor-none', [users('edit')]);

      const renamed = await suite.putRole(role.id, onOne.token, { description: 'by the one-role editor' });
      assert.equal(renamed.statusCode, 200, renamed.body);
      assertError(await suite.putRole(other.id, onOne.token, { description: 'not mine' }), 403, 'permission-denied');
      assertError(await suite.putRole(role.id, plain.token, { description: 'nobody' }), 403, 'permission-denied');
      assert.equal((await suite.putRole(other.id, onAll.token, { description: 'by the all-roles editor' })).statusCode, 200);
      assert.equal((await suite.fetchRole(role.id)).description, 'by the one-role editor');
      assert.equal((await suite.fetchRole(other.id)).description, 'by the all-roles editor');
      // An unknown role: 403 for who holds nothing on it, 404 for who holds user_roles:edit on "*".
      assertError(await suite.putRole(999999, onOne.token, { description: 'x' }), 403, 'permission-denied');
      assertError(await suite.putRole(999999, onAll.token, { description: 'x' }), 404, 'not-found');
    });

    test('adding a permission the editor does not hold is 403; removing one, or adding one it holds, is fine', async () => {
      const role = await makeRole([users('reset_password'), users('disable')]);
      const editor = await suite.actorWith('role-editor-grants', [permission('user_roles', 'edit'), users('edit')]);
      assertError(await suite.putRole(role.id, editor.token, { permissions: [users('reset_password'), users('disable'), users('create')] }), 403, 'permission-denied');
      assertError(await suite.putRole(role.id, editor.token, { permissions: [permission('user_roles', 'create')] }), 403, 'permission-denied');
      assert.deepEqual((await suite.fetchRole(role.id)).permissions, [users('reset_password'), users('disable')]);
      const response = await suite.putRole(role.id, editor.token, { permissions: [users('reset_password'), users('edit')] });
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual((await suite.fetchRole(role.id)).permissions, [users('reset_password'), users('edit')]);
    });

    test('members through PUT follow the member rules: user_roles:edit alone cannot change them', async () => {
      const member = await suite.service.createUser('put-members-target');
      const role = await makeRole([]);
      const editor = await suite.actorWith('role-editor-members', [permission('user_roles', 'edit')]);
      assertError(await suite.putRole(role.id, editor.token, { user_ids: [member] }), 403, 'permission-denied');
      const manager = await suite.actorWith('role-members-manager', [permission('user_roles', 'edit_members', String(role.id))]);
      assert.equal((await suite.putRole(role.id, manager.token, { ...role, user_ids: [member] })).statusCode, 200);
      assert.deepEqual(await suite.roleIdsOf(member), [role.id]);
      assertError(await suite.putRole(role.id, manager.token, { ...role, description: 'changed by a member manager' }), 403, 'permission-denied');
      assert.equal((await suite.putRole(role.id, manager.token, { ...role, user_ids: [] })).statusCode, 200);
      assert.deepEqual(await suite.roleIdsOf(member), []);
    });

    test('a name another role has is 409 conflict; id in the body must match the path; bad bodies are 400', async () => {
      const role = await makeRole();
      const other = await makeRole();
      assertError(await suite.putRole(role.id, admin, { display_name: other.display_name }), 409, 'conflict');
      assertError(await suite.putRole(role.id, admin, { ...role, id: other.id }), 400, 'inconsistent-id');
      for (const body of [
        { display_name: '' },
        { permissions: [users('edit', 'not-a-uuid')] },
        { permissions: [permission('nodes', 'edit')] },
        { permissions: 'users:edit' },
        { user_ids: [UNKNOWN_ID] },
        { user_ids: ['x'.repeat(100)] },
        { group_ids: [UNKNOWN_ID] },
        { colour: 'blue' },
        { description: 'a\u0000b' },
        { id: 1e20 },
      ]) {
        assertError(await suite.putRole(role.id, admin, body), 400, 'schema-violation');
      }
      assert.deepEqual(await suite.fetchRole(role.id), role);
      for (const rid of ['abc', '1e20', '-1', '99999999999']) assertError(await suite.putRole(rid, admin, { description: 'x' }), 400, 'schema-violation');
      assertError(await suite.putRole(999999, admin, { description: 'x' }), 404, 'not-found');
    });
  });

  describe('DELETE /roles/:rid', () => {
    test('user_roles:edit on the role deletes it: 204, its members lose it, role-deleted and role-removed recorded', async () => {
      const member = await suite.service.createUser('deleted-role-member');
      const role = await makeRole([users('reset_password')], [member]);
      const deleter = await suite.actorWith('role-deleter', [permission('user_roles', 'edit', String(role.id))]);
      const since = await suite.lastEventId();
      const response = await suite.deleteRole(role.id, deleter.token);
      assert.equal(response.statusCode, 204, response.body);
      assert.equal(response.body, '');
      assertError(await suite.service.request({ method: 'GET', url: `/rbac-api/v1/roles/${role.id}`, token: admin }), 404, 'not-found');
      assert.deepEqual(await suite.roleIdsOf(member), []);
      const events = await suite.eventsSince(since, 'role-deleted', 'role-removed');
      assert.deepEqual(
        events.map((event) => [event.type, event.details, event.subject?.id ?? null]),
        [
          ['role-deleted', { role_id: role.id, display_name: role.display_name }, null],
          ['role-removed', { role_id: role.id }, member],
        ],
      );
    });

    test('without user_roles:edit on the role: 403, the role stays; unknown: 403 or 404 as for PUT; bad ids 400', async () => {
      const role = await makeRole();
      const other = await makeRole();
      const deleter = await suite.actorWith('role-deleter-other', [permission('user_roles', 'edit', String(other.id)), permission('user_roles', 'edit_members')]);
      assertError(await suite.deleteRole(role.id, deleter.token), 403, 'permission-denied');
      assert.equal((await suite.fetchRole(role.id)).id, role.id);
      assertError(await suite.deleteRole(999999, deleter.token), 403, 'permission-denied');
      assertError(await suite.deleteRole(999999, admin), 404, 'not-found');
      for (const rid of ['abc', '1e20', '1.5']) assertError(await suite.deleteRole(rid, admin), 400, 'schema-violation');
    });
  });

  describe('add-permissions and remove-permissions', () => {
    test('user_roles:edit adds permissions it holds and removes any: 204, role-edited; adding one not held is 403', async () => {
      const role = await makeRole([users('reset_password')]);
      const editor = await suite.actorWith('permissions-editor', [permission('user_roles', 'edit', String(role.id)), users('edit')]);
      const since = await suite.lastEventId();
      const added = await suite.command('roles/add-permissions', editor.token, { role_id: role.id, permissions: [users('edit'), users('edit')] });
      assert.equal(added.statusCode, 204, added.body);
      assert.deepEqual((await suite.fetchRole(role.id)).permissions, [users('reset_password'), users('edit')]);
      assertError(await suite.command('roles/add-permissions', editor.token, { role_id: role.id, permissions: [users('disable')] }), 403, 'permission-denied');
      const removed = await suite.command('roles/remove-permissions', editor.token, { role_id: role.id, permissions: [users('reset_password'), users('create')] });
      assert.equal(removed.statusCode, 204, removed.body);
      assert.deepEqual((await suite.fetchRole(role.id)).permissions, [users('edit')]);
      assert.deepEqual(
        (await suite.eventsSince(since, 'role-edited')).map((event) => event.details),
        [
          { role_id: role.id, fields: ['permissions'], permissions_added: ['users:edit:*'] },
          { role_id: role.id, fields: ['permissions'], permissions_removed: ['users:reset_password:*'] },
        ],
      );
    });

    test('without user_roles:edit on the role: 403; unknown role 404 for a holder on "*"; bad bodies 400', async () => {
      const role = await makeRole();
      const plain = await suite.actorWith('permissions-editor-none', [permission('user_roles', 'edit_members'), users('edit')]);
      for (const change of ['add', 'remove']) {
        assertError(await suite.command(`roles/${change}-permissions`, plain.token, { role_id: role.id, permissions: [users('edit')] }), 403, 'permission-denied');
        assertError(await suite.command(`roles/${change}-permissions`, admin, { role_id: 999999, permissions: [users('edit')] }), 404, 'not-found');
        for (const body of [
          { role_id: 'abc', permissions: [] },
          { role_id: 1e20, permissions: [] },
          { role_id: 0, permissions: [] },
          { role_id: role.id },
          { role_id: role.id, permissions: [permission('nodes', 'view')] },
          { role_id: role.id, permissions: [users('edit', 'someone')] },
          { role_id: role.id, permissions: [users('edit', 'a\u0000')] },
        ]) {
          assertError(await suite.command(`roles/${change}-permissions`, admin, body), 400, 'schema-violation');
        }
      }
      assert.deepEqual(await suite.fetchRole(role.id), role);
    });
  });
});
