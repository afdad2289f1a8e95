// The `rbac` command (CONTRACT §1, the admin password reset script, and the
// maintenance commands), driven as a subprocess exactly as an operator runs
// it: `node --import tsx src/cli/main.ts <command> …`. Exit codes: 0 ok,
// 1 failure, 2 usage or configuration error. Store-touching commands run on
// SQLite and PostgreSQL. The no-echo prompt is driven through a real
// pseudo-terminal (util-linux `script`), and the reset script is run while
// an in-process service keeps serving requests on the same data.

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import SqliteDatabase from 'better-sqlite3';
import { decodeJwt } from 'jose';
import { sql } from 'kysely';
import { authenticateLoginToken } from '../src/auth/login-tokens.js';
import { login as loginWithPassword } from '../src/auth/login.js';
import { loadConfig, type Config } from '../src/config/config.js';
import { ServiceError } from '../src/errors.js';
import { createLogger } from '../src/http/logging.js';
import { createPasswordHasher, type PasswordHasher } from '../src/passwords/hashing.js';
import { startService, type RunningService } from '../src/server.js';
import { SQLITE_FILE, openStore, type Store } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrate.js';
import type { UserRow } from '../src/store/schema.js';
import { ensureBootstrapAdmin } from '../src/users/bootstrap.js';
import { createUser } from '../src/users/users.js';
import { describeEachDatabase, freshWorkspace, type DialectName, type Workspace } from './kit/databases.js';
import { callPort, type Reply } from './kit/api.js';
import { ADMIN_PASSWORD, USER_PASSWORD } from './kit/service.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const NEW_ADMIN_PASSWORD = 'a fresh superuser passphrase';
const RESET_EVENT = 'admin-password-reset-by-script';
const PASSWORD_WARNING = /warning: --password puts the password in your shell history/;

// ---------------------------------------------------------------- running the CLI

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface CliOptions {
  /** Written to stdin, which is then closed; stdin is an empty pipe (never a TTY) otherwise. */
  input?: string;
  env?: NodeJS.ProcessEnv;
}

/** The caller's environment without any RBAC_* variable, so nothing leaks into the CLI's settings. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('RBAC_')) env[name] = value;
  }
  return { ...env, ...extra };
}

function cliArgs(args: string[]): string[] {
  return ['--import', 'tsx', 'src/cli/main.ts', ...args];
}

function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cliArgs(args), { cwd: REPO_ROOT, env: cleanEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.stdin.on('error', () => {}); // the CLI may exit without reading stdin
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Runs CLI invocations at most `limit` at a time (each start costs about a second of CPU). */
async function runAll<T>(jobs: (() => Promise<T>)[], limit = 3): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) {
      const index = next++;
      results[index] = await (jobs[index] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, lane));
  return results;
}

