// Beyond PE (CONTRACT §15), forced change: a user marked
// password_change_required reaches only PUT /users/current/password,
// GET /users/current and logout with its login token (elsewhere 403
// password-change-required); introspection shows the flag; /permitted answers
// false for everything; a successful change clears it and the same token
// becomes a full one.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { USER_PASSWORD, type TestService, startServiceWithAdmin } from '../kit/service.js';
import { api } from './support.js';
import { runCli } from '../kit/processes.js';
import { storeArgs } from '../cli/support.js';

const NEW_PASSWORD = 'a freshly chosen passphrase';
const ANY_USERS_PERMISSION = { object_type: 'users', action: 'edit', instance: '*' };

describeEachDatabase('password change required', (target) => {
  let service: TestService;
  let admin: string;
  before(async () => {
    ({ service, admin } = await startServiceWithAdmin(target.dialect));
  });
  after(() => service?.close());

  /** A superuser (so only the flag can refuse it) marked for a change by PUT, logged in. */
  const markedUser = async (login: string) => {
    const id = await service.createUser(login, { role_ids: [1] });
    const marked = await service.request({ method: 'PUT', url: api(`/users/${id}`), token: admin, payload: { password_change_required: true } });
    assert.equal(marked.statusCode, 200, marked.body);
    assert.equal((marked.json() as { password_change_required: boolean }).password_change_required, true);
    return { id, token: await service.login(login, USER_PASSWORD) };
  };

  test('a marked user\'s token reaches only the password change, GET /users/current and logout: 403 password-change-required elsewhere', async () => {
    const { id, token } = await markedUser('forced-routes');
    const refused = [
      { method: 'GET', url: api('/users') },
      { method: 'GET', url: api(`/users/${id}`) },
      { method: 'GET', url: '/rbac-api/v2/users' },
      { method: 'PUT', url: api(`/users/${id}`), payload: { password_change_required: false } },
      { method: 'GET', url: api('/roles') },
      { method: 'GET', url: api(`/users/${id}/tokens`) },
      { method: 'POST', url: api('/tokens'), payload: {} },
      { method: 'GET', url: api('/permitted/users/edit') },
      { method: 'POST', url: api('/permitted'), payload: { token: id, permissions: [ANY_USERS_PERMISSION] } },
      { method: 'POST', url: api(`/users/${id}/password/reset`) },
    ] as const;
    for (const call of refused) assertError(await service.request({ ...call, token }), 403, 'password-change-required');
    const row = await service.store.db.selectFrom('users').select('password_change_required').where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.password_change_required, 1, 'its own PUT did not clear the flag');

    const current = await service.request({ method: 'GET', url: api('/users/current'), token });
    assert.equal(current.statusCode, 200, current.body);
    assert.equal((current.json() as { password_change_required: boolean }).password_change_required, true);
    const loggedOut = await service.request({ method: 'DELETE', url: api('/tokens/current'), token });
    assert.equal(loggedOut.statusCode, 204, loggedOut.body);
    assertError(await service.request({ method: 'GET', url: api('/users/current'), token }), 401, 'user-unauthenticated');
  });

  test('introspection shows password_change_required: true; /permitted answers false for every permission until the change', async () => {
    const { id, token } = await markedUser('forced-introspected');
    const introspected = await service.request({ method: 'POST', url: '/rbac-api/v2/auth/token/authenticate', payload: { token } });
    assert.equal(introspected.statusCode, 200, introspected.body);
    assert.equal((introspected.json() as { password_change_required: boolean }).password_change_required, true);
    const asked = await service.request({ method: 'POST', url: api('/permitted'), token: admin, payload: { token: id, permissions: [ANY_USERS_PERMISSION] } });
    assert.equal(asked.statusCode, 200, asked.body);
    assert.deepEqual(asked.json(), [false], 'a superuser marked for a change may do nothing');

    const changed = await service.request({ method: 'PUT', url: api('/users/current/password'), token, payload: { current_password: USER_PASSWORD, password: NEW_PASSWORD } });
    assert.equal(changed.statusCode, 200, changed.body);
    const after = await service.request({ method: 'POST', url: '/rbac-api/v2/auth/token/authenticate', payload: { token } });
    assert.equal((after.json() as { password_change_required: boolean }).password_change_required, false);
    assert.deepEqual((await service.request({ method: 'POST', url: api('/permitted'), token: admin, payload: { token: id, permissions: [ANY_USERS_PERMISSION] } })).json(), [true]);
  });

  test('a successful change clears the flag and the same token becomes a full one', async () => {
    const { token } = await markedUser('forced-cleared');
    const changed = await service.request({ method: 'PUT', url: api('/users/current/password'), token, payload: { current_password: USER_PASSWORD, password: NEW_PASSWORD } });
    assert.equal(changed.statusCode, 200, changed.body);
    const listed = await service.request({ method: 'GET', url: api('/users'), token });
    assert.equal(listed.statusCode, 200, listed.body);
  });

  test('a reset by token clears the flag', async () => {
    const { id } = await markedUser('forced-reset');
    const reset = await service.request({ method: 'POST', url: api('/auth/reset'), payload: { token: await service.resetToken(id), password: NEW_PASSWORD } });
    assert.ok(reset.statusCode < 300, reset.body);
    const token = await service.login('forced-reset', NEW_PASSWORD);
    assert.equal((await service.request({ method: 'GET', url: api('/users'), token })).statusCode, 200);
  });

  test('POST /users may set password_change_required with a password, not without one', async () => {
    const created = await service.request({ method: 'POST', url: api('/users'), token: admin, payload: { login: 'forced-created', password: USER_PASSWORD, password_change_required: true, role_ids: [1] } });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal((created.json() as { password_change_required: boolean }).password_change_required, true);
    const token = await service.login('forced-created', USER_PASSWORD);
    assertError(await service.request({ method: 'GET', url: api('/users'), token }), 403, 'password-change-required');

    const refused = await service.request({ method: 'POST', url: api('/users'), token: admin, payload: { login: 'forced-nopassword', password: null, password_change_required: true } });
    assertError(refused, 400, 'schema-violation');
    assert.equal(await service.store.db.selectFrom('users').select('id').where('login_key', '=', 'forced-nopassword').executeTakeFirst(), undefined, 'nothing was created');
  });

  test('setting password_change_required needs what editing the user needs', async () => {
    const id = await service.createUser('forced-target');
    const other = await service.createUser('forced-nobody');
    void other;
    const plain = await service.login('forced-nobody', USER_PASSWORD);
    assertError(await service.request({ method: 'PUT', url: api(`/users/${id}`), token: plain, payload: { password_change_required: true } }), 403, 'permission-denied');
    const row = await service.store.db.selectFrom('users').select('password_change_required').where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.password_change_required, 0);
  });

  test('rbac users create --temporary-password creates a user that must change its password; without a password it is refused', async () => {
    const created = await runCli(['users', 'create', 'forced-cli', '--temporary-password', '--password-stdin', ...storeArgs(service.workspace)], { input: `${USER_PASSWORD}\n` });
    assert.equal(created.code, 0, created.stderr);
    assert.equal((JSON.parse(created.stdout) as { password_change_required: boolean }).password_change_required, true);
    const refused = await runCli(['users', 'create', 'forced-cli-nopassword', '--temporary-password', ...storeArgs(service.workspace)]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.equal(await service.store.db.selectFrom('users').select('id').where('login_key', '=', 'forced-cli-nopassword').executeTakeFirst(), undefined);
  });
});
