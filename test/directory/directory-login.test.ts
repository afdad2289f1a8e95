// Remote users from a real directory (CONTRACT §11), against Debian's slapd
// loaded with test/fixtures/ldap/directory.ldif, on SQLite and PostgreSQL:
// settings through PE's routes with a write-only bind password; directory
// users logging in with their directory password, created as remote users
// with the directory's email and name; groups and their roles inherited
// (nested groups with search_nested_groups); the password endpoints refusing
// directory users; lockout; LDAP injection finding nobody; TLS (LDAPS,
// StartTLS) failing closed on a wrong CA; an unreachable directory answering
// 503 for directory logins only.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { DIRECTORY_USERS, directorySettingsFor, startSlapd, type Slapd } from '../kit/slapd.js';
import { USER_PASSWORD, startTestService, type TestService, startServiceWithAdmin } from '../kit/service.js';

const v1 = (path: string) => `/rbac-api/v1${path}`;
const v2 = (path: string) => `/rbac-api/v2${path}`;
const { alice, bob, carol, dave, star } = DIRECTORY_USERS;

let slapd: Slapd;
before(async () => {
  slapd = await startSlapd();
});
after(() => slapd?.stop());

const directorySettings = (overrides: Record<string, unknown> = {}) => directorySettingsFor(slapd, overrides);

