// `rbac reset-admin-password`, the admin password reset script, driven as
// a subprocess on SQLite and PostgreSQL: --password-stdin, --password, the
// policy, the no-echo prompt on a real pseudo-terminal (util-linux
// `script`), and a reset while an in-process service keeps serving requests
// on the same data.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import SqliteDatabase from 'better-sqlite3';
import { PROMPT_ATTEMPTS } from '../../src/cli/password-input.js';
import { startService, type RunningService } from '../../src/server.js';
import { SQLITE_FILE } from '../../src/store/database.js';
import type { UserRow } from '../../src/store/schema.js';
import { ensureBootstrapAdmin } from '../../src/users/bootstrap.js';
import { callPort, loginOver, tokenOver, type Reply } from '../kit/api.js';
import { loopUntilStopped } from '../kit/concurrency.js';
import { describeEachDatabase, withWorkspace } from '../kit/databases.js';
import { ADMIN_PASSWORD, USER_PASSWORD } from '../kit/passwords.js';
import { cliArgs, runCli } from '../kit/processes.js';
import { countOf, runInPty, shellQuote, skipWithoutScript } from '../kit/terminal.js';
import {
  NEW_ADMIN_PASSWORD,
  RESET_EVENT,
  adminRow,
  configFor,
  eventCount,
  eventsOfType,
  expectExit,
  openWorkspace,
  silent,
  storeArgs,
  tokenKind,
  tryLogin,
  withSeeded,
} from './support.js';

const PASSWORD_WARNING = /warning: --password puts the password in your shell history/;
const portOf = (service: RunningService) => (service.app.server.address() as AddressInfo).port;

