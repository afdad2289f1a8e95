// A remote user is bound to its directory entry (CONTRACT §11), against a real
// slapd, on SQLite and PostgreSQL, through the HTTP API:
// - the rename attack: a holder of users:edit cannot move a directory identity
//   to their own directory login (both renames 400; their own password logs
//   them into their own account only);
// - an account whose login names another entry than the one it is bound to
//   (renamed beneath the API) is refused: 401 like a wrong password, recorded
//   as directory-entry-mismatch, not counted toward lockout;
// - a login that matched one value of a multi-valued lookup attribute logs in
//   as that value, never the first;
// - the binding (directory id, DN, entryUUID) is recorded at the first
//   successful login, also for remote users created through the API or
//   before migration 013; a moved entry (same entryUUID) keeps logging in, a
//   re-created one (same DN, new entryUUID) does not; without entryUUID the
//   DN decides; `rbac users unbind` lets the operator have such an account
//   bound again;
// - a bound user is looked up in its own directory only;
// - deleting a directory deletes the remote users bound to it.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { isBoundEntry } from '../../src/login/directory-login.js';
import { openStore } from '../../src/store/database.js';
import { migrateTo } from '../../src/store/migrate.js';
import { describeEachDatabase, freshWorkspace, type DialectName, type Workspace } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { runCli } from '../kit/processes.js';
import { expectExit, expectRefusal, storeArgs } from '../cli/support.js';
import { DIRECTORY_USERS, directorySettingsFor, startSlapd, type Slapd } from '../kit/slapd.js';
import { startTestService } from '../kit/service.js';

const v1 = (path: string) => `/rbac-api/v1${path}`;
const { alice, bob, carol, dave, erin, frank, mallory } = DIRECTORY_USERS;
const ADMINISTRATORS = 1;

interface UserJson {
  id: string;
  login: string;
  email: string;
  display_name: string;
  role_ids: number[];
  is_remote: boolean;
  is_revoked: boolean;
  last_login: string | null;
}

/** A service with a directory set (as admin, through the API) and the calls the tests make. */
async function directoryService(dialect: DialectName, slapd: Slapd, options: { workspace?: Workspace; settings?: Record<string, unknown> } = {}) {
  const service = await startTestService(dialect, { failedAttemptsLockout: 3 }, options.workspace ? { workspace: options.workspace } : {});
  const admin = await service.adminToken();
  const call = (method: string, url: string, payload?: unknown, token: string | undefined = admin) =>
    service.request({ method: method as 'GET', url, ...(token ? { token } : {}), ...(payload === undefined ? {} : { payload: payload as object }) });
  const created = await call('POST', v1('/command/ldap/create'), directorySettingsFor(slapd, options.settings));
  assert.equal(created.statusCode, 200, created.body);
  const directoryId = (created.json() as { id: string }).id;
  const logIn = (login: string, password: string) => call('POST', v1('/auth/token'), { login, password }, undefined);
  async function tokenOf(login: string, password: string): Promise<string> {
    const response = await logIn(login, password);
    assert.equal(response.statusCode, 200, response.body);
    return (response.json() as { token: string }).token;
  }
  const current = async (token: string) => (await call('GET', v1('/users/current'), undefined, token)).json() as UserJson;
  const userById = async (id: string) => (await call('GET', v1(`/users/${id}`))).json() as UserJson;
  const row = (id: string) => service.store.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const failures = async (subjectId: string) =>
    (await service.store.db.selectFrom('audit_events').select('details').where('type', '=', 'login-failed').where('subject_id', '=', subjectId).execute()).map(
      (event) => JSON.parse(event.details) as { reason: string },
    );
  /** A remote user created through the API (no DN yet), with these roles. */
  async function remoteUser(login: string, roleIds: number[] = []): Promise<string> {
    const response = await call('POST', v1('/users'), { login, email: '', display_name: '', role_ids: roleIds, is_remote: true, password: null });
    assert.equal(response.statusCode, 201, response.body);
    return (response.json() as { id: string }).id;
  }
  return { service, admin, directoryId, call, logIn, tokenOf, current, userById, row, failures, remoteUser };
}

