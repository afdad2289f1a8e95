// PE's error kinds where PE has one (CONTRACT §7): inconsistent-id (400: the
// id in the body differs from the path's; details name both, as PE's do),
// and remote-user-conflict (409: a local user asked for with a remote user's
// login, or the reverse). invalid-id-filter is in list-routes.test.ts,
// token-timed-out in tokens/inactivity-timeout.test.ts.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { USER_PASSWORD, startServiceWithAdmin, type TestService } from '../kit/service.js';

const v1 = (path: string) => `/rbac-api/v1${path}`;
const OTHER = '00000000-0000-4000-8000-0000000000aa';

describeEachDatabase("PE's error kinds", (target) => {
  let service: TestService;
  let admin: string;
  before(async () => {
    ({ service, admin } = await startServiceWithAdmin(target.dialect));
  });
  after(() => service?.close());

  const call = (method: 'POST' | 'PUT' | 'GET', url: string, payload?: object) => service.request({ method, url, token: admin, ...(payload ? { payload } : {}) });

  describe('inconsistent-id', () => {
    test('PUT /users/:sid, /roles/:rid and /groups/:sid with another id in the body: 400 inconsistent-id naming both ids; nothing changes', async () => {
      const userId = await service.createUser('consistent');
      const user = await call('PUT', v1(`/users/${userId}`), { id: OTHER, display_name: 'Changed' });
      const body = assertError(user, 400, 'inconsistent-id');
      assert.deepEqual(body.details, { 'url-id': userId, 'body-id': OTHER });
      assert.equal(((await call('GET', v1(`/users/${userId}`))).json() as { display_name: string }).display_name, 'consistent');
      // The same id in another case is the same id.
      assert.equal((await call('PUT', v1(`/users/${userId}`), { id: userId.toUpperCase(), display_name: 'Same' })).statusCode, 200);
      // A body id that is no id at all is not quoted back (it may be a token pasted by mistake).
      const pasted = assertError(await call('PUT', v1(`/users/${userId}`), { id: 'secret-looking-value', display_name: 'x' }), 400, 'inconsistent-id');
      assert.doesNotMatch(JSON.stringify(pasted), /secret-looking-value/);

      const role = (await call('POST', v1('/roles'), { display_name: 'Consistent', permissions: [] })).json() as { id: number };
      const roleBody = assertError(await call('PUT', v1(`/roles/${role.id}`), { id: role.id + 1, display_name: 'Renamed' }), 400, 'inconsistent-id');
      assert.deepEqual(roleBody.details, { 'url-id': role.id, 'body-id': role.id + 1 });
      assert.equal(((await call('GET', v1(`/roles/${role.id}`))).json() as { display_name: string }).display_name, 'Consistent');

      const group = (await call('POST', v1('/command/groups/create'), { login: 'consistent-group', role_ids: [] })).json() as { id: string };
      const groupBody = assertError(await call('PUT', v1(`/groups/${group.id}`), { id: OTHER, role_ids: [role.id] }), 400, 'inconsistent-id');
      assert.deepEqual(groupBody.details, { 'url-id': group.id, 'body-id': OTHER });
      assert.deepEqual(((await call('GET', v1(`/groups/${group.id}`))).json() as { role_ids: number[] }).role_ids, []);
    });
  });

  describe('remote-user-conflict', () => {
    test("a local user with a remote user's login, or a remote user with a local user's, is 409 remote-user-conflict; nothing is created", async () => {
      const remote = await call('POST', v1('/users'), { login: 'far-away', email: 'far@example.com', display_name: 'Far', is_remote: true });
      assert.equal(remote.statusCode, 201, remote.body);
      assertError(await call('POST', v1('/users'), { login: 'Far-Away', password: USER_PASSWORD }), 409, 'remote-user-conflict');
      await service.createUser('close-by');
      assertError(await call('POST', v1('/users'), { login: 'close-by', is_remote: true }), 409, 'remote-user-conflict');
      // Two users of the same kind stay PE's plain conflict.
      assertError(await call('POST', v1('/users'), { login: 'close-by', password: USER_PASSWORD }), 409, 'conflict');
      assertError(await call('POST', v1('/users'), { login: 'far-away', is_remote: true }), 409, 'conflict');
      const logins = ((await call('GET', v1('/users'))).json() as { login: string }[]).map((user) => user.login).filter((login) => /far-away|close-by/i.test(login));
      assert.deepEqual(logins.sort(), ['close-by', 'far-away']);
    });

    test("renaming a local user to a remote user's login is 409 remote-user-conflict", async () => {
      const id = await service.createUser('renamer');
      await call('POST', v1('/users'), { login: 'remote-name', is_remote: true });
      assertError(await call('PUT', v1(`/users/${id}`), { id, login: 'remote-name' }), 409, 'remote-user-conflict');
      assert.equal(((await call('GET', v1(`/users/${id}`))).json() as { login: string }).login, 'renamer');
    });
  });
});