describeEachDatabase('rbac reset-admin-password', (target) => {
  test('--password-stdin reinstates a locked admin: new password, revoked and failed attempts cleared, tokens revoked, one audit event', async () => {
    await withSeeded(target.dialect, async (workspace, opened) => {
      const oldTokens = [await tryLogin(opened, 'admin', ADMIN_PASSWORD), await tryLogin(opened, 'admin', ADMIN_PASSWORD)].map((result) => {
        assert.ok(result.token, 'admin logs in before the reset');
        return result.token;
      });
      const before = await adminRow(opened);
      // Locked out: revoked with every attempt used up.
      await opened.store.db.updateTable('users').set({ is_revoked: 1, failed_attempts: opened.config.failedAttemptsLockout }).where('id', '=', before.id).execute();
      assert.equal((await tryLogin(opened, 'admin', ADMIN_PASSWORD)).kind, 'user-revoked', 'the admin is locked before the reset');
      const eventsBefore = await eventCount(opened);

      const result = await runCli(['reset-admin-password', '--password-stdin', ...storeArgs(workspace)], { input: `${NEW_ADMIN_PASSWORD}\n` });
      expectExit(result, 0, 'reset-admin-password --password-stdin');
      assert.match(result.stdout, /password of "admin" was reset/);
      assert.doesNotMatch(result.stderr, PASSWORD_WARNING, 'no warning for --password-stdin');
      assert.ok(!result.stdout.includes(NEW_ADMIN_PASSWORD) && !result.stderr.includes(NEW_ADMIN_PASSWORD), 'the password is never printed');

      const after = await adminRow(opened);
      assert.equal(after.id, before.id, 'the same admin, not a new one');
      assert.equal(after.is_revoked, 0, 'un-revoked');
      assert.equal(after.failed_attempts, 0, 'failed attempts cleared');
      assert.equal(after.is_superuser, 1);
      assert.notEqual(after.password_hash, before.password_hash);
      for (const token of oldTokens) assert.equal(await tokenKind(opened, token as string), 'user-unauthenticated', 'old login tokens are revoked');
      const revokedAt = await opened.store.db.selectFrom('login_tokens').select('revoked_at').where('user_id', '=', before.id).execute();
      assert.equal(revokedAt.length, 2);
      assert.ok(revokedAt.every((row) => row.revoked_at !== null));

      const events = await eventsOfType(opened, RESET_EVENT);
      assert.equal(events.length, 1, 'exactly one reset event');
      const event = events[0] as (typeof events)[number];
      assert.equal(event.subject_id, before.id);
      assert.equal(event.subject_login, 'admin');
      assert.equal(event.actor_id, null);
      const details = JSON.parse(event.details) as { operator?: unknown; created?: unknown };
      assert.equal(typeof details.operator, 'string');
      assert.equal(details.created, false);
      assert.ok(!event.details.includes(NEW_ADMIN_PASSWORD), 'the event holds no secret');
      assert.equal(await eventCount(opened), eventsBefore + 1, 'the reset records one event and nothing else');

      const fresh = await tryLogin(opened, 'admin', NEW_ADMIN_PASSWORD);
      assert.ok(fresh.token, `admin logs in with the new password (${fresh.kind ?? ''})`);
      assert.equal(await tokenKind(opened, fresh.token), 'valid');
      assert.equal((await tryLogin(opened, 'admin', ADMIN_PASSWORD)).kind, 'user-unauthenticated', 'the old password no longer works');
    });
  });

  test('a password that breaks the policy exits 1 listing every violation and changes nothing', async () => {
    await withSeeded(target.dialect, async (workspace, opened) => {
      const token = (await tryLogin(opened, 'admin', ADMIN_PASSWORD)).token as string;
      const admin = await adminRow(opened);
      await opened.store.db.updateTable('users').set({ is_revoked: 1, failed_attempts: 3 }).where('id', '=', admin.id).execute();
      const before = await adminRow(opened);
      const eventsBefore = await eventCount(opened);

      // Too short, contains the login and is a common password: every violation is listed.
      const weak = await runCli(['reset-admin-password', '--password-stdin', ...storeArgs(workspace)], { input: 'admin123\n' });
      expectExit(weak, 1, 'weak password');
      assert.match(weak.stderr, /^rbac: The password must be at least 12 characters long\.\n {2}The password must not contain the login\.\n {2}The password is on the list of commonly used passwords\.$/m);
      assert.equal(weak.stdout, '');

      assert.deepEqual(await adminRow(opened), before, 'the admin row is untouched (password, revoked, failed attempts)');
      assert.equal(await eventCount(opened), eventsBefore, 'no audit event');
      assert.equal((await eventsOfType(opened, RESET_EVENT)).length, 0);
      const live = await opened.store.db.selectFrom('login_tokens').select('revoked_at').where('user_id', '=', admin.id).execute();
      assert.deepEqual(live, [{ revoked_at: null }], 'the login token is not revoked');
      await opened.store.db.updateTable('users').set({ is_revoked: 0, failed_attempts: 0 }).where('id', '=', admin.id).execute();
      assert.equal(await tokenKind(opened, token), 'valid');
      assert.ok((await tryLogin(opened, 'admin', ADMIN_PASSWORD)).token, 'the old password still works');
    });
  });

  test("the admin's current password, and after a reset the replaced one, exit 1 naming the password history and change nothing", async () => {
    await withSeeded(target.dialect, async (workspace, opened) => {
      const reset = (password: string) => runCli(['reset-admin-password', '--password-stdin', ...storeArgs(workspace)], { input: `${password}\n` });
      const refused = async (password: string, what: string) => {
        const before = await adminRow(opened);
        const eventsBefore = await eventCount(opened);
        const result = await reset(password);
        expectExit(result, 1, what);
        // number-of-previous-passwords is 5 by default.
        assert.match(result.stderr, /^rbac: The password must differ from the last 5 passwords of this account\.$/m);
        assert.equal(result.stdout, '');
        assert.deepEqual(await adminRow(opened), before, `${what}: the admin row is untouched`);
        assert.equal(await eventCount(opened), eventsBefore, `${what}: no audit event`);
      };
      await refused(ADMIN_PASSWORD, 'the current password');
      expectExit(await reset(NEW_ADMIN_PASSWORD), 0, 'a new password');
      await refused(ADMIN_PASSWORD, 'the replaced password');
      assert.ok((await tryLogin(opened, 'admin', NEW_ADMIN_PASSWORD)).token, 'the password set in between still works');
    });
  });

  test('a password breaking configured composition rules exits 1 listing their friendly errors, and changes nothing', async () => {
    await withSeeded(target.dialect, async (workspace, opened) => {
      const before = await adminRow(opened);
      const eventsBefore = await eventCount(opened);
      const result = await runCli(['reset-admin-password', '--password-stdin', '--uppercase-letters-required', '1', ...storeArgs(workspace)], {
        input: `${NEW_ADMIN_PASSWORD}\n`,
        env: { RBAC_NUMBERS_REQUIRED: '2' },
      });
      expectExit(result, 1, 'composition rules broken');
      assert.match(result.stderr, /^rbac: The password must contain at least 1 upper-case letter\.\n {2}The password must contain at least 2 digits\.$/m);
      assert.equal(result.stdout, '');
      assert.ok(!result.stderr.includes(NEW_ADMIN_PASSWORD), 'the password is not echoed');
      assert.deepEqual(await adminRow(opened), before, 'the admin row is untouched');
      assert.equal(await eventCount(opened), eventsBefore, 'no audit event');
      assert.ok((await tryLogin(opened, 'admin', ADMIN_PASSWORD)).token, 'the old password still works');
    });
  });

  test('--password on a fresh data dir creates admin with that password and warns on stderr', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      const result = await runCli(['reset-admin-password', '--password', NEW_ADMIN_PASSWORD, ...storeArgs(workspace)]);
      expectExit(result, 0, 'reset-admin-password --password on an empty store');
      assert.match(result.stderr, PASSWORD_WARNING);
      assert.match(result.stdout, /superuser "admin" was created/);
      const opened = await openWorkspace(workspace);
      try {
        // Beside PE's api_user, which the migrations make.
        const admins = await opened.store.db.selectFrom('users').selectAll().where('login', '!=', 'api_user').execute();
        assert.equal(admins.length, 1, 'exactly one user: admin');
        const admin = admins[0] as UserRow;
        assert.equal(admin.login, 'admin');
        assert.equal(admin.is_superuser, 1);
        assert.equal(admin.is_revoked, 0);
        assert.equal(admin.is_remote, 0);
        const events = await eventsOfType(opened, RESET_EVENT);
        assert.equal(events.length, 1);
        assert.equal((JSON.parse((events[0] as { details: string }).details) as { created: boolean }).created, true);
        assert.ok((await tryLogin(opened, 'admin', NEW_ADMIN_PASSWORD)).token, 'admin logs in with the new password');
        assert.equal((await tryLogin(opened, 'admin', ADMIN_PASSWORD)).kind, 'user-unauthenticated');
        // A later service start keeps this admin and its password rather than bootstrapping another.
        const bootstrap = await ensureBootstrapAdmin({ db: opened.store.db, hasher: opened.hasher, rules: opened.config }, ADMIN_PASSWORD);
        assert.equal(bootstrap.created, false);
      } finally {
        await opened.store.close();
      }
    });
  });

  test('the no-echo prompt on a real terminal: asked twice, the password works and is never shown', { skip: skipWithoutScript }, async () => {
    await withSeeded(target.dialect, async (workspace, opened) => {
      const secret = 'typed at the terminal 42';
      const env = { RBAC_DATA_DIR: workspace.dataDir, ...(workspace.databaseUrl ? { RBAC_DATABASE_URL: workspace.databaseUrl } : {}) };
      const command = [process.execPath, ...cliArgs(['reset-admin-password'])].map(shellQuote).join(' ');
      const before = await adminRow(opened);

      // Control: this terminal does echo what is typed, so its absence below means something.
      const control = await runInPty('printf "type: "; read -r line', ['visible when echoed\r'], {}, (output) => countOf(/type: /, output));
      assert.equal(control.code, 0, control.output);
      assert.match(control.output, /visible when echoed/, 'the pseudo-terminal echoes typed input by default');

      const result = await runInPty(command, [`${secret}\r`, `${secret}\r`], env, (output) => countOf(/password: /, output));
      assert.equal(result.code, 0, `exit code; terminal showed: ${JSON.stringify(result.output)}`);
      assert.match(result.output, /New password: [\s\S]*Repeat the new password: /, 'asked twice');
      assert.match(result.output, /password of "admin" was reset/);
      assert.ok(!result.output.includes(secret), `the password is not echoed: ${JSON.stringify(result.output)}`);
      assert.ok(!result.output.includes('*'.repeat(secret.length)), 'not even as a mask');
      assert.ok((await tryLogin(opened, 'admin', secret)).token, 'admin logs in with the typed password');
      assert.equal((await tryLogin(opened, 'admin', ADMIN_PASSWORD)).kind, 'user-unauthenticated');
      assert.notEqual((await adminRow(opened)).password_hash, before.password_hash);
      assert.equal((await eventsOfType(opened, RESET_EVENT)).length, 1);
    });
  });

  test('at the prompt a password the history refuses (the current one) is refused at once, before the repeat, and asked again', { skip: skipWithoutScript }, async () => {
    await withSeeded(target.dialect, async (workspace, opened) => {
      const secret = 'a password never used here';
      const env = { RBAC_DATA_DIR: workspace.dataDir, ...(workspace.databaseUrl ? { RBAC_DATABASE_URL: workspace.databaseUrl } : {}) };
      const command = [process.execPath, ...cliArgs(['reset-admin-password'])].map(shellQuote).join(' ');
      const result = await runInPty(command, [`${ADMIN_PASSWORD}\r`, `${secret}\r`, `${secret}\r`], env, (output) => countOf(/password: /, output));
      assert.equal(result.code, 0, `exit code; terminal showed: ${JSON.stringify(result.output)}`);
      // eslint-disable-next-line no-control-regex
      const lines = result.output.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').split(/\r?\n/);
      assert.deepEqual(
        lines.filter((line) => line.trim() !== ''),
        [
          'New password: ',
          'That password does not meet the password policy:',
          '  - The password must differ from the last 5 passwords of this account.',
          'Try another one.',
          'New password: ',
          'Repeat the new password: ',
          'The password of "admin" was reset; the account is active and its old login tokens are revoked.',
        ],
        `the terminal showed: ${JSON.stringify(result.output)}`,
      );
      assert.ok((await tryLogin(opened, 'admin', secret)).token, 'admin logs in with the accepted password');
      assert.equal((await eventsOfType(opened, RESET_EVENT)).length, 1);
    });
  });

  test(`at the prompt the current password ${PROMPT_ATTEMPTS} times exits 1 and changes nothing`, { skip: skipWithoutScript }, async () => {
    await withSeeded(target.dialect, async (workspace, opened) => {
      const before = await adminRow(opened);
      const env = { RBAC_DATA_DIR: workspace.dataDir, ...(workspace.databaseUrl ? { RBAC_DATABASE_URL: workspace.databaseUrl } : {}) };
      const command = [process.execPath, ...cliArgs(['reset-admin-password'])].map(shellQuote).join(' ');
      const keys = Array.from({ length: PROMPT_ATTEMPTS }, () => `${ADMIN_PASSWORD}\r`);
      const result = await runInPty(command, keys, env, (output) => countOf(/password: /, output));
      assert.equal(result.code, 1, `exit code; terminal showed: ${JSON.stringify(result.output)}`);
      assert.equal(countOf(/must differ from the last 5 passwords/, result.output), PROMPT_ATTEMPTS);
      assert.equal(countOf(/Repeat the new password: /, result.output), 0, 'never asked to repeat a refused password');
      assert.match(result.output, new RegExp(`rbac: no acceptable password after ${PROMPT_ATTEMPTS} tries; nothing was changed`));
      assert.deepEqual(await adminRow(opened), before);
      assert.equal((await eventsOfType(opened, RESET_EVENT)).length, 0);
    });
  });

  test('while the service is serving requests: the reset succeeds, no request fails, nothing is corrupted', { timeout: 90_000 }, async (t) => {
    await withWorkspace(target.dialect, async (workspace) => {
      // The loop logs alice in far more often than the per-account and per-address
      // rate limits allow; they are not what this test is about.
      const config = configFor(workspace, { rateLimitPerAccount: 0, rateLimitPerAddress: 0 });
      const service = await startService(config, { adminPassword: ADMIN_PASSWORD, logger: silent, announce: () => {} });
      let closed = false;
      try {
        const port = portOf(service);
        const adminToken = await tokenOver(port, 'admin', ADMIN_PASSWORD);
        const created = await callPort(port, {
          method: 'POST',
          path: '/rbac-api/v1/users',
          token: adminToken,
          json: { login: 'alice', email: 'alice@example.com', display_name: 'Alice A', password: USER_PASSWORD },
        });
        assert.equal(created.status, 201, created.body);
        const aliceToken = await tokenOver(port, 'alice', USER_PASSWORD);
        const aliceBefore = JSON.parse((await callPort(port, { path: '/rbac-api/v1/users/current', token: aliceToken })).body) as Record<string, unknown>;

        interface Outcome {
          what: string;
          status?: number;
          error?: string;
          duringCli: boolean;
        }
        const outcomes: Outcome[] = [];
        const deadline = Date.now() + 30_000;
        let cliRunning = false;
        const requests: [string, () => Promise<Reply>][] = [
          ['alice login', () => loginOver(port, 'alice', USER_PASSWORD)],
          ['users/current', () => callPort(port, { path: '/rbac-api/v1/users/current', token: aliceToken })],
          ['status', () => callPort(port, { path: '/status/v1/simple' })],
        ];
        const round = async () => {
          for (const [what, send] of requests) {
            const duringCli = cliRunning;
            try {
              const reply = await send();
              outcomes.push({ what, status: reply.status, duringCli: duringCli || cliRunning });
            } catch (error) {
              outcomes.push({ what, error: (error as Error).message, duringCli: duringCli || cliRunning });
            }
          }
        };
        const waitForMore = async (count: number) => {
          const target = outcomes.length + count;
          while (outcomes.length < target && Date.now() < deadline) await sleep(20);
        };
        const loops = loopUntilStopped(2, deadline, round);
        await waitForMore(6);

        cliRunning = true;
        const result = await runCli(['reset-admin-password', '--password-stdin', ...storeArgs(workspace)], { input: `${NEW_ADMIN_PASSWORD}\n` });
        cliRunning = false;
        await waitForMore(6);
        await loops.stop();

        expectExit(result, 0, 'reset-admin-password next to the running service');
        assert.ok(Date.now() < deadline, 'the loop finished within its bound');
        const failures = outcomes.filter((outcome) => outcome.error !== undefined || (outcome.status ?? 0) >= 500);
        assert.deepEqual(failures, [], 'no 5xx and no connection error');
        const unexpected = outcomes.filter((outcome) => outcome.status !== 200);
        assert.deepEqual(unexpected, [], 'every request of the loop succeeded');
        for (const [what] of requests) assert.ok(outcomes.some((outcome) => outcome.what === what), `${what} was sent`);
        const overlapping = outcomes.filter((outcome) => outcome.duringCli).length;
        t.diagnostic(`${outcomes.length} requests, ${overlapping} of them while the CLI ran`);
        assert.ok(overlapping > 0, `requests were served while the CLI ran (${outcomes.length} in all)`);

        assert.equal((await loginOver(port, 'admin', ADMIN_PASSWORD)).status, 401, 'the old admin password is refused');
        const newAdminToken = await tokenOver(port, 'admin', NEW_ADMIN_PASSWORD);
        assert.equal((await callPort(port, { path: '/rbac-api/v1/users/current', token: adminToken })).status, 401, "the admin's old token is revoked");
        const current = await callPort(port, { path: '/rbac-api/v1/users/current', token: newAdminToken });
        assert.equal(current.status, 200);
        assert.equal((JSON.parse(current.body) as { login: string }).login, 'admin');

        const aliceAfter = await callPort(port, { path: '/rbac-api/v1/users/current', token: aliceToken });
        assert.equal(aliceAfter.status, 200, "alice's token still works");
        // Everything but last_login, which the loop's logins keep moving.
        const withoutLastLogin = (user: Record<string, unknown>) => Object.fromEntries(Object.entries(user).filter(([key]) => key !== 'last_login'));
        assert.deepEqual(withoutLastLogin(JSON.parse(aliceAfter.body) as Record<string, unknown>), withoutLastLogin(aliceBefore), "alice's data is intact");
        assert.equal(aliceBefore.email, 'alice@example.com');
        assert.equal((await loginOver(port, 'alice', USER_PASSWORD)).status, 200, "alice's password is unchanged");

        const events = await service.store.db.selectFrom('audit_events').select(['subject_login']).where('type', '=', RESET_EVENT).execute();
        assert.deepEqual(events, [{ subject_login: 'admin' }], 'exactly one reset event');
        const admins = await service.store.db.selectFrom('users').select('id').where('login_key', '=', 'admin').execute();
        assert.equal(admins.length, 1, 'still exactly one admin');

        await service.close();
        closed = true;
        if (target.dialect === 'sqlite') {
          const file = new SqliteDatabase(path.join(workspace.dataDir, SQLITE_FILE), { readonly: true, fileMustExist: true });
          try {
            assert.deepEqual(file.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
          } finally {
            file.close();
          }
        }
      } finally {
        if (!closed) await service.close();
      }
    });
  });
});