/** A move in the directory (modifyDN): the entry keeps its entryUUID, its DN changes. */
async function moveEntry(slapd: Slapd, dn: string, newDn: string): Promise<void> {
  await slapd.asAdmin((client) => client.modifyDN(dn, newDn));
}

/** An organizational unit under ou=users, for entries to move into. */
async function addUnit(slapd: Slapd, ou: string): Promise<string> {
  const dn = `ou=${ou},ou=users,${slapd.baseDn}`;
  await slapd.asAdmin((client) => client.add(dn, { objectClass: ['top', 'organizationalUnit'], ou }));
  return dn;
}

test('the same entry: same directory, then the stable id when both sides have one from the same attribute, else the DN without case; an unbound user takes any entry', () => {
  const binding = { directoryId: 'd1', dn: 'uid=a,ou=users,dc=x', entryId: 'entryUUID:1111' };
  assert.equal(isBoundEntry(null, 'd1', { dn: 'uid=z,dc=x', entryId: null }), true);
  assert.equal(isBoundEntry(binding, 'd2', { dn: binding.dn, entryId: binding.entryId }), false, 'another directory');
  assert.equal(isBoundEntry(binding, 'd1', { dn: 'uid=a,ou=moved,dc=x', entryId: 'entryUUID:1111' }), true, 'moved');
  assert.equal(isBoundEntry(binding, 'd1', { dn: binding.dn, entryId: 'entryUUID:2222' }), false, 're-created');
  assert.equal(isBoundEntry(binding, 'd1', { dn: 'UID=A,OU=Users,DC=x', entryId: null }), true, 'no id in the answer: the DN, without case');
  assert.equal(isBoundEntry(binding, 'd1', { dn: 'uid=b,ou=users,dc=x', entryId: null }), false);
  assert.equal(isBoundEntry(binding, 'd1', { dn: binding.dn, entryId: 'nsUniqueId:abcd' }), true, 'an id from another attribute: the DN');
  assert.equal(isBoundEntry(binding, 'd1', { dn: 'uid=b,ou=users,dc=x', entryId: 'nsUniqueId:abcd' }), false);
  assert.equal(isBoundEntry({ ...binding, entryId: null }, 'd1', { dn: binding.dn, entryId: 'entryUUID:2222' }), true, 'no id recorded: the DN');
});