function show(result: CliResult): string {
  return `exit ${String(result.code)}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
}

function expectExit(result: CliResult, code: number, what: string): void {
  assert.equal(result.code, code, `${what}: ${show(result)}`);
}

/** --data-dir and, on PostgreSQL, --database-url of a workspace. */
function storeArgs(workspace: Workspace): string[] {
  return ['--data-dir', workspace.dataDir, ...(workspace.databaseUrl ? ['--database-url', workspace.databaseUrl] : [])];
}

// ---------------------------------------------------------------- the pseudo-terminal

const scriptAvailable = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

interface PtyResult {
  code: number | null;
  /** Everything the terminal showed: prompts, echo (if any) and the command's output. */
  output: string;
}

/** How many times `prompt` occurs in `text`. */
function countOf(prompt: RegExp, text: string): number {
  return text.match(new RegExp(prompt.source, 'g'))?.length ?? 0;
}

/**
 * Runs `command` (a shell command line) on a fresh pseudo-terminal with
 * `script -qec … /dev/null`, and types each of `keys` (Enter is `\r`) once
 * `promptsShown` reports that the matching prompt has appeared: the prompt is
 * written after the terminal is set up, so keys typed earlier could be echoed
 * by the terminal whatever the program does.
 */
function runInPty(command: string, keys: string[], env: NodeJS.ProcessEnv, promptsShown: (terminalOutput: string) => number): Promise<PtyResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: REPO_ROOT, env: cleanEnv(env), stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000 });
    let output = '';
    let typed = 0;
    const typeAnswered = () => {
      const shown = promptsShown(output);
      while (typed < shown && typed < keys.length) child.stdin.write(keys[typed++] as string);
    };
    const poll = setInterval(typeAnswered, 25);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdin.on('error', () => {});
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
      typeAnswered();
    });
    child.stderr.on('data', (chunk: string) => (output += chunk));
    child.on('error', (error) => {
      clearInterval(poll);
      reject(error);
    });
    child.on('close', (code) => {
      clearInterval(poll);
      child.stdin.destroy();
      resolve({ code, output });
    });
  });
}

const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

// ---------------------------------------------------------------- the store, in-process

const silent = createLogger('silent');
let sharedHasher: Promise<PasswordHasher> | undefined;
const hasher = () => (sharedHasher ??= createPasswordHasher());

// No metrics listener: services started by tests must not compete for its fixed port.
const NO_METRICS = { RBAC_METRICS_PORT: '0' };

function configFor(workspace: Workspace, overrides: Partial<Config> = {}): Config {
  const base = loadConfig({ env: NO_METRICS });
  return { ...base, dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl, insecureHttp: true, port: 0, logLevel: 'silent', ...overrides };
}

interface Opened {
  store: Store;
  config: Config;
  hasher: PasswordHasher;
}

async function openWorkspace(workspace: Workspace): Promise<Opened> {
  const store = openStore({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl, poolSize: 2 });
  await migrateToLatest(store);
  return { store, config: configFor(workspace), hasher: await hasher() };
}

/** A workspace whose store has the bootstrap admin (password ADMIN_PASSWORD). */
async function seededWorkspace(workspace: Workspace): Promise<Opened> {
  const opened = await openWorkspace(workspace);
  await ensureBootstrapAdmin({ db: opened.store.db, hasher: opened.hasher, passwordMinimumLength: opened.config.passwordMinimumLength }, ADMIN_PASSWORD);
  return opened;
}

/** Logs in through the service's own code: the token, or the error kind. */
async function tryLogin(opened: Opened, login: string, password: string): Promise<{ token?: string; kind?: string }> {
  try {
    return { token: await loginWithPassword({ db: opened.store.db, hasher: opened.hasher, config: opened.config }, { login, password }, '127.0.0.1') };
  } catch (error) {
    if (error instanceof ServiceError) return { kind: error.kind };
    throw error;
  }
}

async function tokenKind(opened: Opened, token: string): Promise<string> {
  try {
    await authenticateLoginToken(opened.store.db, token);
    return 'valid';
  } catch (error) {
    if (error instanceof ServiceError) return error.kind;
    throw error;
  }
}

function userRow(opened: Opened, login: string): Promise<UserRow | undefined> {
  return opened.store.db.selectFrom('users').selectAll().where('login_key', '=', login.toLowerCase()).executeTakeFirst();
}

async function adminRow(opened: Opened): Promise<UserRow> {
  const row = await userRow(opened, 'admin');
  assert.ok(row, 'admin exists');
  return row;
}

function eventsOfType(opened: Opened, type: string) {
  return opened.store.db.selectFrom('audit_events').selectAll().where('type', '=', type).orderBy('id').execute();
}

async function eventCount(opened: Opened): Promise<number> {
  const { count } = await opened.store.db.selectFrom('audit_events').select((eb) => eb.fn.countAll<number | string>().as('count')).executeTakeFirstOrThrow();
  return Number(count);
}

/** A fresh workspace for one test, always cleaned up. */
async function inWorkspace(dialect: DialectName, body: (workspace: Workspace) => Promise<void>): Promise<void> {
  const workspace = await freshWorkspace(dialect);
  try {
    await body(workspace);
  } finally {
    await workspace.cleanup();
  }
}

/** A seeded workspace, opened in-process for the test's checks and closed afterwards. */
async function withSeeded(dialect: DialectName, body: (workspace: Workspace, opened: Opened) => Promise<void>): Promise<void> {
  await inWorkspace(dialect, async (workspace) => {
    const opened = await seededWorkspace(workspace);
    try {
      await body(workspace, opened);
    } finally {
      await opened.store.close();
    }
  });
}

// ---------------------------------------------------------------- HTTP to a running service

const portOf = (service: RunningService) => (service.app.server.address() as AddressInfo).port;
const loginOver = (port: number, login: string, password: string) => callPort(port, { method: 'POST', path: '/rbac-api/v1/auth/token', json: { login, password } });

async function tokenOver(port: number, login: string, password: string): Promise<string> {
  const reply = await loginOver(port, login, password);
  assert.equal(reply.status, 200, `${login} login: ${reply.body}`);
  return (JSON.parse(reply.body) as { token: string }).token;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ================================================================ 1. usage

describe('rbac: help, usage errors and settings', () => {
  const COMMANDS: { args: string[]; mentions: RegExp }[] = [
    { args: [], mentions: /Usage: rbac \[options\] \[command\][\s\S]*reset-admin-password[\s\S]*users[\s\S]*reset-token[\s\S]*migrate[\s\S]*config/ },
    { args: ['serve'], mentions: /Usage: rbac serve[\s\S]*--failed-attempts-lockout/ },
    { args: ['reset-admin-password'], mentions: /Usage: rbac reset-admin-password[\s\S]*--password-stdin[\s\S]*--password <password>/ },
    { args: ['users'], mentions: /Usage: rbac users[\s\S]*list[\s\S]*create[\s\S]*revoke[\s\S]*unrevoke/ },
    { args: ['users', 'list'], mentions: /Usage: rbac users list[\s\S]*--json/ },
    { args: ['users', 'create'], mentions: /Usage: rbac users create \[options\] <login>[\s\S]*--remote[\s\S]*--password-stdin/ },
    { args: ['users', 'revoke'], mentions: /Usage: rbac users revoke \[options\] <login>/ },
    { args: ['users', 'unrevoke'], mentions: /Usage: rbac users unrevoke \[options\] <login>/ },
    { args: ['reset-token'], mentions: /Usage: rbac reset-token \[options\] <login>/ },
    { args: ['migrate'], mentions: /Usage: rbac migrate/ },
    { args: ['config'], mentions: /Usage: rbac config[\s\S]*check/ },
    { args: ['config', 'check'], mentions: /Usage: rbac config check[\s\S]*--database-url/ },
  ];

  test('--help on every command and subcommand exits 0 and describes that command', async () => {
    const results = await runAll(COMMANDS.map(({ args }) => () => runCli([...args, '--help'])));
    COMMANDS.forEach(({ args, mentions }, index) => {
      const result = results[index] as CliResult;
      const name = ['rbac', ...args, '--help'].join(' ');
      expectExit(result, 0, name);
      assert.match(result.stdout, mentions, `${name} prints its usage`);
      const group = args.length === 1 && (args[0] === 'users' || args[0] === 'config');
      if (args.length > 0 && !group) {
        assert.match(result.stdout, /--data-dir[\s\S]*--database-url/, `${name} lists the common settings`);
      }
    });
  });

  test('an unknown command, a missing argument or a missing subcommand exits 2 with the reason on stderr', async () => {
    const cases: { args: string[]; reason: RegExp }[] = [
      { args: ['frobnicate'], reason: /unknown command 'frobnicate'/ },
      { args: ['users', 'create'], reason: /missing required argument 'login'/ },
      { args: ['reset-token'], reason: /missing required argument 'login'/ },
      { args: ['users'], reason: /Usage: rbac users/ },
    ];
    const results = await runAll(cases.map(({ args }) => () => runCli(args)));
    cases.forEach(({ args, reason }, index) => {
      const result = results[index] as CliResult;
      expectExit(result, 2, `rbac ${args.join(' ')}`);
      assert.match(result.stderr, reason, `rbac ${args.join(' ')}`);
      assert.equal(result.stdout, '', 'nothing on stdout');
    });
  });

  test('a bad setting value (flag, RBAC_* variable, config file) exits 2 naming the key and touches no data', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'rbac-cli-test-'));
    const configFile = path.join(tmpdir(), `rbac-cli-test-${process.pid}.yaml`);
    writeFileSync(configFile, 'rbac:\n  password-reset-expiration: soon\n');
    try {
      const cases: { args: string[]; env?: NodeJS.ProcessEnv; key: string }[] = [
        { args: ['reset-admin-password', '--password-stdin', '--failed-attempts-lockout', 'abc'], key: 'failed-attempts-lockout' },
        { args: ['reset-token', 'someone'], env: { RBAC_TOKEN_AUTH_LIFETIME: 'forever' }, key: 'token-auth-lifetime' },
        { args: ['config', 'check', '--port', '99999'], key: 'port' },
        { args: ['config', 'check', '--config', configFile], key: 'password-reset-expiration' },
      ];
      const results = await runAll(
        cases.map(({ args, env }) => () => runCli([...args, '--data-dir', dataDir], { input: `${NEW_ADMIN_PASSWORD}\n`, ...(env ? { env } : {}) })),
      );
      cases.forEach(({ args, key }, index) => {
        const result = results[index] as CliResult;
        expectExit(result, 2, `rbac ${args.join(' ')}`);
        assert.match(result.stderr, new RegExp(`^rbac: configuration key "${key}"`, 'm'));
        assert.equal(result.stdout, '', 'nothing on stdout');
      });
      assert.deepEqual(readdirSync(dataDir), [], 'no database was created');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(configFile, { force: true });
    }
  });

  test('reset-admin-password without a terminal and without a password flag exits 2 and creates nothing; both flags at once exit 2', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'rbac-cli-test-'));
    try {
      const [noTty, both] = await runAll([
        () => runCli(['reset-admin-password', '--data-dir', dataDir]),
        () => runCli(['reset-admin-password', '--data-dir', dataDir, '--password-stdin', '--password', NEW_ADMIN_PASSWORD], { input: `${NEW_ADMIN_PASSWORD}\n` }),
      ]);
      expectExit(noTty as CliResult, 2, 'no TTY, no flag');
      assert.match((noTty as CliResult).stderr, /^rbac: no terminal to ask for the password: use --password-stdin/m);
      expectExit(both as CliResult, 2, '--password and --password-stdin');
      assert.match((both as CliResult).stderr, /either --password or --password-stdin/);
      assert.deepEqual(readdirSync(dataDir), [], 'no database was created');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('config check prints every effective setting with the database-url password masked', async () => {
    const url = 'postgres://rbac:s3cr3t-pw@db.example.com:5432/rbac';
    const result = await runCli(['config', 'check', '--database-url', url, '--failed-attempts-lockout', '7', '--data-dir', '/srv/rbac'], {
      env: { RBAC_TOKEN_AUTH_LIFETIME: '2h' },
    });
    expectExit(result, 0, 'config check');
    const lines = result.stdout.trim().split('\n');
    assert.ok(lines.every((line) => /^[a-z-]+ = /.test(line)), `key = value lines: ${result.stdout}`);
    assert.ok(lines.includes('database-url = postgres://rbac:*****@db.example.com:5432/rbac'), result.stdout);
    assert.ok(lines.includes('failed-attempts-lockout = 7'));
    assert.ok(lines.includes('token-auth-lifetime = 7200'), 'RBAC_* variables count');
    assert.ok(lines.includes('data-dir = /srv/rbac'));
    assert.ok(lines.includes('port = 4433'), 'defaults are shown');
    assert.ok(!result.stdout.includes('s3cr3t-pw') && !result.stderr.includes('s3cr3t-pw'), 'the password never appears');
  });
});

// ================================================================ 2–4. reset-admin-password

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

  test('--password on a fresh data dir creates admin with that password and warns on stderr', async () => {
    await inWorkspace(target.dialect, async (workspace) => {
      const result = await runCli(['reset-admin-password', '--password', NEW_ADMIN_PASSWORD, ...storeArgs(workspace)]);
      expectExit(result, 0, 'reset-admin-password --password on an empty store');
      assert.match(result.stderr, PASSWORD_WARNING);
      assert.match(result.stdout, /superuser "admin" was created/);
      const opened = await openWorkspace(workspace);
      try {
        const admins = await opened.store.db.selectFrom('users').selectAll().execute();
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
        const bootstrap = await ensureBootstrapAdmin({ db: opened.store.db, hasher: opened.hasher, passwordMinimumLength: 12 }, ADMIN_PASSWORD);
        assert.equal(bootstrap.created, false);
      } finally {
        await opened.store.close();
      }
    });
  });

  test('the no-echo prompt on a real terminal: asked twice, the password works and is never shown', { skip: scriptAvailable ? false : 'util-linux script not installed' }, async () => {
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

  test('while the service is serving requests: the reset succeeds, no request fails, nothing is corrupted', { timeout: 90_000 }, async (t) => {
    await inWorkspace(target.dialect, async (workspace) => {
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
        let stop = false;
        const requests: [string, () => Promise<Reply>][] = [
          ['alice login', () => loginOver(port, 'alice', USER_PASSWORD)],
          ['users/current', () => callPort(port, { path: '/rbac-api/v1/users/current', token: aliceToken })],
          ['status', () => callPort(port, { path: '/status/v1/simple' })],
        ];
        const loop = async () => {
          while (!stop && Date.now() < deadline) {
            for (const [what, send] of requests) {
              const duringCli = cliRunning;
              try {
                const reply = await send();
                outcomes.push({ what, status: reply.status, duringCli: duringCli || cliRunning });
              } catch (error) {
                outcomes.push({ what, error: (error as Error).message, duringCli: duringCli || cliRunning });
              }
            }
          }
        };
        const waitForMore = async (count: number) => {
          const target = outcomes.length + count;
          while (outcomes.length < target && Date.now() < deadline) await sleep(20);
        };
        const loops = [loop(), loop()];
        await waitForMore(6);

        cliRunning = true;
        const result = await runCli(['reset-admin-password', '--password-stdin', ...storeArgs(workspace)], { input: `${NEW_ADMIN_PASSWORD}\n` });
        cliRunning = false;
        await waitForMore(6);
        stop = true;
        await Promise.all(loops);

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

describe('rbac reset-admin-password: the prompt with stderr redirected, mismatched entries, Ctrl-D [sqlite]', { skip: scriptAvailable ? false : 'util-linux script not installed' }, () => {
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

// ================================================================ 5. users, reset-token, migrate, serve

describeEachDatabase('rbac users, reset-token, migrate and serve', (target) => {
  test('migrate applies the migrations once; users create/list/revoke/unrevoke; reset-token for an unknown login exits 1', async () => {
    await inWorkspace(target.dialect, async (workspace) => {
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

      const [second, bob, carol] = await runAll([
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
      const bobId = (bob as CliResult).stdout.trim();
      const carolId = (carol as CliResult).stdout.trim();
      assert.match(bobId, uuid, 'users create prints the new id');
      assert.match(carolId, uuid);

      const [duplicate, listJson, tokenForNobody] = await runAll([
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
        ['bob', 'carol'],
        'exactly the created users (no duplicate)',
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

  test('reset-token goes through POST /rbac-api/v1/auth/reset of a running service', async () => {
    await inWorkspace(target.dialect, async (workspace) => {
      const service = await startService(configFor(workspace), { adminPassword: ADMIN_PASSWORD, logger: silent, announce: () => {} });
      try {
        const port = portOf(service);
        const frank = await createUser(
          { db: service.store.db, hasher: await hasher(), config: configFor(workspace) },
          null,
          { login: 'frank', password: USER_PASSWORD },
          { actor: null, sourceAddress: null },
        );
        const issued = await runCli(['reset-token', 'frank', ...storeArgs(workspace)]);
        expectExit(issued, 0, 'reset-token frank');
        const token = issued.stdout.trim();
        assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'only the JWT on stdout');
        assert.equal(decodeJwt(token).sub, frank.id, "the token is frank's");
        const events = await service.store.db.selectFrom('audit_events').select(['subject_id', 'actor_id', 'source_address']).where('type', '=', 'reset-token-issued').execute();
        assert.deepEqual(events, [{ subject_id: frank.id, actor_id: null, source_address: 'cli' }]);
        const newPassword = 'a renewed secret passphrase';
        const reset = await callPort(port, { method: 'POST', path: '/rbac-api/v1/auth/reset', json: { token, password: newPassword } });
        assert.equal(reset.status, 200, reset.body);
        assert.equal((await loginOver(port, 'frank', newPassword)).status, 200);
        assert.equal((await loginOver(port, 'frank', USER_PASSWORD)).status, 401);
        const again = await callPort(port, { method: 'POST', path: '/rbac-api/v1/auth/reset', json: { token, password: 'another new passphrase' } });
        assert.equal(again.status, 403, 'the token is single-use');
      } finally {
        await service.close();
      }
    });
  });

  test('serve runs the service until SIGTERM, then exits 0', async () => {
    await inWorkspace(target.dialect, async (workspace) => {
      const child: ChildProcessWithoutNullStreams = spawn(
        process.execPath,
        cliArgs(['serve', '--insecure-http', '--port', '0', '--log-level', 'silent', ...storeArgs(workspace)]),
        { cwd: REPO_ROOT, env: cleanEnv({ RBAC_ADMIN_PASSWORD: ADMIN_PASSWORD, ...NO_METRICS }), stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000 },
      );
      let stderr = '';
      child.stderr.setEncoding('utf8');
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      try {
        const url = await new Promise<string>((resolve, reject) => {
          child.stderr.on('data', (chunk: string) => {
            stderr += chunk;
            const match = /running at (http:\/\/127\.0\.0\.1:(\d+))/.exec(stderr);
            if (match?.[1]) resolve(match[1]);
          });
          void exited.then((code) => reject(new Error(`serve exited with ${String(code)}: ${stderr}`)));
        });
        const port = Number(new URL(url).port);
        const status = await callPort(port, { path: '/status/v1/simple' });
        assert.equal(status.status, 200);
        assert.equal(status.body, 'running');
        assert.equal((await loginOver(port, 'admin', ADMIN_PASSWORD)).status, 200, 'RBAC_ADMIN_PASSWORD bootstrapped admin');
        child.kill('SIGTERM');
        assert.equal(await exited, 0, `exit code after SIGTERM; stderr: ${stderr}`);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });
  });
});