describe('rbac reset-admin-password: the prompt with stderr redirected, mismatched entries, Ctrl-D [sqlite]', { skip: skipWithoutScript }, () => {
  const promptCommand = (suffix = '') => `${[process.execPath, ...cliArgs(['reset-admin-password'])].map(shellQuote).join(' ')}${suffix}`;

  test('with stderr (where the prompt goes) redirected away from the terminal, the typed password is still not echoed', async () => {
    await withSeeded('sqlite', async (workspace, opened) => {
      const errFile = path.join(workspace.dataDir, 'stderr.txt');
      const secret = 'typed with stderr redirected';
      const promptsInFile = () => countOf(/password: /, existsSync(errFile) ? readFileSync(errFile, 'utf8') : '');
      const result = await runInPty(promptCommand(` 2>${shellQuote(errFile)}`), [`${secret}\r`, `${secret}\r`], { RBAC_DATA_DIR: workspace.dataDir }, promptsInFile);
      assert.equal(result.code, 0, `exit code; terminal showed: ${JSON.stringify(result.output)}`);
      assert.match(result.output, /password of "admin" was reset/, 'stdout still reaches the terminal');
      assert.ok(!result.output.includes(secret), `the terminal does not echo the password: ${JSON.stringify(result.output)}`);
      const errText = readFileSync(errFile, 'utf8');
      assert.match(errText, /New password: [\s\S]*Repeat the new password: /);
      assert.ok(!errText.includes(secret));
      assert.ok((await tryLogin(opened, 'admin', secret)).token, 'admin logs in with the typed password');
    });
  });

  test('two different entries at the prompt exit 1 and change nothing', async () => {
    await withSeeded('sqlite', async (workspace, opened) => {
      const before = await adminRow(opened);
      const eventsBefore = await eventCount(opened);
      const result = await runInPty(promptCommand(), ['first long passphrase one\r', 'second long passphrase two\r'], { RBAC_DATA_DIR: workspace.dataDir }, (output) => countOf(/password: /, output));
      assert.equal(result.code, 1, `exit code; terminal showed: ${JSON.stringify(result.output)}`);
      assert.match(result.output, /rbac: the two passwords differ; nothing was changed/);
      assert.ok(!result.output.includes('long passphrase'), 'neither entry is echoed');
      assert.deepEqual(await adminRow(opened), before);
      assert.equal(await eventCount(opened), eventsBefore);
      assert.ok((await tryLogin(opened, 'admin', ADMIN_PASSWORD)).token, 'the old password still works');
    });
  });

  test('a first entry that breaks the policy is refused at once with its failures, each on its own line, and asked again; every entry ends its line', async () => {
    await withSeeded('sqlite', async (workspace, opened) => {
      const secret = 'a policy-abiding passphrase';
      const result = await runInPty(promptCommand(), ['a bit short\r', 'admin admin admin\r', `${secret}\r`, `${secret}\r`], { RBAC_DATA_DIR: workspace.dataDir }, (output) => countOf(/password: /, output));
      assert.equal(result.code, 0, `exit code; terminal showed: ${JSON.stringify(result.output)}`);
      // The prompt library moves the cursor (ESC [ … G, ESC [ 0 J) around each prompt; the text is what matters here.
      // eslint-disable-next-line no-control-regex
      const lines = result.output.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').split(/\r?\n/);
      assert.deepEqual(
        lines.filter((line) => line.trim() !== ''),
        [
          'New password: ',
          'That password does not meet the password policy:',
          '  - The password must be at least 12 characters long.',
          'Try another one.',
          'New password: ',
          'That password does not meet the password policy:',
          '  - The password must not contain the login.',
          'Try another one.',
          'New password: ',
          'Repeat the new password: ',
          'The password of "admin" was reset; the account is active and its old login tokens are revoked.',
        ],
        `the terminal showed: ${JSON.stringify(result.output)}`,
      );
      assert.ok(!result.output.includes(secret) && !result.output.includes('a bit short'), 'no entry is echoed');
      assert.ok((await tryLogin(opened, 'admin', secret)).token, 'admin logs in with the accepted password');
    });
  });

  test(`a password that breaks the policy ${PROMPT_ATTEMPTS} times exits 1 and changes nothing`, async () => {
    await withSeeded('sqlite', async (workspace, opened) => {
      const before = await adminRow(opened);
      const eventsBefore = await eventCount(opened);
      const keys = Array.from({ length: PROMPT_ATTEMPTS }, () => 'too short\r');
      const result = await runInPty(promptCommand(), keys, { RBAC_DATA_DIR: workspace.dataDir }, (output) => countOf(/password: /, output));
      assert.equal(result.code, 1, `exit code; terminal showed: ${JSON.stringify(result.output)}`);
      assert.equal(countOf(/New password: /, result.output), PROMPT_ATTEMPTS);
      assert.equal(countOf(/Repeat the new password: /, result.output), 0, 'never asked to repeat a refused password');
      assert.match(result.output, new RegExp(`\\nrbac: no acceptable password after ${PROMPT_ATTEMPTS} tries; nothing was changed`));
      assert.deepEqual(await adminRow(opened), before);
      assert.equal(await eventCount(opened), eventsBefore);
    });
  });

  test('Ctrl-D at the prompt exits 1 and changes nothing', async () => {
    await withSeeded('sqlite', async (workspace, opened) => {
      const before = await adminRow(opened);
      const eventsBefore = await eventCount(opened);
      const result = await runInPty(promptCommand(), ['\x04'], { RBAC_DATA_DIR: workspace.dataDir }, (output) => countOf(/password: /, output));
      assert.equal(result.code, 1, `exit code; terminal showed: ${JSON.stringify(result.output)}`);
      assert.match(result.output, /rbac: no password was entered; nothing was changed/);
      assert.deepEqual(await adminRow(opened), before);
      assert.equal(await eventCount(opened), eventsBefore);
    });
  });
});