describeEachDatabase('remote users bound to their directory entry', (target) => {
  let slapd: Slapd;
  before(async () => {
    slapd = await startSlapd();
  });
  after(() => slapd?.stop());

  test('the rename attack: a holder of users:edit only renames their own account and an Administrators member to their directory login: both 400, nothing changes, their own directory password gets only their own account', async () => {
    const { service, call, tokenOf, current, userById, row } = await directoryService(target.dialect, slapd);
    try {
      // The victim: a directory user who has logged in and holds Administrators.
      const victimId = (await current(await tokenOf(frank.login, frank.password))).id;
      assert.equal((await call('PUT', v1(`/users/${victimId}`), { ...(await userById(victimId)), role_ids: [ADMINISTRATORS] })).statusCode, 200);
      const victimBefore = await userById(victimId);
      const victimRowBefore = await row(victimId);
      // The caller: a directory user holding users:edit and nothing else.
      const role = await call('POST', v1('/roles'), { display_name: 'user editors', permissions: [{ object_type: 'users', action: 'edit', instance: '*' }], user_ids: [], group_ids: [] });
      assert.equal(role.statusCode, 201, role.body);
      const callerId = (await current(await tokenOf(erin.login, erin.password))).id;
      assert.equal((await call('PUT', v1(`/users/${callerId}`), { ...(await userById(callerId)), role_ids: [(role.json() as { id: number }).id] })).statusCode, 200);
      const caller = await tokenOf(erin.login, erin.password);

      const ownRename = await call('PUT', v1(`/users/${callerId}`), { ...(await userById(callerId)), login: 'erin-old' }, caller);
      assertError(ownRename, 400, 'schema-violation');
      assert.match(ownRename.body, /remote user/i);
      const victimRename = await call('PUT', v1(`/users/${victimId}`), { ...victimBefore, login: erin.login }, caller);
      assertError(victimRename, 400, 'schema-violation');

      // The caller's own directory password: the caller's own account, never the victim's.
      const who = await current(await tokenOf(erin.login, erin.password));
      assert.equal(who.id, callerId);
      assert.ok(!who.role_ids.includes(ADMINISTRATORS));
      assert.equal((await userById(callerId)).login, erin.login, "the caller's login is unchanged");
      assert.deepEqual(await userById(victimId), victimBefore, "the victim's account is untouched");
      const victimRowAfter = await row(victimId);
      assert.equal(victimRowAfter.login_key, victimRowBefore.login_key);
      assert.equal(victimRowAfter.directory_dn, frank.dn);
      const editEvents = await service.store.db.selectFrom('audit_events').select('id').where('type', '=', 'user-edited').where('actor_id', '=', callerId).execute();
      assert.equal(editEvents.length, 0, 'no edit was made');
      // The victim still logs in, into the same account.
      assert.equal((await current(await tokenOf(frank.login, frank.password))).id, victimId);
    } finally {
      await service.close();
    }
  });

  test('an account renamed beneath the API to another directory user\'s login is refused: 401 like a wrong password, recorded as directory-entry-mismatch, not counted, the account untouched', async () => {
    const { service, logIn, tokenOf, current, call, userById, row, failures } = await directoryService(target.dialect, slapd);
    try {
      const victimId = (await current(await tokenOf(frank.login, frank.password))).id;
      assert.equal((await call('PUT', v1(`/users/${victimId}`), { ...(await userById(victimId)), role_ids: [ADMINISTRATORS] })).statusCode, 200);
      const callerId = (await current(await tokenOf(erin.login, erin.password))).id;
      // The two renames of the attack, as a database from before this rule (or an import) could hold them.
      await service.store.db.updateTable('users').set({ login: 'erin-old', login_key: 'erin-old', login_skeleton: null }).where('id', '=', callerId).execute();
      await service.store.db.updateTable('users').set({ login: erin.login, login_key: erin.login, login_skeleton: null }).where('id', '=', victimId).execute();
      const before = await row(victimId);
      const tokensBefore = await service.store.db.selectFrom('login_tokens').select('id').where('user_id', '=', victimId).execute();

      const wrongPassword = await logIn('admin', 'not-the-admin-password');
      // More refusals than failed-attempts-lockout (3): none of them counts.
      for (let attempt = 0; attempt < 4; attempt++) {
        const refused = await logIn(erin.login, erin.password);
        assertError(refused, 401, 'user-unauthenticated');
        assert.equal(refused.body, wrongPassword.body, 'the same answer as a wrong password');
      }
      const after = await row(victimId);
      assert.equal(after.failed_attempts, 0, 'not counted toward lockout');
      assert.equal(after.is_revoked, 0);
      assert.equal(after.last_login, before.last_login, 'no login was recorded');
      assert.equal(after.directory_dn, frank.dn, 'still bound to its own entry');
      assert.deepEqual(await service.store.db.selectFrom('login_tokens').select('id').where('user_id', '=', victimId).execute(), tokensBefore, 'no token was issued');
      assert.deepEqual((await userById(victimId)).role_ids, [ADMINISTRATORS]);
      assert.deepEqual(
        (await failures(victimId)).map((failure) => failure.reason),
        Array(4).fill('directory-entry-mismatch'),
      );
      const event = await service.store.db.selectFrom('audit_events').select('details').where('type', '=', 'login-failed').where('subject_id', '=', victimId).executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(event.details), { reason: 'directory-entry-mismatch', purpose: 'login', bound_dn: frank.dn, found_dn: erin.dn });
    } finally {
      await service.close();
    }
  });

  test('an entry with two uid values logs in as the value the login matched, never the first: mallory is mallory, not bob2', async () => {
    const { service, tokenOf, current, userById, remoteUser } = await directoryService(target.dialect, slapd);
    try {
      // bob2: an account of its own here (created through the API), with Administrators.
      const bob2Id = await remoteUser(mallory.otherLogin, [ADMINISTRATORS]);
      const bob2Before = await userById(bob2Id);

      const who = await current(await tokenOf(mallory.login, mallory.password));
      assert.equal(who.login, mallory.login);
      assert.notEqual(who.id, bob2Id);
      assert.deepEqual(who.role_ids, []);
      assert.equal(who.email, mallory.email);
      // Case does not matter to the match, the directory's spelling is kept.
      assert.equal((await current(await tokenOf('MALLORY', mallory.password))).id, who.id);
      assert.deepEqual(await userById(bob2Id), bob2Before, 'bob2 is untouched');
      // The other value logs in as that value: the directory says the entry has it.
      assert.equal((await current(await tokenOf(mallory.otherLogin, mallory.password))).id, bob2Id);
    } finally {
      await service.close();
    }
  });

  test('the binding is recorded at the first successful login (directory id, DN, entryUUID), also for a remote user created through the API; a wrong password records none', async () => {
    const { service, directoryId, logIn, tokenOf, row, remoteUser } = await directoryService(target.dialect, slapd);
    try {
      const id = await remoteUser(alice.login);
      assert.equal((await row(id)).directory_id, null);
      assertError(await logIn(alice.login, 'not-alices-password'), 401, 'user-unauthenticated');
      const unbound = await row(id);
      assert.deepEqual([unbound.directory_id, unbound.directory_dn, unbound.directory_entry_id], [null, null, null]);
      await tokenOf(alice.login, alice.password);
      const bound = await row(id);
      assert.equal(bound.directory_id, directoryId);
      assert.equal(bound.directory_dn, alice.dn);
      assert.match(String(bound.directory_entry_id), /^entryUUID:[0-9a-f-]{36}$/);
      const events = await service.store.db.selectFrom('audit_events').select('details').where('type', '=', 'user-bound').where('subject_id', '=', id).execute();
      assert.deepEqual(
        events.map((event) => JSON.parse(event.details)),
        [{ directory_id: directoryId, dn: alice.dn }],
      );
    } finally {
      await service.close();
    }
  });

  test('an entry moved in the directory (new DN, same entryUUID) still logs in, into the same account, and the new DN is recorded', async () => {
    const { service, tokenOf, current, row } = await directoryService(target.dialect, slapd);
    try {
      const id = (await current(await tokenOf(dave.login, dave.password))).id;
      const entryId = (await row(id)).directory_entry_id;
      const movedDn = `uid=dave,${await addUnit(slapd, 'moved')}`;
      await moveEntry(slapd, dave.dn, movedDn);
      assert.equal((await current(await tokenOf(dave.login, dave.password))).id, id);
      const moved = await row(id);
      assert.equal(moved.directory_dn, movedDn);
      assert.equal(moved.directory_entry_id, entryId);
      const events = await service.store.db.selectFrom('audit_events').select('details').where('type', '=', 'user-bound').where('subject_id', '=', id).orderBy('id').execute();
      assert.deepEqual(JSON.parse(events.at(-1)?.details ?? '{}'), { directory_id: moved.directory_id, dn: movedDn, previous_dn: dave.dn });
    } finally {
      await service.close();
    }
  });

  test('an entry deleted and created again at the same DN (a new entryUUID: the uid given to someone else) is refused; rbac users unbind lets it bind again', async () => {
    const { service, directoryId, logIn, tokenOf, current, row, failures } = await directoryService(target.dialect, slapd);
    try {
      const id = (await current(await tokenOf(bob.login, bob.password))).id;
      const newcomerPassword = 'bob-newcomer-pw-1';
      await slapd.asAdmin(async (client) => {
        await client.del(bob.dn);
        await client.add(bob.dn, {
          objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
          uid: 'bob',
          cn: 'Bob Newcomer',
          sn: 'Newcomer',
          mail: 'newcomer@example.test',
          userPassword: newcomerPassword,
        });
      });
      assertError(await logIn(bob.login, newcomerPassword), 401, 'user-unauthenticated');
      assert.deepEqual(
        (await failures(id)).map((failure) => failure.reason),
        ['directory-entry-mismatch'],
      );
      const entryId = (await row(id)).directory_entry_id;

      // The operator who knows it is the same person (a restore that lost the ids): rbac users unbind.
      const store = storeArgs(service.workspace);
      expectRefusal(await runCli(['users', 'unbind', 'admin', ...store]), 1, /^rbac: admin is not bound to a directory entry\.$/m, 'unbind a local user');
      expectRefusal(await runCli(['users', 'unbind', bob.login, '--directory', directoryId, ...store]), 2, /not both/, 'unbind with a login and a directory');
      const unbound = await runCli(['users', 'unbind', bob.login, ...store]);
      expectExit(unbound, 0, 'users unbind bob');
      assert.equal(unbound.stdout, `bob is no longer bound to ${bob.dn}.\n`);
      const event = await service.store.db.selectFrom('audit_events').select(['details', 'source_address']).where('type', '=', 'user-unbound').where('subject_id', '=', id).executeTakeFirstOrThrow();
      assert.deepEqual({ details: JSON.parse(event.details), source: event.source_address }, { details: { directory_id: directoryId, dn: bob.dn }, source: 'cli' });
      assert.equal((await current(await tokenOf(bob.login, newcomerPassword))).id, id);
      const rebound = await row(id);
      assert.equal(rebound.directory_dn, bob.dn);
      assert.notEqual(rebound.directory_entry_id, entryId);
      assert.match(String(rebound.directory_entry_id), /^entryUUID:/);
    } finally {
      await service.close();
    }
  });

  test('a directory that gives no entryUUID: the DN decides (a moved entry is refused, back at its DN it logs in); rbac users unbind --directory lets moved entries bind again; an entryUUID given later is recorded', async () => {
    const { service, directoryId, call, logIn, tokenOf, current, row, failures } = await directoryService(target.dialect, slapd, {
      settings: { login: slapd.limitedReaderDn, password: slapd.limitedReaderPassword },
    });
    try {
      const id = (await current(await tokenOf(carol.login, carol.password))).id;
      const otherId = (await current(await tokenOf(erin.login, erin.password))).id;
      const bound = await row(id);
      assert.equal(bound.directory_dn, carol.dn);
      assert.equal(bound.directory_entry_id, null);
      const movedDn = `uid=carol,${await addUnit(slapd, 'elsewhere')}`;
      await moveEntry(slapd, carol.dn, movedDn);
      try {
        assertError(await logIn(carol.login, carol.password), 401, 'user-unauthenticated');
        assert.deepEqual(
          (await failures(id)).map((failure) => failure.reason),
          ['directory-entry-mismatch'],
        );
        await moveEntry(slapd, movedDn, carol.dn);
        assert.equal((await current(await tokenOf(carol.login, carol.password))).id, id);

        await moveEntry(slapd, carol.dn, movedDn);
        assertError(await logIn(carol.login, carol.password), 401, 'user-unauthenticated');
        const unbound = await runCli(['users', 'unbind', '--directory', directoryId, ...storeArgs(service.workspace)]);
        expectExit(unbound, 0, 'users unbind --directory');
        assert.equal(unbound.stdout, `carol is no longer bound to ${carol.dn}.\nerin is no longer bound to ${erin.dn}.\nunbound 2 users; each is bound again at its next directory login\n`);
        assert.equal((await current(await tokenOf(carol.login, carol.password))).id, id);
        assert.equal((await row(id)).directory_dn, movedDn);
        assert.equal((await row(otherId)).directory_id, null, 'unbound until its next login');

        // The lookup account may read entryUUID now: the DN decides once more, and the id is recorded from then on.
        const updated = await call('POST', v1('/command/ldap/update'), { ...directorySettingsFor(slapd), id: directoryId });
        assert.equal(updated.statusCode, 200, updated.body);
        assert.equal((await current(await tokenOf(carol.login, carol.password))).id, id);
        assert.match(String((await row(id)).directory_entry_id), /^entryUUID:/);
      } finally {
        await moveEntry(slapd, movedDn, carol.dn);
      }
    } finally {
      await service.close();
    }
  });

  test('deleting a directory deletes the remote users bound to it (their tokens stop working); remote users bound to none stay', async () => {
    const { service, directoryId, call, tokenOf, current, remoteUser } = await directoryService(target.dialect, slapd);
    try {
      const token = await tokenOf(erin.login, erin.password);
      const erinId = (await current(token)).id;
      const unboundId = await remoteUser('not-yet-logged-in');
      const deleted = await call('POST', v1('/command/ldap/delete'), { id: directoryId });
      assert.equal(deleted.statusCode, 204, deleted.body);
      assertError(await call('GET', v1(`/users/${erinId}`)), 404, 'not-found');
      assertError(await call('GET', v1('/users/current'), undefined, token), 401, 'user-unauthenticated');
      assert.equal((await call('GET', v1(`/users/${unboundId}`))).statusCode, 200);
      const event = await service.store.db.selectFrom('audit_events').select('details').where('type', '=', 'user-deleted').where('subject_id', '=', erinId).executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(event.details), { directory_id: directoryId });
    } finally {
      await service.close();
    }
  });

  test('a bound user is looked up in its own directory only: another directory listed first with the same login does not lock it out', async () => {
    const other = await startSlapd();
    // Created first, so asked first; at first it has no users (its user_rdn names the service accounts).
    const { service, directoryId: firstId, call, tokenOf, current, row } = await directoryService(target.dialect, other, { settings: { display_name: 'First', user_rdn: 'ou=service' } });
    try {
      const second = await call('POST', v1('/command/ldap/create'), directorySettingsFor(slapd, { display_name: 'Second' }));
      assert.equal(second.statusCode, 200, second.body);
      const secondId = (second.json() as { id: string }).id;
      const id = (await current(await tokenOf(frank.login, frank.password))).id;
      assert.equal((await row(id)).directory_id, secondId);
      // Now the first directory has frank too (its own entry, another entryUUID).
      const updated = await call('POST', v1('/command/ldap/update'), { ...directorySettingsFor(other, { display_name: 'First' }), id: firstId });
      assert.equal(updated.statusCode, 200, updated.body);
      assert.equal((await current(await tokenOf(frank.login, frank.password))).id, id);
      assert.equal((await row(id)).directory_id, secondId);
      // An unbound login is still asked of the directories in order: the first one's erin.
      const erinId = (await current(await tokenOf(erin.login, erin.password))).id;
      assert.equal((await row(erinId)).directory_id, firstId);
    } finally {
      await service.close();
      await other.stop();
    }
  });

  test('a remote user from before migration 013 is bound at its next successful login, and refused once its login names another entry', async () => {
    const workspace = await freshWorkspace(target.dialect);
    try {
      const id = randomUUID();
      const old = openStore({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl });
      try {
        await migrateTo(old, '012_directories');
        await old.db
          .insertInto('users')
          .values({ id, login: erin.login, login_key: erin.login, login_skeleton: erin.login, email: '', display_name: '', is_remote: 1, is_superuser: 0, is_revoked: 0, password_hash: null, last_login: null, created_at: Date.now() } as never)
          .execute();
      } finally {
        await old.close();
      }
      const { service, directoryId, logIn, tokenOf, current, row, failures } = await directoryService(target.dialect, slapd, { workspace });
      try {
        assert.equal((await row(id)).directory_id, null);
        assert.equal((await current(await tokenOf(erin.login, erin.password))).id, id);
        const bound = await row(id);
        assert.equal(bound.directory_id, directoryId);
        assert.equal(bound.directory_dn, erin.dn);
        await service.store.db.updateTable('users').set({ login: frank.login, login_key: frank.login, login_skeleton: null }).where('id', '=', id).execute();
        assertError(await logIn(frank.login, frank.password), 401, 'user-unauthenticated');
        assert.deepEqual(
          (await failures(id)).map((failure) => failure.reason),
          ['directory-entry-mismatch'],
        );
      } finally {
        await service.close();
      }
    } finally {
      await workspace.cleanup();
    }
  });
});