describeEachDatabase('directory logins', (target) => {
  let service: TestService;
  let admin: string;
  let directoryId: string;

  before(async () => {
    service = await startTestService(target.dialect, { failedAttemptsLockout: 3 });
    admin = await service.adminToken();
  });
  after(() => service?.close());

  const call = (method: string, url: string, payload?: unknown, token: string | undefined = admin) =>
    service.request({ method: method as 'GET', url, ...(token ? { token } : {}), ...(payload === undefined ? {} : { payload: payload as object }) });
  const logIn = (login: string, password: string) => call('POST', v1('/auth/token'), { login, password }, undefined);
  async function tokenOf(login: string, password: string): Promise<string> {
    const response = await logIn(login, password);
    assert.equal(response.statusCode, 200, response.body);
    return (response.json() as { token: string }).token;
  }
  const userByLogin = async (login: string) => {
    const users = (await call('GET', v1('/users'))).json() as { login: string; id: string }[];
    const found = users.find((user) => user.login === login);
    assert.ok(found, `no user ${login}`);
    return (await call('GET', v1(`/users/${found.id}`))).json() as Record<string, unknown> & { id: string };
  };
  async function updateDirectory(overrides: Record<string, unknown>): Promise<void> {
    const response = await call('POST', v1('/command/ldap/update'), { ...directorySettings(overrides), id: directoryId });
    assert.equal(response.statusCode, 200, response.body);
  }

  describe('settings', () => {
    test('create: 200 with the settings and PE defaults filled in, never the password; GET /v2/ldap, /v2/ldap/:id, /v2/ds and /ds agree', async () => {
      const created = await call('POST', v1('/command/ldap/create'), directorySettings({ start_tls: undefined }));
      assert.equal(created.statusCode, 200, created.body);
      const body = created.json() as Record<string, unknown>;
      directoryId = body.id as string;
      assert.match(directoryId, /^[0-9a-f-]{36}$/);
      assert.equal(body.password, undefined);
      assert.doesNotMatch(created.body, new RegExp(slapd.readerPassword));
      assert.equal(body.start_tls, false);
      assert.equal(body.ssl_hostname_validation, true);
      assert.equal(body.ssl_wildcard_validation, false);
      assert.equal(body.cert_chain, null);
      for (const url of [v2('/ldap'), v2('/ds')]) {
        const listed = await call('GET', url);
        assert.equal(listed.statusCode, 200, listed.body);
        assert.deepEqual(listed.json(), [body]);
      }
      assert.deepEqual((await call('GET', v2(`/ldap/${directoryId}`))).json(), body);
      assert.deepEqual((await call('GET', v1('/ds'))).json(), body);
    });

    test('the bind password is in no answer, no event and not in the settings column', async () => {
      const events = await service.store.db.selectFrom('audit_events').select(['type', 'details']).where('type', 'like', 'directory-%').execute();
      assert.ok(events.some((event) => event.type === 'directory-created' && JSON.parse(event.details).fields.includes('password')));
      assert.doesNotMatch(JSON.stringify(events), new RegExp(slapd.readerPassword));
      const row = await service.store.db.selectFrom('directories').select('settings').executeTakeFirstOrThrow();
      assert.doesNotMatch(row.settings, new RegExp(slapd.readerPassword));
    });

    test('bad settings are 400 and change nothing: ssl with start_tls, an unreadable cert_chain, a bad attribute name, an unknown field', async () => {
      for (const [overrides, field] of [
        [{ ssl: true, start_tls: true }, 'start_tls'],
        [{ cert_chain: 'not a certificate' }, 'cert_chain'],
        [{ user_lookup_attr: 'uid)(cn=*' }, undefined],
        [{ surprise: true }, undefined],
        [{ port: 70000 }, undefined],
        [{ cert_chain: 'x'.repeat(32769) }, undefined],
      ] as const) {
        const response = await call('POST', v1('/command/ldap/create'), directorySettings(overrides));
        assertError(response, 400, 'schema-violation');
        if (field) assert.equal((response.json() as { details: { field: string } }).details.field, field);
      }
      assert.equal(((await call('GET', v2('/ldap'))).json() as unknown[]).length, 1);
    });

    test("PE's cipher-suites and ssl-protocols reach the TLS connection: a suite the directory's (EC) key cannot use fails at tls; one it can, or TLS 1.3 alone, connects; TLSv1.1 is 400", async () => {
      const ldaps = (overrides: Record<string, unknown>) => directorySettings({ ssl: true, start_tls: false, port: slapd.tlsPort, cert_chain: slapd.caPem, ...overrides });
      const refused = await call('PUT', v1('/ds/test'), ldaps({ 'ssl-protocols': ['TLSv1.2'], 'cipher-suites': ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'] }));
      assertError(refused, 400, 'directory-test-failed');
      assert.equal((refused.json() as { details: { stage: string } }).details.stage, 'tls');
      for (const overrides of [{ 'ssl-protocols': ['TLSv1.2'], 'cipher-suites': ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'] }, { 'ssl-protocols': ['TLSv1.3'] }]) {
        const tested = await call('PUT', v1('/ds/test'), ldaps(overrides));
        assert.equal(tested.statusCode, 200, `${JSON.stringify(overrides)}: ${tested.body}`);
      }
      assertError(await call('PUT', v1('/ds/test'), ldaps({ 'ssl-protocols': ['TLSv1.1', 'TLSv1.2'] })), 400, 'schema-violation');
      const stored = await call('POST', v1('/command/ldap/update'), { ...directorySettings({ 'cipher-suites': ['ECDHE-ECDSA-AES256-GCM-SHA384'], 'ssl-protocols': ['TLSv1.2', 'TLSv1.3'] }), id: directoryId });
      assert.equal(stored.statusCode, 200, stored.body);
      const shown = (await call('GET', v2(`/ldap/${directoryId}`))).json() as Record<string, unknown>;
      assert.deepEqual([shown['cipher-suites'], shown['ssl-protocols']], [['ECDHE-ECDSA-AES256-GCM-SHA384'], ['TLSv1.2', 'TLSv1.3']]);
      await updateDirectory({});
      assert.deepEqual(((await call('GET', v2(`/ldap/${directoryId}`))).json() as Record<string, unknown>)['cipher-suites'], null);
    });

    test('a CA chain of several kilobytes is taken (real RSA chains are)', async () => {
      const chain = [slapd.caPem, slapd.otherCaPem, slapd.caPem, slapd.otherCaPem].join('\n');
      assert.ok(chain.length > 2048);
      const tested = await call('PUT', v1('/ds/test'), directorySettings({ ssl: true, start_tls: false, port: slapd.tlsPort, cert_chain: chain }));
      assert.equal(tested.statusCode, 200, tested.body);
    });

    test('without directory_service:edit: 403 on create, update, delete and tests; GET /v2/ldap shows id and display_name only', async () => {
      await service.createUser('ds-nobody');
      const nobody = await service.login('ds-nobody', USER_PASSWORD);
      assertError(await call('POST', v1('/command/ldap/create'), directorySettings(), nobody), 403, 'permission-denied');
      assertError(await call('POST', v1('/command/ldap/update'), { ...directorySettings(), id: directoryId }, nobody), 403, 'permission-denied');
      assertError(await call('POST', v1('/command/ldap/delete'), { id: directoryId }, nobody), 403, 'permission-denied');
      assertError(await call('PUT', v1('/ds/test'), directorySettings(), nobody), 403, 'permission-denied');
      assertError(await call('GET', v1('/ds'), undefined, nobody), 403, 'permission-denied');
      assert.deepEqual((await call('GET', v2('/ldap'), undefined, nobody)).json(), [{ id: directoryId, display_name: 'Test directory' }]);
    });

    test('the connection tests: GET /ds/test and POST /command/ldap/test answer {elapsed}; a wrong lookup password is 400 directory-test-failed at lookup-bind', async () => {
      const stored = await call('GET', v1('/ds/test'));
      assert.equal(stored.statusCode, 200, stored.body);
      assert.equal(typeof (stored.json() as { elapsed: number }).elapsed, 'number');
      const given = await call('POST', v1('/command/ldap/test'), directorySettings());
      assert.equal(given.statusCode, 200, given.body);
      const wrong = await call('PUT', v1('/ds/test'), directorySettings({ password: 'not-the-reader-secret' }));
      assertError(wrong, 400, 'directory-test-failed');
      assert.equal((wrong.json() as { details: { stage: string } }).details.stage, 'lookup-bind');
      assert.doesNotMatch(wrong.body, /not-the-reader-secret/);
    });
  });

  describe('logging in', () => {
    test('a directory user logs in with the directory password and becomes a remote user with the directory email and name', async () => {
      const token = await tokenOf(alice.login, alice.password);
      const current = (await call('GET', v1('/users/current'), undefined, token)).json() as Record<string, unknown>;
      assert.equal(current.login, alice.login);
      assert.equal(current.is_remote, true);
      assert.equal(current.email, alice.email);
      assert.equal(current.display_name, alice.displayName);
      const row = await service.store.db.selectFrom('users').select('password_hash').where('login', '=', alice.login).executeTakeFirstOrThrow();
      assert.equal(row.password_hash, null, 'the directory password is never stored');
    });

    test('a wrong directory password and an unknown login are the same 401 as a wrong local password', async () => {
      const local = await logIn('admin', 'not-the-admin-password');
      const wrong = await logIn(bob.login, 'not-bobs-password');
      const unknown = await logIn('nobody-in-the-directory', 'whatever-password');
      for (const response of [wrong, unknown]) {
        assertError(response, 401, 'user-unauthenticated');
        assert.equal(response.body, local.body);
      }
    });

    test('an empty password never binds (an unauthenticated bind would succeed)', async () => {
      const response = await logIn(bob.login, '');
      assert.equal(response.statusCode === 400 || response.statusCode === 401, true, response.body);
      await tokenOf(bob.login, bob.password);
    });

    test('LDAP injection finds nobody: filter syntax in a login is a value', async () => {
      for (const login of ['*', '*)(uid=*', 'alice)(|(uid=*', '*)(objectClass=*', 'al*', `${alice.login}\u0000`]) {
        const response = await logIn(login, alice.password);
        assert.notEqual(response.statusCode, 200, `${JSON.stringify(login)} logged in`);
      }
      // A real uid holding * and ( logs in: the value is escaped, not refused.
      await tokenOf(star.login, star.password);
    });

    test('wrong directory passwords lock a directory user out like a local user; the right password is then refused', async () => {
      for (let attempt = 0; attempt < 3; attempt++) assertError(await logIn(dave.login, `wrong-${attempt}`), 401, 'user-unauthenticated');
      assertError(await logIn(dave.login, dave.password), 401, 'user-revoked');
      const user = await userByLogin(dave.login);
      assert.equal(user.is_revoked, true);
      const locked = await service.store.db.selectFrom('audit_events').select('id').where('type', '=', 'account-locked').where('subject_login', '=', dave.login).execute();
      assert.equal(locked.length, 1);
    });
  });

  describe('groups and their roles', () => {
    let roleId: number;
    let developersId: string;

    test('import a group with a role: 201; GET /groups and /groups/:sid show it; a second import of the same name is 409', async () => {
      const role = await call('POST', v1('/roles'), { display_name: 'creators', permissions: [{ object_type: 'users', action: 'create', instance: '*' }], user_ids: [], group_ids: [] });
      assert.equal(role.statusCode, 201, role.body);
      roleId = (role.json() as { id: number }).id;
      const created = await call('POST', v1('/command/groups/create'), { login: 'developers', role_ids: [roleId], identity_provider_id: directoryId });
      assert.equal(created.statusCode, 201, created.body);
      const group = created.json() as Record<string, unknown> & { id: string };
      developersId = group.id;
      assert.deepEqual(
        { login: group.login, role_ids: group.role_ids, is_group: group.is_group, is_remote: group.is_remote, is_superuser: group.is_superuser, identity_provider_id: group.identity_provider_id },
        { login: 'developers', role_ids: [roleId], is_group: true, is_remote: true, is_superuser: false, identity_provider_id: directoryId },
      );
      assert.deepEqual((await call('GET', v1(`/groups/${developersId}`))).json(), group);
      assert.deepEqual((await call('GET', v1('/groups'))).json(), [group]);
      assertError(await call('POST', v1('/groups'), { login: 'Developers', role_ids: [] }), 409, 'conflict');
    });

    test("a member logging in inherits the group's roles: inherited_role_ids, group_ids, and the permission works", async () => {
      const token = await tokenOf(alice.login, alice.password);
      const user = await userByLogin(alice.login);
      assert.deepEqual(user.inherited_role_ids, [roleId]);
      assert.deepEqual(user.group_ids, [developersId]);
      assert.deepEqual(user.role_ids, []);
      const group = (await call('GET', v1(`/groups/${developersId}`))).json() as { user_ids: string[] };
      assert.deepEqual(group.user_ids, [user.id]);
      const created = await call('POST', v1('/users'), { login: 'made-by-alice', email: 'm@example.com', display_name: 'M', password: null }, token);
      assert.equal(created.statusCode, 201, created.body);
      // bob is not a developer: the same request is refused.
      const bobToken = await tokenOf(bob.login, bob.password);
      assertError(await call('POST', v1('/users'), { login: 'made-by-bob', email: 'b@example.com', display_name: 'B', password: null }, bobToken), 403, 'permission-denied');
    });

    test('nested groups count only with search_nested_groups: carol is a developer through leads', async () => {
      await tokenOf(carol.login, carol.password);
      assert.deepEqual((await userByLogin(carol.login)).group_ids, []);
      await updateDirectory({ search_nested_groups: true });
      await tokenOf(carol.login, carol.password);
      const user = await userByLogin(carol.login);
      assert.deepEqual(user.group_ids, [developersId]);
      assert.deepEqual(user.inherited_role_ids, [roleId]);
    });

    test('PUT /groups/:sid changes only the roles; taking the role away takes the permission at once', async () => {
      const token = await tokenOf(alice.login, alice.password);
      const group = (await call('GET', v1(`/groups/${developersId}`))).json() as Record<string, unknown>;
      const edited = await call('PUT', v1(`/groups/${developersId}`), { ...group, role_ids: [], display_name: 'ignored' });
      assert.equal(edited.statusCode, 200, edited.body);
      assert.deepEqual((edited.json() as { role_ids: number[] }).role_ids, []);
      assertError(await call('POST', v1('/users'), { login: 'made-again', email: 'a@example.com', display_name: 'A', password: null }, token), 403, 'permission-denied');
    });

    test('role commands take group ids: add-groups gives the role back, the role lists the group; an unknown group id is 400', async () => {
      const added = await call('POST', v1('/command/roles/add-groups'), { role_id: roleId, group_ids: [developersId] });
      assert.equal(added.statusCode, 204, added.body);
      assert.deepEqual(((await call('GET', v1(`/roles/${roleId}`))).json() as { group_ids: string[] }).group_ids, [developersId]);
      assertError(await call('POST', v1('/command/roles/add-groups'), { role_id: roleId, group_ids: ['00000000-0000-4000-8000-000000000000'] }), 400, 'schema-violation');
      const removed = await call('POST', v1('/command/roles/remove-groups'), { role_id: roleId, group_ids: [developersId] });
      assert.equal(removed.statusCode, 204, removed.body);
      assert.deepEqual(((await call('GET', v1(`/roles/${roleId}`))).json() as { group_ids: string[] }).group_ids, []);
    });

    test('v2 POST /groups with validate: a group the directory lacks is 400; one it has is 303 See Other to the group, named as the directory names it', async () => {
      assertError(await call('POST', v2('/groups'), { login: 'no-such-group', role_ids: [], validate: true }), 400, 'schema-violation');
      const created = await call('POST', v2('/groups'), { login: 'operators', role_ids: [], validate: true });
      assert.equal(created.statusCode, 303, created.body);
      assert.equal(created.body, '');
      const location = String(created.headers.location);
      assert.match(location, /^\/rbac-api\/v1\/groups\/[0-9a-f-]{36}$/);
      const group = await call('GET', location);
      assert.equal(group.statusCode, 200, group.body);
      assert.deepEqual([(group.json() as { display_name: string }).display_name, (group.json() as { login: string }).login], ['Operators', 'operators']);
    });

    test('importing needs user_groups:import and deleting user_groups:delete (403); DELETE removes the group and what it gave', async () => {
      const nobody = await service.login('ds-nobody', USER_PASSWORD);
      assertError(await call('POST', v1('/command/groups/create'), { login: 'leads', role_ids: [] }, nobody), 403, 'permission-denied');
      assertError(await call('DELETE', v1(`/groups/${developersId}`), undefined, nobody), 403, 'permission-denied');
      const deleted = await call('DELETE', v1(`/groups/${developersId}`));
      assert.equal(deleted.statusCode, 204, deleted.body);
      assertError(await call('GET', v1(`/groups/${developersId}`)), 404, 'not-found');
      assert.deepEqual((await userByLogin(alice.login)).group_ids, []);
    });
  });

  describe('the password endpoints refuse directory users with 403', () => {
    test('a reset token for a directory user, and changing their own password', async () => {
      const token = await tokenOf(alice.login, alice.password);
      const user = await userByLogin(alice.login);
      const reset = await call('POST', v1(`/users/${user.id}/password/reset`));
      assertError(reset, 403, 'permission-denied');
      assert.match(reset.body, /remote user|directory/i);
      const change = await call('PUT', v1('/users/current/password'), { current_password: alice.password, password: 'A-new-password-123!' }, token);
      assertError(change, 403, 'permission-denied');
      assert.match(change.body, /remote user|directory/i);
      // The directory password still works: nothing was changed here.
      await tokenOf(alice.login, alice.password);
    });

    test('validate-password: with a directory user\'s login token, and with a reset token whose holder became a directory user', async () => {
      const token = await tokenOf(alice.login, alice.password);
      const withLogin = await call('POST', v1('/command/validate-password'), { password: 'Some-new-password-1!' }, token);
      assertError(withLogin, 403, 'permission-denied');
      assert.match(withLogin.body, /remote user/);
      // A reset token issued while the user was local, the account then made a directory one (as a migration to a directory would).
      const id = await service.createUser('becomes-remote');
      const resetToken = await service.resetToken(id);
      await service.store.db.updateTable('users').set({ is_remote: 1, password_hash: null }).where('id', '=', id).execute();
      const withReset = await call('POST', v1('/command/validate-password'), { password: 'Some-new-password-1!', reset_token: resetToken }, undefined);
      assertError(withReset, 403, 'permission-denied');
      assert.match(withReset.body, /remote user/);
      // And the reset itself sets nothing.
      assert.notEqual((await call('POST', v1('/auth/reset'), { token: resetToken, password: 'Some-new-password-1!' }, undefined)).statusCode, 200);
    });
  });

  describe('TLS', () => {
    test('LDAPS with the test CA logs in; with another CA it fails closed: 503 for the login, 400 at stage tls for the test', async () => {
      await updateDirectory({ ssl: true, port: slapd.tlsPort, cert_chain: slapd.caPem });
      await tokenOf(bob.login, bob.password);
      await updateDirectory({ ssl: true, port: slapd.tlsPort, cert_chain: slapd.otherCaPem });
      assertError(await logIn(bob.login, bob.password), 503, 'directory-unavailable');
      const tested = await call('GET', v1('/ds/test'));
      assertError(tested, 400, 'directory-test-failed');
      assert.equal((tested.json() as { details: { stage: string } }).details.stage, 'tls');
    });

    test('StartTLS with the test CA logs in; with another CA it fails closed', async () => {
      await updateDirectory({ start_tls: true, cert_chain: slapd.caPem });
      await tokenOf(bob.login, bob.password);
      await updateDirectory({ start_tls: true, cert_chain: slapd.otherCaPem });
      assertError(await logIn(bob.login, bob.password), 503, 'directory-unavailable');
    });

    test('a hostname the certificate does not name fails closed; with ssl_hostname_validation off the chain is still checked', async () => {
      // The certificate names localhost and 127.0.0.1; ::ffff:127.0.0.1 reaches the same server under another name.
      await updateDirectory({ ssl: true, hostname: '::ffff:127.0.0.1', port: slapd.tlsPort, cert_chain: slapd.caPem });
      assertError(await logIn(bob.login, bob.password), 503, 'directory-unavailable');
      await updateDirectory({ ssl: true, hostname: '::ffff:127.0.0.1', port: slapd.tlsPort, cert_chain: slapd.caPem, ssl_hostname_validation: false });
      await tokenOf(bob.login, bob.password);
      await updateDirectory({ ssl: true, hostname: '::ffff:127.0.0.1', port: slapd.tlsPort, cert_chain: slapd.otherCaPem, ssl_hostname_validation: false });
      assertError(await logIn(bob.login, bob.password), 503, 'directory-unavailable');
    });
  });

  describe('an unreachable directory', () => {
    test('directory logins answer 503 while local logins keep working, before the directory login gives up', async () => {
      // The remote login waits this long for the paused directory; the local
      // login must finish inside it, so it is the margin a loaded machine has.
      await updateDirectory({ connect_timeout: 10 });
      await tokenOf(bob.login, bob.password);
      slapd.pause();
      try {
        const order: string[] = [];
        const remote = logIn(bob.login, bob.password).then((response) => {
          order.push('remote');
          return response;
        });
        const local = await tokenOf('admin', (await import('../kit/service.js')).ADMIN_PASSWORD);
        order.push('local');
        assert.ok(local);
        assertError(await remote, 503, 'directory-unavailable');
        assert.deepEqual(order, ['local', 'remote']);
      } finally {
        slapd.resume();
      }
      const events = await service.store.db.selectFrom('audit_events').select('details').where('type', '=', 'directory-unavailable').execute();
      assert.ok(events.length >= 1);
    });

    test('a host name no LDAP URL can hold: 503 for a directory login and 400 for the test, never 5xx', async () => {
      await updateDirectory({ hostname: 'bad:host:name' });
      assertError(await logIn(bob.login, bob.password), 503, 'directory-unavailable');
      assertError(await call('GET', v1('/ds/test')), 400, 'directory-test-failed');
    });

    test('a closed port: 503 for a directory login, and an unknown login too (the directory cannot say it is unknown)', async () => {
      await updateDirectory({ port: 1 });
      assertError(await logIn(bob.login, bob.password), 503, 'directory-unavailable');
      assertError(await logIn('someone-else', 'whatever'), 503, 'directory-unavailable');
      await tokenOf('admin', (await import('../kit/service.js')).ADMIN_PASSWORD);
    });

    test('delete: POST /command/ldap/delete answers 204; directory users can no longer log in (401), local users can', async () => {
      const deleted = await call('POST', v1('/command/ldap/delete'), { id: directoryId });
      assert.equal(deleted.statusCode, 204, deleted.body);
      assert.deepEqual((await call('GET', v2('/ldap'))).json(), []);
      assert.deepEqual((await call('GET', v1('/ds'))).json(), {});
      assertError(await logIn(bob.login, bob.password), 401, 'user-unauthenticated');
      // PE: 204 for any well-formed, permitted request, even with no match.
      assert.equal((await call('POST', v1('/command/ldap/delete'), { id: directoryId })).statusCode, 204);
    });
  });
});

// POST /command/ldap/delete as PE documents it: 204 for any well-formed
// permitted request, even with no match; the directory's remote users and
// groups go with it, and their login tokens stop working. Remote users and
// groups of no directory (made through the API, imported without
// identity_provider_id) and local users stay.
describeEachDatabase('deleting a directory', (target) => {
  let service: TestService;
  let admin: string;
  before(async () => {
    ({ service, admin } = await startServiceWithAdmin(target.dialect));
  });
  after(() => service?.close());

  const call = (method: string, url: string, payload?: unknown, token: string | undefined = admin) =>
    service.request({ method: method as 'GET', url, ...(token ? { token } : {}), ...(payload === undefined ? {} : { payload: payload as object }) });
  const create = async (overrides: Record<string, unknown> = {}) => {
    const created = await call('POST', v1('/command/ldap/create'), directorySettingsFor(slapd, overrides));
    assert.equal(created.statusCode, 200, created.body);
    return (created.json() as { id: string }).id;
  };
  const logIn = async (login: string, password: string) => {
    const response = await call('POST', v1('/auth/token'), { login, password }, undefined);
    assert.equal(response.statusCode, 200, response.body);
    return (response.json() as { token: string }).token;
  };
  const logins = async () => ((await call('GET', v1('/users'))).json() as { login: string }[]).map((user) => user.login).sort();
  const groupLogins = async () => ((await call('GET', v1('/groups'))).json() as { login: string }[]).map((group) => group.login).sort();

  test("204, and the directory's remote users (their tokens with them) and groups are removed; others stay", async () => {
    const directoryId = await create();
    const aliceToken = await logIn(alice.login, alice.password);
    await logIn(bob.login, bob.password);
    const bound = await call('POST', v1('/command/groups/create'), { login: 'developers', role_ids: [], identity_provider_id: directoryId });
    assert.equal(bound.statusCode, 201, bound.body);
    assert.equal((await call('POST', v1('/command/groups/create'), { login: 'operators', role_ids: [] })).statusCode, 201);
    assert.equal((await call('POST', v1('/users'), { login: 'api-remote', is_remote: true })).statusCode, 201);
    await service.createUser('local-stays');
    assert.equal((await call('GET', v1('/users/current'), undefined, aliceToken)).statusCode, 200);

    const deleted = await call('POST', v1('/command/ldap/delete'), { id: directoryId });
    assert.equal(deleted.statusCode, 204, deleted.body);
    assert.deepEqual(await logins(), ['admin', 'api-remote', 'api_user', 'local-stays']);
    assert.deepEqual(await groupLogins(), ['operators']);
    assertError(await call('GET', v1('/users/current'), undefined, aliceToken), 401, 'user-unauthenticated');
    assertError(await call('POST', v2('/auth/token/authenticate'), { token: aliceToken }, undefined), 400, 'invalid-token');
    const events = await service.store.db.selectFrom('audit_events').select(['type', 'subject_login', 'details']).where('type', 'in', ['user-deleted', 'group-deleted', 'directory-deleted']).execute();
    assert.deepEqual(events.filter((event) => event.type === 'user-deleted').map((event) => event.subject_login).sort(), ['alice', 'bob']);
    assert.equal(events.filter((event) => event.type === 'group-deleted').length, 1);
    assert.equal(events.filter((event) => event.type === 'directory-deleted').length, 1);
  });

  test('a directory that is not there, or an id that is none: 204 all the same, and nothing changes', async () => {
    const before = await logins();
    for (const id of ['00000000-0000-4000-8000-000000000000', 'no-such-directory']) {
      const response = await call('POST', v1('/command/ldap/delete'), { id });
      assert.equal(response.statusCode, 204, response.body);
    }
    assert.deepEqual(await logins(), before);
    assertError(await call('POST', v1('/command/ldap/delete'), {}), 400, 'schema-violation');
  });

  test("deleting one of two directories leaves the other's users and groups", async () => {
    const first = await create({ display_name: 'First' });
    const second = await create({ display_name: 'Second' });
    await logIn(carol.login, carol.password);
    const carolRow = await service.store.db.selectFrom('users').select(['directory_id']).where('login', '=', carol.login).executeTakeFirstOrThrow();
    assert.equal(carolRow.directory_id, first, 'the directory that logged the user in is recorded');
    await service.store.db.updateTable('users').set({ directory_id: second }).where('login', '=', carol.login).execute();
    assert.equal((await call('POST', v1('/command/groups/create'), { login: 'leads', role_ids: [], identity_provider_id: second })).statusCode, 201);
    assert.equal((await call('POST', v1('/command/ldap/delete'), { id: first })).statusCode, 204);
    assert.ok((await logins()).includes('carol'));
    assert.ok((await groupLogins()).includes('leads'));
    assert.equal((await call('POST', v1('/command/ldap/delete'), { id: second })).statusCode, 204);
    assert.ok(!(await logins()).includes('carol'));
    assert.ok(!(await groupLogins()).includes('leads'));
  });
});
