// GET /users, GET /users/:sid and GET /users/current: who may read which
// users, the PE user JSON, and 401 user-unauthenticated on every users
// endpoint without a token.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { USER_PASSWORD, type TestService } from '../kit/service.js';
import { UNKNOWN_ID, api, assertUserShape, type UserJson, usersSuite, SECRET_WORDS, UNTOUCHED_STATE } from './support.js';

describeEachDatabase('users', (target) => {
  const suite = usersSuite(target);
  let service: TestService;
  let admin: string;
  let adminId: string;
  before(() => ({ service, admin, adminId } = suite));
  const { users, actorWith, getUser, userRow } = suite;

  describe('authentication', () => {
    test('every users endpoint needs authentication: 401 user-unauthenticated', async () => {
      const id = await service.createUser('unauth-target');
      const calls = [
        { method: 'GET', url: api('/users') },
        { method: 'GET', url: api('/users/current') },
        { method: 'GET', url: api(`/users/${id}`) },
        { method: 'POST', url: api('/users'), payload: { login: 'unauth-new', password: USER_PASSWORD } },
        { method: 'PUT', url: api(`/users/${id}`), payload: { id, email: 'changed@example.com' } },
        { method: 'PUT', url: api(`/users/${id}`), payload: { is_revoked: true } },
        { method: 'DELETE', url: api(`/users/${id}`) },
      ] as const;
      for (const call of calls) {
        for (const token of [undefined, 'x'.repeat(43)]) {
          const response = await service.request({ ...call, ...(token ? { token } : {}) });
          assertError(response, 401, 'user-unauthenticated');
        }
      }
      const row = await userRow(id);
      assert.equal(row.email, 'unauth-target@example.com', 'the unauthenticated PUT changed nothing');
      assert.equal(row.is_revoked, 0, 'the unauthenticated PUT revoked nothing');
      assert.equal(await service.store.db.selectFrom('users').select('id').where('login_key', '=', 'unauth-new').executeTakeFirst(), undefined);
    });
  });

  describe('reading users', () => {
    test('GET /users as a superuser lists every user in the PE shape, without passwords or hashes', async () => {
      const id = await service.createUser('list-me', { email: 'list-me@example.com', display_name: 'List Me' });
      const response = await service.request({ method: 'GET', url: api('/users'), token: admin });
      assert.equal(response.statusCode, 200);
      const list = response.json() as UserJson[];
      assert.ok(Array.isArray(list));
      for (const user of list) assertUserShape(user);
      const listed = list.find((user) => user.id === id);
      assert.ok(listed, 'the new user is listed');
      assert.deepEqual(listed, {
        id,
        login: 'list-me',
        email: 'list-me@example.com',
        display_name: 'List Me',
        role_ids: [],
        is_group: false,
        is_remote: false,
        is_superuser: false,
        is_revoked: false,
        last_login: null,
        inherited_role_ids: [],
        group_ids: [],
        ...UNTOUCHED_STATE,
      });
      const adminUser = list.find((user) => user.login === 'admin');
      assert.ok(adminUser?.is_superuser, 'the bootstrap admin is listed as a superuser');

      const hashes = (await service.store.db.selectFrom('users').select('password_hash').execute()).flatMap((row) => (row.password_hash ? [row.password_hash] : []));
      assert.ok(hashes.length >= 2);
      for (const hash of hashes) assert.ok(!response.body.includes(hash), 'no password hash in the body');
      assert.doesNotMatch(response.body, SECRET_WORDS);
    });

    test('GET /users needs a permission on users: 403 for a user without one, 200 with any users permission', async () => {
      const plain = await actorWith('list-plain', []);
      assertError(await service.request({ method: 'GET', url: api('/users'), token: plain.token }), 403, 'permission-denied');

      const other = await service.createUser('list-other');
      // Any users permission will do, even one on a single other user.
      const narrow = await actorWith('list-narrow', [users('reset_password', other)]);
      const allowed = await service.request({ method: 'GET', url: api('/users'), token: narrow.token });
      assert.equal(allowed.statusCode, 200, allowed.body);
      assert.ok((allowed.json() as UserJson[]).some((user) => user.id === plain.id));
    });

    test('GET /users/:sid: own id always readable; another user needs a users permission', async () => {
      const plain = await actorWith('read-plain', []);
      const other = await service.createUser('read-other');

      const own = await getUser(plain.id, plain.token);
      assert.equal(own.statusCode, 200, own.body);
      const ownUser = own.json() as UserJson;
      assertUserShape(ownUser);
      assert.equal(ownUser.id, plain.id);
      assert.equal(ownUser.login, 'read-plain');

      assertError(await getUser(other, plain.token), 403, 'permission-denied');
      assertError(await getUser(adminId, plain.token), 403, 'permission-denied');

      const editor = await actorWith('read-editor', [users('edit')]);
      const read = await getUser(other, editor.token);
      assert.equal(read.statusCode, 200, read.body);
      assert.equal((read.json() as UserJson).login, 'read-other');

      const superuser = await getUser(other, admin);
      assert.equal(superuser.statusCode, 200);
      assert.equal((superuser.json() as UserJson).id, other);
    });

    test('GET /users/:sid own id in upper case is still the own id', async () => {
      const plain = await actorWith('read-upper', []);
      const response = await getUser(plain.id.toUpperCase(), plain.token);
      assert.equal(response.statusCode, 200, response.body);
      assert.equal((response.json() as UserJson).id, plain.id);
    });

    test('GET /users/current returns the token user, even without any permission', async () => {
      const plain = await actorWith('current-plain', []);
      const response = await service.request({ method: 'GET', url: api('/users/current'), token: plain.token });
      assert.equal(response.statusCode, 200, response.body);
      const user = response.json() as UserJson;
      assertUserShape(user);
      assert.equal(user.id, plain.id);
      assert.equal(user.login, 'current-plain');
      assert.equal(user.is_superuser, false);

      const forAdmin = (await service.request({ method: 'GET', url: api('/users/current'), token: admin })).json() as UserJson;
      assert.equal(forAdmin.login, 'admin');
      assert.equal(forAdmin.is_superuser, true);
    });

    test('GET /users/:sid: a non-UUID is 400 invalid-uuid, an unknown id 404 not-found', async () => {
      for (const sid of ['not-a-uuid', '12345', '00000000-0000-4000-8000-00000000000g', `${UNKNOWN_ID}0`]) {
        assertError(await getUser(encodeURIComponent(sid), admin), 400, 'invalid-uuid');
      }
      assertError(await getUser(UNKNOWN_ID, admin), 404, 'not-found');
    });
  });
});
