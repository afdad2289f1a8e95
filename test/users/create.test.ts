// POST /users: who may create users and give them roles, the password
// policy, logins that ignore case, remote users, conflicts (also under
// concurrency), and 400 schema-violation for bad bodies.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { atOnce } from '../kit/concurrency.js';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError, failedRules } from '../kit/errors.js';
import { COMPOSED_PASSWORD, COMPOSITION_RULES, USER_PASSWORD, type TestService } from '../kit/service.js';
import { UNKNOWN_ID, api, assertUserShape, type UserJson, usersSuite, SECRET_WORDS, UNTOUCHED_STATE } from './support.js';

describeEachDatabase('users', (target) => {
  const suite = usersSuite(target);
  let service: TestService;
  let admin: string;
  before(() => ({ service, admin } = suite));
  const { createRole, users, actorWith, userRow, fetchUser, userCount } = suite;

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
        inherited_role_ids: [],
        group_ids: [],
        ...UNTOUCHED_STATE,
      });
      assert.equal(response.headers.location, api(`/users/${user.id}`));
      assert.doesNotMatch(response.body, SECRET_WORDS);
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
      const hashes = service.hasher.counts.hash;
      assertError(
        await service.request({ method: 'POST', url: api('/users'), token: plain.token, payload: { login: 'create-denied', password: USER_PASSWORD } }),
        403,
        'permission-denied',
      );
      assert.equal(await userCount(), count, 'no user was created');
      assert.equal(service.hasher.counts.hash, hashes, 'refused before the password is hashed');

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
      // The remote variant conflicts too: logins are one namespace (PE's kind for a remote user against a local one).
      assertError(
        await service.request({ method: 'POST', url: api('/users'), token: admin, payload: { login: 'conflict-USER', is_remote: true } }),
        409,
        'remote-user-conflict',
      );
    });

    test('concurrent creations of one login: exactly one 201, the rest 409, never a 5xx', async () => {
      const count = await userCount();
      const logins = ['race-login', 'RACE-LOGIN', 'Race-Login', 'rAcE-lOgIn'];
      const responses = await atOnce(12, (i) =>
        service.request({ method: 'POST', url: api('/users'), token: admin, payload: { login: logins[i % logins.length], is_remote: true } }),
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

    test('"password": null creates a local user without a password: no login works until a reset token sets one', async () => {
      const hashes = service.hasher.counts.hash;
      const response = await service.request({ method: 'POST', url: api('/users'), token: admin, payload: { login: 'no-password-yet', password: null } });
      assert.equal(response.statusCode, 201, response.body);
      const user = response.json() as UserJson;
      assertUserShape(user);
      assert.equal(user.is_remote, false);
      assert.equal((await userRow(user.id)).password_hash, null);
      assert.equal(service.hasher.counts.hash, hashes, 'nothing was hashed');
      for (const password of [USER_PASSWORD, 'any password at all', 'null']) {
        assertError(await service.request({ method: 'POST', url: api('/auth/token'), payload: { login: 'no-password-yet', password } }), 401, 'user-unauthenticated');
      }
      const token = await service.resetToken(user.id);
      const reset = await service.request({ method: 'POST', url: api('/auth/reset'), payload: { token, password: USER_PASSWORD } });
      assert.equal(reset.statusCode, 200, reset.body);
      await service.login('no-password-yet', USER_PASSWORD);
    });

    test('"password": null with is_remote: true creates a remote user', async () => {
      const response = await service.request({ method: 'POST', url: api('/users'), token: admin, payload: { login: 'remote-null-password', password: null, is_remote: true } });
      assert.equal(response.statusCode, 201, response.body);
      assert.equal((response.json() as UserJson).is_remote, true);
      assert.equal((await userRow((response.json() as UserJson).id)).password_hash, null);
    });

    test('POST /users applies the password policy: a common or too-short password is 400 invalid-password, nothing is created', async () => {
      const count = await userCount();
      for (const [password, violation] of [
        ['password1234', 'common-password'],
        ['Zq8#vW', 'password-minimum-length'],
        ['policy-login-x-1234567', 'contains-login'],
      ] as const) {
        const response = await service.request({ method: 'POST', url: api('/users'), token: admin, payload: { login: 'policy-login', password } });
        const violations = failedRules(assertError(response, 400, 'invalid-password'));
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
});

describeEachDatabase("users: PE's login and password rules on POST /users", (target) => {
  const suite = usersSuite(target, { loginMinimumLength: 6, ...COMPOSITION_RULES }, COMPOSED_PASSWORD);
  const create = (payload: Record<string, unknown>) => suite.service.request({ method: 'POST', url: api('/users'), token: suite.admin, payload });

  test('login-minimum-length 6: a login of 5 is 400 schema-violation with login-minimum-length in details.failures, nothing created or hashed; 6 is fine', async () => {
    const count = await suite.userCount();
    const hashes = suite.service.hasher.counts.hash;
    for (const payload of [{ login: 'fivee', password: COMPOSED_PASSWORD }, { login: ' five ', password: null }, { login: 'fivee', is_remote: true }]) {
      const body = assertError(await create(payload), 400, 'schema-violation');
      assert.deepEqual(body.details, {
        field: 'login',
        failures: [{ 'rule-identifier': 'login-minimum-length', 'friendly-error': 'The login must be at least 6 characters long.' }],
      });
    }
    assert.equal(await suite.userCount(), count, 'nothing was created');
    assert.equal(suite.service.hasher.counts.hash, hashes, 'nothing was hashed');
    assert.equal((await create({ login: 'sixsix', password: COMPOSED_PASSWORD })).statusCode, 201);
  });

  test('an invisible character in the login is 400 schema-violation with login-visible-characters', async () => {
    const body = assertError(await create({ login: 'visible\u200bname', password: COMPOSED_PASSWORD }), 400, 'schema-violation');
    assert.deepEqual(failedRules(body), ['login-visible-characters']);
  });

  test('the composition rules apply to the password of a new user: 400 invalid-password listing them, nothing created or hashed', async () => {
    const count = await suite.userCount();
    const hashes = suite.service.hasher.counts.hash;
    const cases: [string, string[]][] = [
      ['vbnmzxqkjwptrs', ['numbers-required', 'special-characters-required', 'uppercase-letters-required']],
      ['8264 1937 5502', ['letters-required', 'lowercase-letters-required', 'uppercase-letters-required']],
      ['abCD 12 #! 34', ['letters-required']],
    ];
    for (const [password, expected] of cases) {
      const response = await create({ login: 'composition-refused', password });
      const body = assertError(response, 400, 'invalid-password');
      assert.deepEqual(failedRules(body).sort(), expected, password);
      assert.ok(!response.body.includes(password), 'the password is not echoed');
    }
    assert.equal(await suite.userCount(), count);
    assert.equal(suite.service.hasher.counts.hash, hashes);
    assert.equal((await create({ login: 'composition-accepted', password: COMPOSED_PASSWORD })).statusCode, 201);
    assert.equal((await create({ login: 'composition-no-password', password: null })).statusCode, 201, 'no password, no composition to check');
  });
});
