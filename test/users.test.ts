// CONTRACT §3 (users): who may read, create, edit, revoke and delete users;
// the user JSON; logins that ignore case; remote users; and the error kinds of
// §7 for bad ids, bad bodies and missing authentication.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashLoginToken } from '../src/auth/login-tokens.js';
import { describeEachDatabase } from './kit/databases.js';
import { ADMIN_PASSWORD, USER_PASSWORD, startTestService, type TestService } from './kit/service.js';
import { assertError, type ErrorBody } from './kit/errors.js';

interface UserJson {
  id: string;
  login: string;
  email: string;
  display_name: string;
  role_ids: number[];
  is_group: boolean;
  is_remote: boolean;
  is_superuser: boolean;
  is_revoked: boolean;
  last_login: string | null;
}

interface Permission {
  object_type: string;
  action: string;
  instance: string;
}


const USER_KEYS = ['display_name', 'email', 'id', 'is_group', 'is_remote', 'is_revoked', 'is_superuser', 'last_login', 'login', 'role_ids'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

const api = (path: string) => `/rbac-api/v1${path}`;

/** The user JSON has exactly the PE fields, with the right types, and nothing secret. */
function assertUserShape(user: UserJson): void {
  assert.deepEqual(Object.keys(user).sort(), USER_KEYS);
  assert.match(user.id, UUID);
  assert.equal(typeof user.login, 'string');
  assert.equal(typeof user.email, 'string');
  assert.equal(typeof user.display_name, 'string');
  assert.ok(Array.isArray(user.role_ids) && user.role_ids.every((id) => Number.isInteger(id)));
  assert.equal(user.is_group, false);
  assert.equal(typeof user.is_remote, 'boolean');
  assert.equal(typeof user.is_superuser, 'boolean');
  assert.equal(typeof user.is_revoked, 'boolean');
  assert.ok(user.last_login === null || /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(user.last_login), `last_login ${user.last_login}`);
}

describeEachDatabase('users', (target) => {
  let service: TestService;
  let admin: string;
  let adminId: string;
  before(async () => {
    service = await startTestService(target.dialect);
    admin = await service.adminToken();
    adminId = ((await service.request({ method: 'GET', url: api('/users/current'), token: admin })).json() as UserJson).id;
  });
  after(() => service?.close());

  let roleCounter = 0;
  /** A role holding these permissions, created by admin; returns its id. */
  const createRole = async (permissions: Permission[]): Promise<number> => {
    const response = await service.request({
      method: 'POST',
      url: api('/roles'),
      token: admin,
      payload: { display_name: `users-test role ${++roleCounter}`, permissions },
    });
    assert.equal(response.statusCode, 201, response.body);
    return (response.json() as { id: number }).id;
  };
  const users = (action: string, instance = '*'): Permission => ({ object_type: 'users', action, instance });

  /** A local non-superuser holding the given permissions through a role, logged in. */
  const actorWith = async (login: string, permissions: Permission[]): Promise<{ id: string; token: string }> => {
    const role_ids = permissions.length > 0 ? [await createRole(permissions)] : [];
    const id = await service.createUser(login, { role_ids });
    return { id, token: await service.login(login, USER_PASSWORD) };
  };

  const getUser = (id: string, token: string) => service.request({ method: 'GET', url: api(`/users/${id}`), token });
  const putUser = (id: string, token: string, payload: unknown) =>
    service.request({ method: 'PUT', url: api(`/users/${id}`), token, payload: payload as Record<string, unknown> });
  const userRow = (id: string) => service.store.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const fetchUser = async (id: string): Promise<UserJson> => {
    const response = await getUser(id, admin);
    assert.equal(response.statusCode, 200, response.body);
    return response.json() as UserJson;
  };
  const userCount = async () => (await service.store.db.selectFrom('users').select('id').execute()).length;

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
      });
      const adminUser = list.find((user) => user.login === 'admin');
      assert.ok(adminUser?.is_superuser, 'the bootstrap admin is listed as a superuser');

      const hashes = (await service.store.db.selectFrom('users').select('password_hash').execute()).flatMap((row) => (row.password_hash ? [row.password_hash] : []));
      assert.ok(hashes.length >= 2);
      for (const hash of hashes) assert.ok(!response.body.includes(hash), 'no password hash in the body');
      assert.doesNotMatch(response.body, /password|hash|argon/i);
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

  describe('creating users', () => {
    test('POST /users: 201, the user JSON and a Location that reads it back; the password works', async () => {
      const before = await service.store.db.selectFrom('roles').select('id').execute();
      const roleId = await createRole([users('reset_password')]);
      assert.ok(!before.some((row) => row.id === roleId));
      const response = await service.request({
        method: 'POST',
        url: api('/users'),
        token: admin,
        payload: { login: 'created-user', email: 'created@example.com', display_name: 'Created User', role_ids: [roleId], password: USER_PASSWORD },
      });
      assert.equal(response.statusCode, 201, response.body);
      const user = response.json() as UserJson;
      assertUserShape(user);
      assert.deepEqual({ ...user, id: undefined }, {
        id: undefined,
        login: 'created-user',
        email: 'created@example.com',
        display_name: 'Created User',
        role_ids: [roleId],
        is_group: false,
        is_remote: false,
        is_superuser: false,
        is_revoked: false,
        last_login: null,
      });
      assert.equal(response.headers.location, api(`/users/${user.id}`));
      assert.doesNotMatch(response.body, /password|hash|argon/i);
      assert.ok(!response.body.includes(USER_PASSWORD));

      const readBack = await service.request({ method: 'GET', url: response.headers.location as string, token: admin });
      assert.equal(readBack.statusCode, 200);
      assert.deepEqual(readBack.json(), user);

      const row = await userRow(user.id);
      const hash = row.password_hash ?? '';
      assert.ok(hash.startsWith('$argon2id$'), 'the password is stored as an argon2id hash');
      assert.ok(!hash.includes(USER_PASSWORD));
      await service.login('created-user', USER_PASSWORD);
    });

    test('POST /users needs users:create: 403 without it, 201 with users:create on "*"', async () => {
      const plain = await actorWith('create-plain', [users('edit'), users('disable'), users('reset_password')]);
      const count = await userCount();
      assertError(
        await service.request({ method: 'POST', url: api('/users'), token: plain.token, payload: { login: 'create-denied', password: USER_PASSWORD } }),
        403,
        'permission-denied',
      );
      assert.equal(await userCount(), count, 'no user was created');

      const creator = await actorWith('create-allowed', [users('create')]);
      const countBefore = await userCount();
      const response = await service.request({
        method: 'POST',
        url: api('/users'),
        token: creator.token,
        payload: { login: 'created-by-creator', password: USER_PASSWORD },
      });
      assert.equal(response.statusCode, 201, response.body);
      assert.equal((response.json() as UserJson).login, 'created-by-creator');
      assert.equal(await userCount(), countBefore + 1);
    });

    test('a login that exists, ignoring case, is 409 conflict', async () => {
      await service.createUser('Conflict-User');
      const count = await userCount();
      for (const login of ['Conflict-User', 'conflict-user', 'CONFLICT-USER', 'ADMIN', 'Admin']) {
        const response = await service.request({ method: 'POST', url: api('/users'), token: admin, payload: { login, password: USER_PASSWORD } });
        assertError(response, 409, 'conflict');
      }
      assert.equal(await userCount(), count, 'no duplicate was created');
      // The remote variant conflicts too: logins are one namespace.
      assertError(
        await service.request({ method: 'POST', url: api('/users'), token: admin, payload: { login: 'conflict-USER', is_remote: true } }),
        409,
        'conflict',
      );
    });

    test('concurrent creations of one login: exactly one 201, the rest 409, never a 5xx', async () => {
      const count = await userCount();
      const logins = ['race-login', 'RACE-LOGIN', 'Race-Login', 'rAcE-lOgIn'];
      const responses = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          service.request({ method: 'POST', url: api('/users'), token: admin, payload: { login: logins[i % logins.length], is_remote: true } }),
        ),
      );
      const statuses = responses.map((response) => response.statusCode).sort();
      assert.deepEqual(statuses, [201, ...Array<number>(11).fill(409)], responses.map((response) => response.body).join('\n'));
      for (const response of responses.filter((candidate) => candidate.statusCode === 409)) assertError(response, 409, 'conflict');
      assert.equal(await userCount(), count + 1);
    });

    test('logins are case-insensitive: stored as given, logged in with any case', async () => {
      const id = await service.createUser('MixedCase.User');
      assert.equal((await fetchUser(id)).login, 'MixedCase.User');
      for (const login of ['mixedcase.user', 'MIXEDCASE.USER', 'MixedCase.User']) {
        const token = await service.login(login, USER_PASSWORD);
        const current = (await service.request({ method: 'GET', url: api('/users/current'), token })).json() as UserJson;
        assert.equal(current.id, id, login);
      }
    });

    test('a remote user is created with is_remote: true and has no password', async () => {
      const response = await service.request({
        method: 'POST',
        url: api('/users'),
        token: admin,
        payload: { login: 'remote-created', email: 'remote@example.com', display_name: 'Remote', is_remote: true },
      });
      assert.equal(response.statusCode, 201, response.body);
      const user = response.json() as UserJson;
      assertUserShape(user);
      assert.equal(user.is_remote, true);
      assert.equal(user.is_superuser, false);
      assert.equal((await userRow(user.id)).password_hash, null);
      assert.equal((await fetchUser(user.id)).is_remote, true);
    });

    test('POST /users applies the password policy: a common or too-short password is 400 invalid-password, nothing is created', async () => {
      const count = await userCount();
      for (const [password, violation] of [
        ['password1234', 'common-password'],
        ['Zq8#vW', 'too-short'],
        ['policy-login-x-1234567', 'contains-login'],
      ] as const) {
        const response = await service.request({ method: 'POST', url: api('/users'), token: admin, payload: { login: 'policy-login', password } });
        const body = assertError(response, 400, 'invalid-password');
        const violations = (body.details as { violations: { rule: string }[] }).violations.map((entry) => entry.rule);
        assert.ok(violations.includes(violation), `${violation} in ${JSON.stringify(violations)}`);
        assert.ok(!response.body.includes(password), 'the password is not echoed');
      }
      assert.equal(await userCount(), count);
    });

    test('a remote user given a password is 400 schema-violation, and is not created', async () => {
      const count = await userCount();
      const response = await service.request({
        method: 'POST',
        url: api('/users'),
        token: admin,
        payload: { login: 'remote-with-password', is_remote: true, password: USER_PASSWORD },
      });
      const body = assertError(response, 400, 'schema-violation');
      assert.ok(!response.body.includes(USER_PASSWORD), 'the password is not echoed');
      assert.ok(body.msg.length > 0);
      assert.equal(await userCount(), count);
    });

    test('unknown keys, wrong types and missing login are 400 schema-violation; nothing is created', async () => {
      const count = await userCount();
      const bodies: unknown[] = [
        { login: 'bad-1', password: USER_PASSWORD, favourite_colour: 'blue' },
        { login: 'bad-2', password_hash: '$argon2id$v=19$m=19456,t=2,p=1$AAAA$BBBB' },
        { login: 'bad-3', is_superuser: true },
        { login: 'bad-4', id: UNKNOWN_ID },
        { login: 5 },
        { login: 'bad-6', email: 7 },
        { login: 'bad-7', display_name: ['x'] },
        { login: 'bad-8', role_ids: 'admin' },
        { login: 'bad-9', role_ids: [1.5] },
        { login: 'bad-10', is_remote: 'yes' },
        { login: 'bad-11', password: 12345678901234 },
        { login: 'bad-12', is_group: true },
        { login: '' },
        { email: 'no-login@example.com' },
        [],
        'a string',
      ];
      for (const payload of bodies) {
        const response = await service.request({
          method: 'POST',
          url: api('/users'),
          token: admin,
          payload: JSON.stringify(payload),
          headers: { 'content-type': 'application/json' },
        });
        assertError(response, 400, 'schema-violation');
      }
      assert.equal(await userCount(), count, 'no user was created');
    });

    test('role_ids naming no role is refused and creates nothing', async () => {
      const count = await userCount();
      const response = await service.request({ method: 'POST', url: api('/users'), token: admin, payload: { login: 'bad-role', role_ids: [999999] } });
      assertError(response, 400, 'schema-violation');
      assert.equal(await userCount(), count);
    });

    test('role_ids beyond the integer column (2^31, 2^63, 1e300) are 400 schema-violation, never a 5xx', async () => {
      const count = await userCount();
      for (const roleId of [2 ** 31, 2 ** 63, 1e300, 0, -1]) {
        const response = await service.request({ method: 'POST', url: api('/users'), token: admin, payload: { login: `big-role-${count}`, role_ids: [roleId] } });
        assertError(response, 400, 'schema-violation');
      }
      assert.equal(await userCount(), count);
    });

    test('giving roles on creation needs what giving them later needs: users:create alone is 403 and creates nothing', async () => {
      const powerful = await createRole([users('edit'), users('disable'), users('reset_password'), users('create')]);
      const creator = await actorWith('role-escalator', [users('create')]);
      const count = await userCount();
      const response = await service.request({
        method: 'POST',
        url: api('/users'),
        token: creator.token,
        payload: { login: 'escalated-puppet', password: USER_PASSWORD, role_ids: [powerful] },
      });
      assertError(response, 403, 'permission-denied');
      assert.equal(await userCount(), count, 'nothing is created');
      const plain = await service.request({ method: 'POST', url: api('/users'), token: creator.token, payload: { login: 'plain-puppet', role_ids: [] } });
      assert.equal(plain.statusCode, 201, 'creating without roles still works');
    });

    test("the audit event of a created user records its roles", async () => {
      const roleId = await createRole([users('reset_password')]);
      const id = await service.createUser('created-with-roles', { role_ids: [roleId] });
      const { events } = (await service.request({ method: 'GET', url: api('/events?limit=1000'), token: admin })).json() as {
        events: { type: string; subject: { id: string } | null; details: Record<string, unknown> }[];
      };
      const created = events.find((event) => event.type === 'user-created' && event.subject?.id === id);
      assert.deepEqual(created?.details, { is_remote: false, role_ids: [roleId] });
    });
  });

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

    test('the body id must match the path: 400 schema-violation otherwise; case does not matter', async () => {
      const id = await service.createUser('id-match');
      const other = await service.createUser('id-other');
      assertError(await putUser(id, admin, { id: other, email: 'mismatch@example.com' }), 400, 'schema-violation');
      assertError(await putUser(id, admin, { id: 'not-a-uuid', email: 'mismatch@example.com' }), 400, 'schema-violation');
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

    test('changing login, email, display_name or role_ids needs users:edit: 403 without it', async () => {
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

    test('users:edit on "*" edits any user; changing roles is for superusers only', async () => {
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
