// The default role Administrators (id 1): every permission on "*", admin its
// member; its permissions never change and it is never deleted (403
// default-roles-immutable), its members do. Migration 009 moves a role that
// already had id 1 to a new id, with its members and permissions.

import assert from 'node:assert/strict';
import { API_USER_ID } from '../../src/users/api-user.js';
import { randomUUID } from 'node:crypto';
import { before, test } from 'node:test';
import { migrateTo } from '../../src/store/migrate.js';
import { openStore } from '../../src/store/database.js';
import { describeEachDatabase, freshWorkspace } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { ADMIN_PASSWORD, USER_PASSWORD, startTestService } from '../kit/service.js';
import { ADMINISTRATORS, api, rolesSuite, type RoleJson } from './support.js';

const sorted = (permissions: { object_type: string; action: string; instance: string }[]) =>
  permissions.map((p) => `${p.object_type}:${p.action}:${p.instance}`).sort();

describeEachDatabase('the default role Administrators', (target) => {
  const suite = rolesSuite(target);
  let admin: string;
  // Every object type and action GET /types lists (PE's catalogue, test/permissions/catalogue.test.ts), each on "*".
  let EVERY_PERMISSION: { object_type: string; action: string; instance: string }[];
  before(async () => {
    ({ admin } = suite);
    const types = (await suite.service.request({ method: 'GET', url: api('/types'), token: admin })).json() as { object_type: string; actions: { name: string }[] }[];
    EVERY_PERMISSION = types.flatMap((type) => type.actions.map((action) => ({ object_type: type.object_type, action: action.name, instance: '*' })));
    assert.ok(EVERY_PERMISSION.length > 30, "PE's whole catalogue");
  });

  test('role 1 is Administrators with every permission on "*", and admin is its member', async () => {
    const role = await suite.fetchRole(ADMINISTRATORS);
    assert.equal(role.display_name, 'Administrators');
    assert.deepEqual(sorted(role.permissions), sorted(EVERY_PERMISSION));
    assert.ok(role.user_ids.includes(suite.adminId));
    assert.deepEqual((await suite.fetchUser(suite.adminId)).role_ids, [ADMINISTRATORS]);
  });

  test('changing its permissions is 403 default-roles-immutable, even for a superuser; nothing changes', async () => {
    const role = await suite.fetchRole(ADMINISTRATORS);
    const fewer = role.permissions.filter((permission) => permission.object_type !== 'users');
    const since = await suite.lastEventId();
    assertError(await suite.putRole(ADMINISTRATORS, admin, { ...role, permissions: fewer }), 403, 'default-roles-immutable');
    assertError(await suite.putRole(ADMINISTRATORS, admin, { permissions: [] }), 403, 'default-roles-immutable');
    const permission = suite.permission('users', 'edit');
    for (const change of ['add', 'remove']) {
      assertError(await suite.command(`roles/${change}-permissions`, admin, { role_id: ADMINISTRATORS, permissions: [permission] }), 403, 'default-roles-immutable');
    }
    assert.deepEqual(await suite.fetchRole(ADMINISTRATORS), role);
    assert.deepEqual(await suite.eventsSince(since, 'role-edited'), []);
  });

  test('deleting it is 403 default-roles-immutable; it stays with its members', async () => {
    const before = await suite.fetchRole(ADMINISTRATORS);
    assertError(await suite.deleteRole(ADMINISTRATORS, admin), 403, 'default-roles-immutable');
    assert.deepEqual(await suite.fetchRole(ADMINISTRATORS), before);
  });

  test('PUT of the role exactly as GET returned it is 200 and changes nothing; its description may change', async () => {
    const role = await suite.fetchRole(ADMINISTRATORS);
    const same = await suite.putRole(ADMINISTRATORS, admin, role);
    assert.equal(same.statusCode, 200, same.body);
    assert.deepEqual(same.json(), role);
    const described = await suite.putRole(ADMINISTRATORS, admin, { ...role, description: 'The people who run this' });
    assert.equal(described.statusCode, 200, described.body);
    assert.equal((described.json() as RoleJson).description, 'The people who run this');
    assert.deepEqual(sorted((described.json() as RoleJson).permissions), sorted(EVERY_PERMISSION));
  });

  test('its members change with user_roles:edit_members and every permission: a member of Administrators may add others, a holder of edit_members alone may not', async () => {
    const insider = await suite.service.createUser('administrators-insider');
    assert.equal((await suite.command('roles/add-users', admin, { role_id: ADMINISTRATORS, user_ids: [insider] })).statusCode, 204);
    const insiderToken = await suite.service.login('administrators-insider', USER_PASSWORD);
    const delegate = await suite.actorWith('administrators-delegate', [suite.permission('user_roles', 'edit_members')]);
    const newcomer = await suite.service.createUser('administrators-newcomer');

    assertError(await suite.command('roles/add-users', delegate.token, { role_id: ADMINISTRATORS, user_ids: [newcomer] }), 403, 'permission-denied');
    assertError(await suite.command('users/add-roles', delegate.token, { user_id: delegate.id, role_ids: [ADMINISTRATORS] }), 403, 'permission-denied');
    assert.deepEqual(await suite.roleIdsOf(newcomer), []);

    assert.equal((await suite.command('roles/add-users', insiderToken, { role_id: ADMINISTRATORS, user_ids: [newcomer] })).statusCode, 204);
    assert.deepEqual(await suite.roleIdsOf(newcomer), [ADMINISTRATORS]);
    assert.equal((await suite.command('roles/remove-users', insiderToken, { role_id: ADMINISTRATORS, user_ids: [newcomer] })).statusCode, 204);
    assert.deepEqual(await suite.roleIdsOf(newcomer), []);
  });

  test('a new role never gets id 1: the next id follows', async () => {
    const response = await suite.postRole(admin, { display_name: 'After Administrators' });
    assert.equal(response.statusCode, 201, response.body);
    assert.ok((response.json() as RoleJson).id > ADMINISTRATORS);
  });
});

