// PUT /users/:sid: who may edit, revoke and reinstate which users; renames
// and conflicts (also under concurrency); what revoking does to tokens; and
// 400 schema-violation / invalid-uuid, 404 not-found for bad requests.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { hashLoginToken } from '../../src/login/login-tokens.js';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError, failedRules, type ErrorBody } from '../kit/errors.js';
import { USER_PASSWORD, startTestService, type TestService } from '../kit/service.js';
import { UNKNOWN_ID, api, assertUserShape, type UserJson, usersSuite } from './support.js';

describeEachDatabase('users', (target) => {
  const suite = usersSuite(target);
  let service: TestService;
  let admin: string;
  let adminId: string;
  before(() => ({ service, admin, adminId } = suite));
  const { createRole, users, actorWith, getUser, putUser, userRow, fetchUser } = suite;

  describe('editing users', () => {
    test('PUT accepts the whole PE user object; read-only fields are ignored', async () => {
      const id = await service.createUser('round-trip');
      const roleId = await createRole([users('reset_password')]);
      const fetched = await fetchUser(id);
      const edited = {
        ...fetched,
        email: 'new-address@example.com',
        display_name: 'Round Trip',
        role_ids: [roleId],
        // Read-only: must be ignored, not applied.
        is_superuser: true,
        is_remote: true,
        is_group: false,
        last_login: '2001-01-01T00:00:00.000Z',
        inherited_role_ids: [],
        group_ids: [],
      };
      const response = await putUser(id, admin, edited);
      assert.equal(response.statusCode, 200, response.body);
      const user = response.json() as UserJson;
      assertUserShape(user);
      assert.equal(user.email, 'new-address@example.com');
      assert.equal(user.display_name, 'Round Trip');
      assert.deepEqual(user.role_ids, [roleId]);
      assert.equal(user.is_superuser, false, 'is_superuser is read-only');
      assert.equal(user.is_remote, false, 'is_remote is read-only');
      assert.equal(user.last_login, null, 'last_login is read-only');
      assert.deepEqual(await fetchUser(id), user, 'the change is stored');
      const row = await userRow(id);
      assert.equal(row.is_superuser, 0);
      assert.equal(row.is_remote, 0);
      assert.ok(row.password_hash !== null, 'the password is untouched');
      await service.login('round-trip', USER_PASSWORD);
    });

    test('PUT with only some fields changes only those', async () => {
      const id = await service.createUser('partial-edit', { display_name: 'Partial' });
      const response = await putUser(id, admin, { email: 'partial@example.org' });
      assert.equal(response.statusCode, 200, response.body);
      const user = response.json() as UserJson;
      assert.equal(user.email, 'partial@example.org');
      assert.equal(user.display_name, 'Partial');
      assert.equal(user.login, 'partial-edit');
    });

    test("the body id must match the path: 400 inconsistent-id (PE's kind) otherwise; case does not matter", async () => {
      const id = await service.createUser('id-match');
      const other = await service.createUser('id-other');
      assertError(await putUser(id, admin, { id: other, email: 'mismatch@example.com' }), 400, 'inconsistent-id');
      assertError(await putUser(id, admin, { id: 'not-a-uuid', email: 'mismatch@example.com' }), 400, 'inconsistent-id');
      assert.equal((await userRow(id)).email, 'id-match@example.com', 'nothing changed');
      assert.equal((await userRow(other)).email, 'id-other@example.com', 'nothing changed on the other user');

      const upper = await putUser(id, admin, { id: id.toUpperCase(), email: 'match@example.com' });
      assert.equal(upper.statusCode, 200, upper.body);
      assert.equal((upper.json() as UserJson).email, 'match@example.com');
    });

    test('PUT: unknown keys and wrong types are 400 schema-violation and change nothing', async () => {
      const id = await service.createUser('put-schema');
      const bodies: unknown[] = [
        { email: 'x@example.com', password: USER_PASSWORD },
        { email: 'x@example.com', colour: 'blue' },
        { email: 5 },
        { login: ['x'] },
        { display_name: null },
        { role_ids: 'all' },
        { role_ids: [1.5] },
        { is_revoked: 'true' },
        { is_revoked: 1 },
        { is_superuser: 'yes' },
        { id: 42 },
        { login: '' },
        [],
      ];
      for (const payload of bodies) {
        const response = await service.request({
          method: 'PUT',
          url: api(`/users/${id}`),
          token: admin,
          payload: JSON.stringify(payload),
          headers: { 'content-type': 'application/json' },
        });
        assertError(response, 400, 'schema-violation');
      }
      const row = await userRow(id);
      assert.equal(row.email, 'put-schema@example.com');
      assert.equal(row.login, 'put-schema');
      assert.equal(row.is_revoked, 0);
    });

    test('PUT: a non-UUID :sid is 400 invalid-uuid, an unknown id 404 not-found', async () => {
      assertError(await putUser('not-a-uuid', admin, { email: 'x@example.com' }), 400, 'invalid-uuid');
      assertError(await putUser(UNKNOWN_ID, admin, { email: 'x@example.com' }), 404, 'not-found');
      assertError(await putUser(UNKNOWN_ID, admin, { id: UNKNOWN_ID, is_revoked: true }), 404, 'not-found');
    });

    test('changing login, email, display_name (users:edit) or role_ids (user_roles:edit_members): 403 without it', async () => {
      const target = await service.createUser('edit-target');
      const roleId = await createRole([users('reset_password')]);
      const plain = await actorWith('edit-plain', []);
      const disabler = await actorWith('edit-disabler', [users('disable'), users('reset_password'), users('create')]);
      const changes = [{ login: 'edit-target-renamed' }, { email: 'edited@example.com' }, { display_name: 'Edited' }, { role_ids: [roleId] }];
      for (const actor of [plain, disabler]) {
        for (const change of changes) {
          assertError(await putUser(target, actor.token, { id: target, ...change }), 403, 'permission-denied');
        }
      }
      const after = await fetchUser(target);
      assert.equal(after.login, 'edit-target');
      assert.equal(after.email, 'edit-target@example.com');
      assert.equal(after.display_name, 'edit-target');
      assert.deepEqual(after.role_ids, []);
    });

    test('users:edit on "*" edits any user; changing roles needs the role rule (user_roles:edit_members), not users:edit', async () => {
      const editor = await actorWith('edit-star', [users('edit')]);
      const roleId = await createRole([users('reset_password')]);
      for (const login of ['edit-star-a', 'edit-star-b']) {
        const id = await service.createUser(login);
        const response = await putUser(id, editor.token, {
          id,
          login: `${login}-renamed`,
          email: `${login}@example.net`,
          display_name: `${login} edited`,
        });
        assert.equal(response.statusCode, 200, response.body);
        const user = await fetchUser(id);
        assert.equal(user.login, `${login}-renamed`);
        assert.equal(user.email, `${login}@example.net`);
        assert.equal(user.display_name, `${login} edited`);

        assertError(await putUser(id, editor.token, { id, role_ids: [roleId] }), 403, 'permission-denied');
        assert.deepEqual((await fetchUser(id)).role_ids, []);
        const byAdmin = await putUser(id, await service.adminToken(), { id, role_ids: [roleId] });
        assert.equal(byAdmin.statusCode, 200, byAdmin.body);
        assert.deepEqual((await fetchUser(id)).role_ids, [roleId]);
      }
      // Above all, an editor cannot grant itself a role.
      assertError(await putUser(editor.id, editor.token, { id: editor.id, role_ids: [roleId] }), 403, 'permission-denied');
    });

    test('only a superuser may edit, revoke, reinstate or delete a superuser, whatever users permissions on "*" others hold', async () => {
      const disabler = await actorWith('disable-star-super', [users('disable')]);
      const editor = await actorWith('edit-star-super', [users('edit'), users('disable')]);
      const superId = await service.createUser('second-superuser');
      await service.store.db.updateTable('users').set({ is_superuser: 1 }).where('id', '=', superId).execute();
      const refused = assertError(await putUser(superId, editor.token, { id: superId, display_name: 'Renamed by a delegate' }), 403, 'permission-denied');
      assert.match(refused.msg, /superuser/);
      assert.equal((await fetchUser(superId)).display_name, 'second-superuser');
      assertError(await putUser(superId, disabler.token, { id: superId, is_revoked: true }), 403, 'permission-denied');
      assertError(
        await service.request({ method: 'DELETE', url: `/rbac-api/v1/users/${superId}`, token: disabler.token }),
        403,
        'permission-denied',
      );
      assert.equal((await fetchUser(superId)).is_revoked, false);
      const byAdmin = await putUser(superId, await service.adminToken(), { id: superId, is_revoked: true });
      assert.equal(byAdmin.statusCode, 200, byAdmin.body);
    });

    test('users:edit on one user id: allowed on that user, 403 on another', async () => {
      const allowed = await service.createUser('edit-one-allowed');
      const denied = await service.createUser('edit-one-denied');
      const editor = await actorWith('edit-one', [users('edit', allowed)]);

      const ok = await putUser(allowed, editor.token, { id: allowed, email: 'allowed@example.net', display_name: 'Allowed' });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal((await fetchUser(allowed)).email, 'allowed@example.net');

      assertError(await putUser(denied, editor.token, { id: denied, email: 'denied@example.net' }), 403, 'permission-denied');
      assertError(await putUser(adminId, editor.token, { id: adminId, email: 'pwned@example.net' }), 403, 'permission-denied');
      assert.equal((await fetchUser(denied)).email, 'edit-one-denied@example.com');
      assert.notEqual((await fetchUser(adminId)).email, 'pwned@example.net');
    });

    test('a GET-then-PUT round trip by an editor without users:disable works while is_revoked is unchanged', async () => {
      const id = await service.createUser('round-trip-editor');
      const editor = await actorWith('round-trip-editor-actor', [users('edit', id)]);
      const fetched = (await getUser(id, editor.token)).json() as UserJson;
      const response = await putUser(id, editor.token, { ...fetched, display_name: 'Changed by editor' });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal((response.json() as UserJson).display_name, 'Changed by editor');
      assert.equal((response.json() as UserJson).is_revoked, false);
    });

    test('changing is_revoked needs users:disable: users:edit is not enough', async () => {
      const target = await service.createUser('revoke-target');
      const editor = await actorWith('revoke-editor', [users('edit'), users('create'), users('reset_password')]);
      assertError(await putUser(target, editor.token, { id: target, is_revoked: true }), 403, 'permission-denied');
      assert.equal((await userRow(target)).is_revoked, 0);

      const disabler = await actorWith('revoke-disabler', [users('disable')]);
      const response = await putUser(target, disabler.token, { id: target, is_revoked: true });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal((response.json() as UserJson).is_revoked, true);
      assert.equal((await userRow(target)).is_revoked, 1);

      // And back: un-revoking needs users:disable too.
      assertError(await putUser(target, editor.token, { id: target, is_revoked: false }), 403, 'permission-denied');
      assert.equal((await userRow(target)).is_revoked, 1);
      const reinstated = await putUser(target, disabler.token, { id: target, is_revoked: false });
      assert.equal(reinstated.statusCode, 200, reinstated.body);
      assert.equal((await userRow(target)).is_revoked, 0);
    });

    test('users:disable on one user id: may revoke that user, 403 on another', async () => {
      const allowed = await service.createUser('disable-one-allowed');
      const denied = await service.createUser('disable-one-denied');
      const disabler = await actorWith('disable-one', [users('disable', allowed)]);
      const ok = await putUser(allowed, disabler.token, { id: allowed, is_revoked: true });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal((await userRow(allowed)).is_revoked, 1);
      assertError(await putUser(denied, disabler.token, { id: denied, is_revoked: true }), 403, 'permission-denied');
      assert.equal((await userRow(denied)).is_revoked, 0);
    });

    test('a mixed change needs both permissions: edit + revoke with only one of them is 403 and changes nothing', async () => {
      const target = await service.createUser('mixed-target');
      const editor = await actorWith('mixed-editor', [users('edit')]);
      const disabler = await actorWith('mixed-disabler', [users('disable')]);
      for (const actor of [editor, disabler]) {
        assertError(await putUser(target, actor.token, { id: target, email: 'mixed@example.net', is_revoked: true }), 403, 'permission-denied');
      }
      const row = await userRow(target);
      assert.equal(row.email, 'mixed-target@example.com');
      assert.equal(row.is_revoked, 0);

      const both = await actorWith('mixed-both', [users('edit'), users('disable')]);
      const response = await putUser(target, both.token, { id: target, email: 'mixed@example.net', is_revoked: true });
      assert.equal(response.statusCode, 200, response.body);
      const after = await userRow(target);
      assert.equal(after.email, 'mixed@example.net');
      assert.equal(after.is_revoked, 1);
    });

    test('an editor cannot make anyone a superuser through PUT', async () => {
      const editor = await actorWith('escalate-editor', [users('edit'), users('disable')]);
      const self = (await getUser(editor.id, editor.token)).json() as UserJson;
      const response = await putUser(editor.id, editor.token, { ...self, is_superuser: true });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal((response.json() as UserJson).is_superuser, false);
      assert.equal((await userRow(editor.id)).is_superuser, 0);
      assertError(await service.request({ method: 'POST', url: api('/roles'), token: editor.token, payload: { display_name: 'escalate' } }), 403, 'permission-denied');
    });

    test('renaming to a login that exists, ignoring case, is 409 conflict; a case-only rename of oneself is fine', async () => {
      await service.createUser('Rename-Taken');
      const id = await service.createUser('rename-me');
      for (const login of ['rename-taken', 'RENAME-TAKEN', 'admin']) {
        assertError(await putUser(id, admin, { id, login }), 409, 'conflict');
      }
      assert.equal((await userRow(id)).login, 'rename-me');

      const caseOnly = await putUser(id, admin, { id, login: 'Rename-Me' });
      assert.equal(caseOnly.statusCode, 200, caseOnly.body);
      assert.equal((caseOnly.json() as UserJson).login, 'Rename-Me');

      const renamed = await putUser(id, admin, { id, login: 'Renamed-User' });
      assert.equal(renamed.statusCode, 200, renamed.body);
      const token = await service.login('RENAMED-user', USER_PASSWORD);
      assert.equal(((await service.request({ method: 'GET', url: api('/users/current'), token })).json() as UserJson).id, id);
      const oldLogin = await service.request({ method: 'POST', url: api('/auth/token'), payload: { login: 'rename-me', password: USER_PASSWORD } });
      assert.equal(oldLogin.statusCode, 401, 'the old login no longer works');
    });

    test("a remote user's login cannot change, not even its case: 400 naming the login, nothing changes; the rest of it can be edited with the login sent unchanged", async () => {
      const created = await service.request({ method: 'POST', url: api('/users'), token: admin, payload: { login: 'remote-fixed', email: '', display_name: '', is_remote: true, password: null } });
      assert.equal(created.statusCode, 201, created.body);
      const id = (created.json() as UserJson).id;
      const before = await userRow(id);
      for (const login of ['remote-renamed', 'Remote-Fixed', ' remote-renamed ']) {
        const refused = assertError(await putUser(id, admin, { ...(await fetchUser(id)), login, email: 'changed@example.com' }), 400, 'schema-violation');
        assert.match(refused.msg, /remote user's login/);
        assert.deepEqual(refused.details, { field: 'login' });
      }
      assert.deepEqual(await userRow(id), before, 'nothing changed');
      const edits = await service.store.db.selectFrom('audit_events').select('id').where('type', '=', 'user-edited').where('subject_id', '=', id).execute();
      assert.equal(edits.length, 0);

      const edited = await putUser(id, admin, { ...(await fetchUser(id)), login: ' remote-fixed ', email: 'remote@example.com' });
      assert.equal(edited.statusCode, 200, edited.body);
      assert.equal((edited.json() as UserJson).login, 'remote-fixed');
      assert.equal((edited.json() as UserJson).email, 'remote@example.com');
    });

    test('login-minimum-length raised after users exist: a rename to another login is judged, a re-spelling of the same login is not', async () => {
      const id = await service.createUser('bob');
      // A second service on the same data, started with the stricter setting.
      const strict = await startTestService(target.dialect, { loginMinimumLength: 6 }, { workspace: service.workspace });
      try {
        const token = await strict.adminToken();
        const rename = (login: string) => strict.request({ method: 'PUT', url: api(`/users/${id}`), token, payload: { id, login } });
        const before = await userRow(id);
        for (const login of ['bobby', '  bobby  ', 'bob\u200b']) {
          const failures = failedRules(assertError(await rename(login), 400, 'schema-violation'));
          assert.ok(failures.includes('login-minimum-length'), `${login}: ${JSON.stringify(failures)}`);
        }
        assert.deepEqual(await userRow(id), before, 'nothing changed');
        // Case and compatibility spellings keep the login key: the login is the same, and not judged again.
        for (const login of ['BOB', 'Bob', 'ｂｏｂ']) {
          const response = await rename(login);
          assert.equal(response.statusCode, 200, `${login}: ${response.body}`);
          assert.equal((await userRow(id)).login, login);
        }
        assert.equal((await rename('robert')).statusCode, 200, 'a new login of 6 is fine');
        assert.deepEqual(failedRules(assertError(await rename('bob'), 400, 'schema-violation')), ['login-minimum-length']);
        assert.equal((await userRow(id)).login, 'robert', 'and the way back to the short one is judged');
      } finally {
        await strict.close();
      }
    });

    test('concurrent renames to one login: exactly one 200, the rest 409, never a 5xx', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) ids.push(await service.createUser(`rename-race-${i}`));
      const responses = await Promise.all(ids.map((id, i) => putUser(id, admin, { id, login: i % 2 ? 'Rename-Race-Winner' : 'rename-race-winner' })));
      const statuses = responses.map((response) => response.statusCode).sort();
      assert.deepEqual(statuses, [200, ...Array<number>(7).fill(409)], responses.map((response) => response.body).join('\n'));
      for (const response of responses.filter((candidate) => candidate.statusCode === 409)) assertError(response, 409, 'conflict');
      const holders = await service.store.db.selectFrom('users').select('id').where('login_key', '=', 'rename-race-winner').execute();
      assert.equal(holders.length, 1);
    });

    test('revoking a user makes every one of its tokens stop working, even after it is reinstated', async () => {
      const id = await service.createUser('revoke-tokens');
      const tokens = [await service.login('revoke-tokens', USER_PASSWORD), await service.login('revoke-tokens', USER_PASSWORD)];
      for (const token of tokens) assert.equal((await service.request({ method: 'GET', url: api('/users/current'), token })).statusCode, 200);

      const response = await putUser(id, admin, { id, is_revoked: true });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal((response.json() as UserJson).is_revoked, true);
      for (const token of tokens) {
        const refused = await service.request({ method: 'GET', url: api('/users/current'), token });
        assert.equal(refused.statusCode, 401, refused.body);
        assert.ok(['user-revoked', 'user-unauthenticated'].includes((refused.json() as ErrorBody).kind));
        const row = await service.store.db.selectFrom('login_tokens').select('revoked_at').where('token_hash', '=', hashLoginToken(token)).executeTakeFirstOrThrow();
        assert.notEqual(row.revoked_at, null, 'the token itself is revoked');
      }
      const login = await service.request({ method: 'POST', url: api('/auth/token'), payload: { login: 'revoke-tokens', password: USER_PASSWORD } });
      assertError(login, 401, 'user-revoked');

      const reinstated = await putUser(id, admin, { id, is_revoked: false });
      assert.equal(reinstated.statusCode, 200, reinstated.body);
      assert.equal((reinstated.json() as UserJson).is_revoked, false);
      for (const token of tokens) {
        assertError(await service.request({ method: 'GET', url: api('/users/current'), token }), 401, 'user-unauthenticated');
      }
      const fresh = await service.login('revoke-tokens', USER_PASSWORD);
      assert.equal((await service.request({ method: 'GET', url: api('/users/current'), token: fresh })).statusCode, 200);
    });

    test("revoking one user leaves other users' tokens working", async () => {
      const a = await actorWith('revoke-iso-a', []);
      const b = await actorWith('revoke-iso-b', []);
      assert.equal((await putUser(a.id, admin, { id: a.id, is_revoked: true })).statusCode, 200);
      assert.equal((await service.request({ method: 'GET', url: api('/users/current'), token: b.token })).statusCode, 200);
      assert.equal((await service.request({ method: 'GET', url: api('/users/current'), token: admin })).statusCode, 200);
    });

    test('un-revoking clears the failed-attempt count', async () => {
      const id = await service.createUser('unrevoke-attempts');
      for (let i = 0; i < 3; i++) {
        const failed = await service.request({ method: 'POST', url: api('/auth/token'), payload: { login: 'unrevoke-attempts', password: `wrong password ${i}` } });
        assert.equal(failed.statusCode, 401);
      }
      assert.equal((await userRow(id)).failed_attempts, 3);
      assert.equal((await putUser(id, admin, { id, is_revoked: true })).statusCode, 200);
      await service.store.db.updateTable('users').set({ failed_attempts: 9 }).where('id', '=', id).execute();

      const response = await putUser(id, admin, { id, is_revoked: false });
      assert.equal(response.statusCode, 200, response.body);
      const row = await userRow(id);
      assert.equal(row.is_revoked, 0);
      assert.equal(row.failed_attempts, 0);
      await service.login('unrevoke-attempts', USER_PASSWORD);
    });

    test('you cannot revoke yourself: 403, and you stay active', async () => {
      assertError(await putUser(adminId, admin, { id: adminId, is_revoked: true }), 403, 'permission-denied');
      assert.equal((await userRow(adminId)).is_revoked, 0);
      assert.equal((await service.request({ method: 'GET', url: api('/users/current'), token: admin })).statusCode, 200);

      const disabler = await actorWith('self-revoke', [users('disable')]);
      assertError(await putUser(disabler.id, disabler.token, { id: disabler.id, is_revoked: true }), 403, 'permission-denied');
      assertError(await putUser(disabler.id.toUpperCase(), disabler.token, { is_revoked: true }), 403, 'permission-denied');
      assert.equal((await userRow(disabler.id)).is_revoked, 0);
      assert.equal((await service.request({ method: 'GET', url: api('/users/current'), token: disabler.token })).statusCode, 200);
    });
  });
});
