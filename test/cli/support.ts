// What the CLI tests share: the store opened in-process to check what a
// command did, the arguments that point a command at a workspace, and
// assertions on exit codes.

import assert from 'node:assert/strict';
import { authenticateLoginToken } from '../../src/login/login-tokens.js';
import { login as loginWithPassword } from '../../src/login/login.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { ServiceError } from '../../src/errors.js';
import { createLogger } from '../../src/http/logging.js';
import { createPasswordHasher, type PasswordHasher } from '../../src/passwords/hashing.js';
import { openStore, type Store } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import type { UserRow } from '../../src/store/schema.js';
import { ensureBootstrapAdmin } from '../../src/users/bootstrap.js';
import { withWorkspace, type DialectName, type Workspace } from '../kit/databases.js';
import { ADMIN_PASSWORD } from '../kit/passwords.js';
import { runCli, type CliResult } from '../kit/processes.js';
import { startTestService, type TestService } from '../kit/service.js';
import type { ListedEvent } from '../../src/shapes.js';

export const NEW_ADMIN_PASSWORD = 'a fresh superuser passphrase';
export const RESET_EVENT = 'admin-password-reset-by-script';

function show(result: CliResult): string {
  return `exit ${String(result.code)}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
}

export function expectExit(result: CliResult, code: number, what: string): void {
  assert.equal(result.code, code, `${what}: ${show(result)}`);
}

/** --data-dir and, on PostgreSQL, --database-url of a workspace. */
export function storeArgs(workspace: Workspace): string[] {
  return ['--data-dir', workspace.dataDir, ...(workspace.databaseUrl ? ['--database-url', workspace.databaseUrl] : [])];
}

export const silent = createLogger('silent');
let sharedHasher: Promise<PasswordHasher> | undefined;
export const hasher = () => (sharedHasher ??= createPasswordHasher());

// No metrics listener: services started by tests must not compete for its fixed port.
export const NO_METRICS = { RBAC_METRICS_PORT: '0' };

export function configFor(workspace: Workspace, overrides: Partial<Config> = {}): Config {
  const base = loadConfig({ env: NO_METRICS });
  return { ...base, dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl, insecureHttp: true, port: 0, logLevel: 'silent', ...overrides };
}

export interface Opened {
  store: Store;
  config: Config;
  hasher: PasswordHasher;
}

export async function openWorkspace(workspace: Workspace): Promise<Opened> {
  const store = openStore({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl, poolSize: 2 });
  await migrateToLatest(store);
  return { store, config: configFor(workspace), hasher: await hasher() };
}

/** A workspace whose store has the bootstrap admin (password ADMIN_PASSWORD). */
async function seededWorkspace(workspace: Workspace): Promise<Opened> {
  const opened = await openWorkspace(workspace);
  await ensureBootstrapAdmin({ db: opened.store.db, hasher: opened.hasher, rules: opened.config }, ADMIN_PASSWORD);
  return opened;
}

/** Logs in through the service's own code: the token, or the error kind. */
export async function tryLogin(opened: Opened, login: string, password: string): Promise<{ token?: string; kind?: string }> {
  try {
    return { token: await loginWithPassword({ db: opened.store.db, hasher: opened.hasher, config: opened.config }, { login, password }, '127.0.0.1') };
  } catch (error) {
    if (error instanceof ServiceError) return { kind: error.kind };
    throw error;
  }
}

export async function tokenKind(opened: Opened, token: string): Promise<string> {
  try {
    await authenticateLoginToken(opened.store.db, token);
    return 'valid';
  } catch (error) {
    if (error instanceof ServiceError) return error.kind;
    throw error;
  }
}

export function userRow(opened: Opened, login: string): Promise<UserRow | undefined> {
  return opened.store.db.selectFrom('users').selectAll().where('login_key', '=', login.toLowerCase()).executeTakeFirst();
}

export async function adminRow(opened: Opened): Promise<UserRow> {
  const row = await userRow(opened, 'admin');
  assert.ok(row, 'admin exists');
  return row;
}

export function eventsOfType(opened: Opened, type: string) {
  return opened.store.db.selectFrom('audit_events').selectAll().where('type', '=', type).orderBy('id').execute();
}

export async function eventCount(opened: Opened): Promise<number> {
  const { count } = await opened.store.db.selectFrom('audit_events').select((eb) => eb.fn.countAll<number | string>().as('count')).executeTakeFirstOrThrow();
  return Number(count);
}

/** A seeded workspace, opened in-process for the test's checks and closed afterwards. */
export async function withSeeded(dialect: DialectName, body: (workspace: Workspace, opened: Opened) => Promise<void>): Promise<void> {
  await withWorkspace(dialect, async (workspace) => {
    const opened = await seededWorkspace(workspace);
    try {
      await body(workspace, opened);
    } finally {
      await opened.store.close();
    }
  });
}

/** An API service in-process (its admin has ADMIN_PASSWORD) and a `run` that points the CLI at its store; closed afterwards. */
export async function withApiService(dialect: DialectName, body: (service: TestService, run: (...args: string[]) => Promise<CliResult>) => Promise<void>): Promise<void> {
  const service = await startTestService(dialect);
  try {
    await body(service, (...args) => runCli([...args, ...storeArgs(service.workspace)]));
  } finally {
    await service.close();
  }
}

/** GET an API path as admin: the status and the parsed body. */
export async function getAsAdmin<T>(service: TestService, url: string): Promise<{ status: number; body: T }> {
  const response = await service.request({ method: 'GET', url: `/rbac-api/v1${url}`, token: await service.adminToken() });
  return { status: response.statusCode, body: response.json() as T };
}

/** The audit events of these types, oldest first, as GET /events lists them to admin. */
export async function apiEvents(service: TestService, ...types: string[]): Promise<ListedEvent[]> {
  const { body } = await getAsAdmin<{ events: ListedEvent[] }>(service, '/events?limit=1000');
  return body.events.filter((event) => types.includes(event.type)).reverse();
}

/** A failure: the exit code, `rbac: <reason>` on stderr, nothing on stdout. */
export function expectRefusal(result: CliResult, code: number, reason: RegExp, what: string): void {
  expectExit(result, code, what);
  assert.match(result.stderr, reason, what);
  assert.equal(result.stdout, '', `${what}: nothing on stdout`);
}
