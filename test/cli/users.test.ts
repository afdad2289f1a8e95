// `rbac migrate` and `rbac users create|list|revoke|unrevoke|expire-idle|delete`,
// driven as a subprocess on SQLite and PostgreSQL, checked against the store
// opened in-process or the API of a service on the same store.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { openStore } from '../../src/store/database.js';
import { runLimited } from '../kit/concurrency.js';
import { describeEachDatabase, insertUser, withWorkspace } from '../kit/databases.js';
import { USER_PASSWORD } from '../kit/passwords.js';
import { runCli, type CliResult } from '../kit/processes.js';
import { Value } from 'typebox/value';
import { User, type Role } from '../../src/shapes.js';
import { apiEvents, eventsOfType, expectExit, expectRefusal, getAsAdmin, openWorkspace, storeArgs, tokenKind, tryLogin, userRow, withApiService, withSeeded } from './support.js';

describeEachDatabase('rbac migrate and users', (target) => {
  test('migrate applies the migrations once; users create/list/revoke/unrevoke; reset-token for an unknown login exits 1', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      const store = storeArgs(workspace);
      const first = await runCli(['migrate', ...store]);
      expectExit(first, 0, 'first migrate');
      // What the CLI recorded as applied, read without migrating.
      const check = openStore({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl, poolSize: 1 });
      const applied = await sql<{ name: string }>`select name from kysely_migration order by name`
        .execute(check.db)
        .then((result) => result.rows.map((row) => row.name))
        .finally(() => check.close());
      assert.equal(applied[0], '001_initial');
      assert.ok(applied.includes('002_password_reset'));
      assert.equal(first.stdout, `applied: ${applied.join(', ')}\n`, 'migrate names every migration it applied');

      const [second, bob, carol] = await runLimited([
        () => runCli(['migrate', ...store]),
        () => runCli(['users', 'create', 'bob', '--email', 'bob@example.com', '--display-name', 'Bob B', '--password-stdin', ...store], { input: `${USER_PASSWORD}\n` }),
        () => runCli(['users', 'create', 'carol', '--remote', '--display-name', 'Carol C', ...store]),
      ]);
      expectExit(second as CliResult, 0, 'second migrate');
      assert.match((second as CliResult).stdout, /is up to date/);
      assert.doesNotMatch((second as CliResult).stdout, /applied/);
      expectExit(bob as CliResult, 0, 'create bob');
      expectExit(carol as CliResult, 0, 'create carol');
      const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
      // users create prints the user as POST /users answers it (the API's user shape, as JSON).
      const createdBob = JSON.parse((bob as CliResult).stdout) as User;
      const createdCarol = JSON.parse((carol as CliResult).stdout) as User;
      assert.ok(Value.Check(User, createdBob), `bob in the API's user shape: ${(bob as CliResult).stdout}`);
      assert.ok(Value.Check(User, createdCarol), `carol in the API's user shape: ${(carol as CliResult).stdout}`);
      const bobId = createdBob.id;
      const carolId = createdCarol.id;
      assert.match(bobId, uuid, 'users create prints the new id');
      assert.match(carolId, uuid);
      assert.deepEqual(
        { ...createdBob, id: '' },
        { id: '', login: 'bob', email: 'bob@example.com', display_name: 'Bob B', role_ids: [], is_group: false, is_remote: false, is_superuser: false, is_revoked: false, last_login: null, inherited_role_ids: [], group_ids: [], failed_attempts: 0, locked_at: null, lockout_lifts_at: null, revoked_by: null, password_change_required: false },
      );
      assert.deepEqual(
        { login: createdCarol.login, display_name: createdCarol.display_name, is_remote: createdCarol.is_remote },
        { login: 'carol', display_name: 'Carol C', is_remote: true },
      );
      assert.ok(!(bob as CliResult).stdout.includes(USER_PASSWORD), 'the password is not printed');

      const [duplicate, listJson, tokenForNobody] = await runLimited([
        () => runCli(['users', 'create', 'BOB', '--password-stdin', ...store], { input: `${USER_PASSWORD}\n` }),
        () => runCli(['users', 'list', '--json', ...store]),
        () => runCli(['reset-token', 'nobody', ...store]),
      ]);
      expectExit(duplicate as CliResult, 1, 'duplicate login (other case)');
      assert.match((duplicate as CliResult).stderr, /^rbac: A user with the login "BOB" already exists/m);
      expectExit(tokenForNobody as CliResult, 1, 'reset-token for an unknown login');
      assert.match((tokenForNobody as CliResult).stderr, /^rbac: No user has the login "nobody"/m);
      assert.equal((tokenForNobody as CliResult).stdout, '', 'no token printed');

      expectExit(listJson as CliResult, 0, 'users list --json');
      const listed = JSON.parse((listJson as CliResult).stdout) as { id: string; login: string; email: string; display_name: string; is_remote: boolean; is_revoked: boolean }[];
      assert.deepEqual(
        listed.map((user) => user.login),
        ['api_user', 'bob', 'carol'],
        'exactly the created users (no duplicate), beside PE\'s api_user, which the migrations make',
      );
      const listedBob = listed.find((user) => user.login === 'bob');
      assert.deepEqual(
        { id: listedBob?.id, email: listedBob?.email, display_name: listedBob?.display_name, is_remote: listedBob?.is_remote, is_revoked: listedBob?.is_revoked },
        { id: bobId, email: 'bob@example.com', display_name: 'Bob B', is_remote: false, is_revoked: false },
      );
      const listedCarol = listed.find((user) => user.login === 'carol');
      assert.equal(listedCarol?.id, carolId);
      assert.equal(listedCarol?.is_remote, true);
      assert.ok(!(listJson as CliResult).stdout.includes('$argon2'), 'no password hash is listed');

      const opened = await openWorkspace(workspace);
      try {
        const bobToken = (await tryLogin(opened, 'bob', USER_PASSWORD)).token;
        assert.ok(bobToken, 'bob logs in with the password given on stdin');

        const revoke = await runCli(['users', 'revoke', 'bob', ...store]);
        expectExit(revoke, 0, 'users revoke bob');
        assert.match(revoke.stdout, /bob is revoked/);
        assert.equal((await tryLogin(opened, 'bob', USER_PASSWORD)).kind, 'user-revoked', 'a revoked user cannot log in');
        assert.equal(await tokenKind(opened, bobToken), 'user-unauthenticated', "revoking revokes the user's login tokens");
        assert.equal((await userRow(opened, 'bob'))?.is_revoked, 1);

        await opened.store.db.updateTable('users').set({ failed_attempts: 4 }).where('id', '=', bobId).execute();
        const unrevoke = await runCli(['users', 'unrevoke', 'bob', ...store]);
        expectExit(unrevoke, 0, 'users unrevoke bob');
        assert.match(unrevoke.stdout, /bob is active/);
        assert.equal((await userRow(opened, 'bob'))?.failed_attempts, 0, 'unrevoke clears the failed-attempt count');
        assert.ok((await tryLogin(opened, 'bob', USER_PASSWORD)).token, 'bob logs in again after unrevoke');
        const trail = (await opened.store.db.selectFrom('audit_events').select(['type', 'source_address']).where('subject_id', '=', bobId).orderBy('id').execute()).filter(
          (event) => event.type.startsWith('account-'),
        );
        assert.deepEqual(trail, [
          { type: 'account-revoked', source_address: 'cli' },
          { type: 'account-unrevoked', source_address: 'cli' },
        ]);
      } finally {
        await opened.store.close();
      }
    });
  });
  test('users create: a login shorter than login-minimum-length or a password breaking a composition rule exits 1 naming the rule and creates nothing; without a password option the user is local with none', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      const store = storeArgs(workspace);
      const [shortByFlag, shortByEnv, noDigits] = await runLimited([
        () => runCli(['users', 'create', 'bob', '--login-minimum-length', '6', '--password-stdin', ...store], { input: `${USER_PASSWORD}\n` }),
        () => runCli(['users', 'create', 'carol', '--remote', ...store], { env: { RBAC_LOGIN_MINIMUM_LENGTH: '6' } }),
        () => runCli(['users', 'create', 'dorothea', '--password-stdin', ...store], { input: `${USER_PASSWORD}\n`, env: { RBAC_NUMBERS_REQUIRED: '2' } }),
      ]);
      for (const [result, what] of [
        [shortByFlag, '--login-minimum-length 6'],
        [shortByEnv, 'RBAC_LOGIN_MINIMUM_LENGTH=6'],
      ] as const) {
        expectExit(result as CliResult, 1, what);
        assert.match((result as CliResult).stderr, /^rbac: The login must be at least 6 characters long\.$/m, what);
        assert.equal((result as CliResult).stdout, '', `${what}: no id printed`);
      }
      expectExit(noDigits as CliResult, 1, 'RBAC_NUMBERS_REQUIRED=2');
      assert.match((noDigits as CliResult).stderr, /^rbac: The password must contain at least 2 digits\.$/m);
      assert.ok(!(noDigits as CliResult).stderr.includes(USER_PASSWORD), 'the password is not echoed');

      const passwordless = await runCli(['users', 'create', 'no-password-user', '--login-minimum-length', '6', ...store]);
      expectExit(passwordless, 0, 'users create without a password option');
      const issued = await runCli(['reset-token', 'no-password-user', ...store]);
      expectExit(issued, 0, 'reset-token for the user without a password');
      assert.match(issued.stdout.trim(), /^[\w-]+\.[\w-]+\.[\w-]+$/);

      const opened = await openWorkspace(workspace);
      try {
        // PE's api_user, which the migrations make, aside.
        const rows = await opened.store.db.selectFrom('users').select(['id', 'login', 'is_remote', 'password_hash']).where('login', '!=', 'api_user').execute();
        assert.deepEqual(rows, [{ id: (JSON.parse(passwordless.stdout) as User).id, login: 'no-password-user', is_remote: 0, password_hash: null }], 'only the user without a password exists');
        assert.equal((await tryLogin(opened, 'no-password-user', USER_PASSWORD)).kind, 'user-unauthenticated', 'no password logs it in');
      } finally {
        await opened.store.close();
      }
    });
  });

  test('users expire-idle revokes the accounts idle for longer than account-expiry-days, once, and says how many; without the setting it refuses', async () => {
    await withSeeded(target.dialect, async (workspace, opened) => {
      const DAY = 24 * 60 * 60 * 1000;
      await insertUser(opened.store.db, 'cli-idle', { created_at: Date.now() - 31 * DAY });
      await insertUser(opened.store.db, 'cli-recent', { created_at: Date.now() - 29 * DAY });
      const store = storeArgs(workspace);

      const refused = await runCli(['users', 'expire-idle', ...store]);
      expectExit(refused, 2, 'expire-idle without account-expiry-days');
      assert.match(refused.stderr, /^rbac: account-expiry-days is not set, so no account expires/m);
      assert.equal((await userRow(opened, 'cli-idle'))?.is_revoked, 0, 'nothing was revoked');

      const swept = await runCli(['users', 'expire-idle', '--account-expiry-days', '30', ...store]);
      expectExit(swept, 0, 'expire-idle');
      assert.equal(swept.stdout, 'revoked 1 account idle for more than 30 days\n');
      assert.equal((await userRow(opened, 'cli-idle'))?.is_revoked, 1);
      assert.equal((await userRow(opened, 'cli-recent'))?.is_revoked, 0);
      assert.equal((await userRow(opened, 'admin'))?.is_revoked, 0);
      const events = await eventsOfType(opened, 'account-expired');
      assert.deepEqual(
        events.map((event) => ({ actor: event.actor_id, subject: event.subject_login, source: event.source_address })),
        [{ actor: null, subject: 'cli-idle', source: 'cli' }],
      );

      const again = await runCli(['users', 'expire-idle', ...store], { env: { RBAC_ACCOUNT_EXPIRY_DAYS: '30' } });
      expectExit(again, 0, 'expire-idle again');
      assert.equal(again.stdout, 'revoked 0 accounts idle for more than 30 days\n');
      assert.equal((await eventsOfType(opened, 'account-expired')).length, 1, 'no second event');
    });
  });

  test('users delete removes the user as DELETE /users/:sid does (its tokens and memberships with it) and records it; admin and unknown logins exit 1', async () => {
    await withApiService(target.dialect, async (service, run) => {
      const aliceId = await service.createUser('alice', { role_ids: [1] });
      const aliceToken = await service.login('alice', USER_PASSWORD);

      const [admin, nobody] = await runLimited([() => run('users', 'delete', 'admin'), () => run('users', 'delete', 'nobody')]);
      expectRefusal(admin as CliResult, 1, /^rbac: The bootstrap admin cannot be deleted/m, 'users delete admin');
      expectRefusal(nobody as CliResult, 1, /^rbac: No user has the login "nobody"\.$/m, 'users delete nobody');

      const deleted = await run('users', 'delete', 'Alice');
      expectExit(deleted, 0, 'users delete alice');
      assert.equal(deleted.stdout, `Alice (${aliceId}) is deleted.\n`);
      assert.equal((await getAsAdmin(service, `/users/${aliceId}`)).status, 404, 'GET /users/:sid: gone');
      assert.equal((await service.request({ method: 'GET', url: '/rbac-api/v1/users/current', token: aliceToken })).statusCode, 401, 'her token stops working');
      assert.deepEqual((await getAsAdmin<Role>(service, '/roles/1')).body.user_ids.includes(aliceId), false, 'no longer a member of Administrators');
      assert.equal((await getAsAdmin(service, '/users/current')).status, 200, 'admin is still there');
      assert.deepEqual(
        (await apiEvents(service, 'user-deleted')).map((event) => ({ actor: event.actor, subject: event.subject, source: event.source_address })),
        [{ actor: null, subject: { id: aliceId, login: 'alice' }, source: 'cli' }],
      );
      expectRefusal(await run('users', 'delete', 'alice'), 1, /^rbac: No user has the login "alice"\.$/m, 'deleting her again');
    });
  });
});