describeEachDatabase('migration 009: a role that already had id 1', (target) => {
  test('moves to a new id with its name, description, permissions and members; a role named Administrators is renamed; admin joins Administrators', async () => {
    const workspace = await freshWorkspace(target.dialect);
    const member = randomUUID();
    const adminId = randomUUID();
    const permissions = JSON.stringify([{ object_type: 'users', action: 'edit', instance: '*' }]);
    try {
      const old = openStore({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl });
      try {
        await migrateTo(old, '007_password_history');
        const user = (id: string, login: string, superuser: 0 | 1) => ({
          id,
          login,
          login_key: login,
          email: '',
          display_name: '',
          is_remote: 0 as const,
          is_superuser: superuser,
          is_revoked: 0 as const,
          password_hash: null,
          last_login: null,
          created_at: Date.now(),
        });
        await old.db.insertInto('users').values([user(member, 'old-helpdesk', 0), user(adminId, 'admin', 1)]).execute();
        await old.db.insertInto('roles').values({ display_name: 'Helpdesk', description: 'Edits users', permissions }).execute();
        await old.db.insertInto('roles').values({ display_name: 'Administrators', description: 'made by hand', permissions: '[]' }).execute();
        await old.db.insertInto('user_roles').values({ user_id: member, role_id: 1 }).execute();
        const ids = (await old.db.selectFrom('roles').select('id').orderBy('id').execute()).map((row) => row.id);
        assert.deepEqual(ids, [1, 2], 'Helpdesk holds id 1 before the migration');
      } finally {
        await old.close();
      }

      const service = await startTestService(target.dialect, {}, { workspace });
      try {
        const roles = await service.store.db.selectFrom('roles').selectAll().orderBy('id').execute();
        assert.equal(roles[0]?.id, 1);
        assert.equal(roles[0]?.display_name, 'Administrators');
        const helpdesk = roles.find((role) => role.display_name === 'Helpdesk');
        assert.ok(helpdesk && helpdesk.id > 1, 'Helpdesk moved to a new id');
        assert.equal(helpdesk.description, 'Edits users');
        assert.equal(helpdesk.permissions, permissions);
        assert.ok(roles.some((role) => role.id === 2 && role.display_name === 'Administrators (role 2)'), 'the hand-made Administrators is renamed');
        const memberships = await service.store.db.selectFrom('user_roles').selectAll().orderBy('role_id').execute();
        assert.deepEqual(
          memberships.map((row) => [row.user_id, row.role_id]).sort(),
          [
            [adminId, 1],
            // PE's api_user joins Administrators too (migration 015).
            [API_USER_ID, 1],
            [member, helpdesk.id],
          ].sort(),
        );
        const created = await service.store.db.insertInto('roles').values({ display_name: 'Fresh', description: '', permissions: '[]' }).returning('id').executeTakeFirstOrThrow();
        assert.ok(created.id > helpdesk.id, 'ids keep counting up after the explicit id 1');
      } finally {
        await service.close();
      }
    } finally {
      await workspace.cleanup();
    }
  });

  test('on an empty database admin is created as a member of Administrators', async () => {
    const service = await startTestService(target.dialect);
    try {
      const token = await service.login('admin', ADMIN_PASSWORD);
      const me = (await service.request({ method: 'GET', url: api('/users/current'), token })).json() as { role_ids: number[] };
      assert.deepEqual(me.role_ids, [1]);
    } finally {
      await service.close();
    }
  });
});
