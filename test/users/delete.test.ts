// DELETE /users/:sid: who may delete which users (never the bootstrap
// admin, never oneself), and what goes with a deleted user.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { ADMIN_PASSWORD, USER_PASSWORD, type TestService } from '../kit/service.js';
import { UNKNOWN_ID, api, type UserJson, usersSuite } from './support.js';

describeEachDatabase('users', (target) => {
  const suite = usersSuite(target);
  let service: TestService;
  let admin: string;
  let adminId: string;
  before(() => ({ service, admin, adminId } = suite));
  const { createRole, users, actorWith, getUser, putUser, userRow, fetchUser } = suite;

  describe('deleting users', () => {
    test('DELETE /users/:sid: 204 with no body; the user, its tokens and its login are gone', async () => {
      const roleId = await createRole([users('reset_password')]);
      const victim = await actorWith('delete-me', []);
      assert.equal((await putUser(victim.id, admin, { id: victim.id, role_ids: [roleId] })).statusCode, 200);

      const response = await service.request({ method: 'DELETE', url: api(`/users/${victim.id}`), token: admin });
      assert.equal(response.statusCode, 204, response.body);
      assert.equal(response.body, '');

      assertError(await getUser(victim.id, admin), 404, 'not-found');
      assertError(await service.request({ method: 'GET', url: api('/users/current'), token: victim.token }), 401, 'user-unauthenticated');
      const login = await service.request({ method: 'POST', url: api('/auth/token'), payload: { login: 'delete-me', password: USER_PASSWORD } });
      assert.equal(login.statusCode, 401);
      const list = (await service.request({ method: 'GET', url: api('/users'), token: admin })).json() as UserJson[];
      assert.ok(!list.some((user) => user.id === victim.id));
      const role = (await service.request({ method: 'GET', url: api(`/roles/${roleId}`), token: admin })).json() as { user_ids: string[] };
      assert.ok(!role.user_ids.includes(victim.id), 'the role no longer lists the deleted user');

      // The login is free again.
      const again = await service.createUser('DELETE-ME');
      assert.notEqual(again, victim.id);

      assertError(await service.request({ method: 'DELETE', url: api(`/users/${victim.id}`), token: admin }), 404, 'not-found');
    });

    test('DELETE needs users:disable: 403 without it (users:edit is not enough)', async () => {
      const target = await service.createUser('delete-denied-target');
      for (const [login, permissions] of [
        ['delete-plain', []],
        ['delete-editor', [users('edit'), users('create'), users('reset_password')]],
      ] as const) {
        const actor = await actorWith(login, [...permissions]);
        assertError(await service.request({ method: 'DELETE', url: api(`/users/${target}`), token: actor.token }), 403, 'permission-denied');
      }
      assert.equal((await fetchUser(target)).login, 'delete-denied-target');
    });

    test('users:disable on "*" deletes any user; on one user id only that user', async () => {
      const a = await service.createUser('delete-star-a');
      const star = await actorWith('delete-star', [users('disable')]);
      const response = await service.request({ method: 'DELETE', url: api(`/users/${a}`), token: star.token });
      assert.equal(response.statusCode, 204, response.body);
      assertError(await getUser(a, admin), 404, 'not-found');

      const allowed = await service.createUser('delete-one-allowed');
      const denied = await service.createUser('delete-one-denied');
      const one = await actorWith('delete-one', [users('disable', allowed)]);
      assertError(await service.request({ method: 'DELETE', url: api(`/users/${denied}`), token: one.token }), 403, 'permission-denied');
      assert.equal((await fetchUser(denied)).login, 'delete-one-denied');
      assert.equal((await service.request({ method: 'DELETE', url: api(`/users/${allowed}`), token: one.token })).statusCode, 204);
      assertError(await getUser(allowed, admin), 404, 'not-found');
    });

    test('nobody can delete the bootstrap admin: 403', async () => {
      const star = await actorWith('delete-admin-attempt', [users('disable')]);
      for (const token of [admin, star.token]) {
        assertError(await service.request({ method: 'DELETE', url: api(`/users/${adminId}`), token }), 403, 'permission-denied');
      }
      assert.equal((await fetchUser(adminId)).login, 'admin');
      await service.login('admin', ADMIN_PASSWORD);
    });

    test('renaming the bootstrap admin, even only in case, does not make it deletable or renamable', async () => {
      const disabler = await actorWith('delete-renamed-admin', [users('disable')]);
      const caseOnly = await putUser(adminId, admin, { id: adminId, login: 'Admin' });
      if (caseOnly.statusCode === 200) {
        // A case-only rename may be allowed, but the admin stays protected.
        assertError(await service.request({ method: 'DELETE', url: api(`/users/${adminId}`), token: disabler.token }), 403, 'permission-denied');
        assertError(await putUser(adminId, admin, { id: adminId, login: 'root' }), 403, 'permission-denied');
      } else {
        assertError(caseOnly, 403, 'permission-denied');
      }
      assertError(await putUser(adminId, admin, { id: adminId, login: 'administrator' }), 403, 'permission-denied');
      const row = await userRow(adminId);
      assert.equal(row.login_key, 'admin');
      await service.login('admin', ADMIN_PASSWORD);
      // Put the spelling back for the tests that follow.
      assert.equal((await putUser(adminId, admin, { id: adminId, login: 'admin' })).statusCode, 200);
    });

    test('you cannot delete yourself: 403', async () => {
      const self = await actorWith('delete-self', [users('disable')]);
      assertError(await service.request({ method: 'DELETE', url: api(`/users/${self.id}`), token: self.token }), 403, 'permission-denied');
      assertError(await service.request({ method: 'DELETE', url: api(`/users/${self.id.toUpperCase()}`), token: self.token }), 403, 'permission-denied');
      assert.equal((await service.request({ method: 'GET', url: api('/users/current'), token: self.token })).statusCode, 200);

      // A second superuser (only made directly in the store) cannot delete itself either.
      const second = await actorWith('delete-self-super', []);
      await service.store.db.updateTable('users').set({ is_superuser: 1 }).where('id', '=', second.id).execute();
      assertError(await service.request({ method: 'DELETE', url: api(`/users/${second.id}`), token: second.token }), 403, 'permission-denied');
      assert.equal((await fetchUser(second.id)).is_superuser, true);
    });

    test('DELETE: a non-UUID :sid is 400 invalid-uuid, an unknown id 404 not-found', async () => {
      assertError(await service.request({ method: 'DELETE', url: api('/users/not-a-uuid'), token: admin }), 400, 'invalid-uuid');
      assertError(await service.request({ method: 'DELETE', url: api(`/users/${UNKNOWN_ID}`), token: admin }), 404, 'not-found');
    });
  });
});
