// Every store test runs against SQLite and PostgreSQL. PostgreSQL tests use a
// throwaway database created for this test process (dropped at the end) and
// a fresh schema per workspace (dropped by its cleanup), so tests never see
// each other's rows. Without a reachable PostgreSQL the PostgreSQL suite is
// skipped with a message — except under CI, where it must run.

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, type SuiteContext } from 'node:test';
import { loginKey } from '../../src/logins.js';
import { openStore, type Store } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import type { Executor } from '../../src/store/transaction.js';
import * as users from '../../src/store/users.js';
import { POSTGRES_ADMIN_URL, createThrowawayDatabase, createThrowawaySchema, postgresUnreachable, type ThrowawayDatabase } from './postgres.js';

export { POSTGRES_ADMIN_URL } from './postgres.js';

export type DialectName = 'sqlite' | 'postgres';

export interface DatabaseTarget {
  dialect: DialectName;
  /** Set when PostgreSQL is not reachable here: the reason to show. */
  skip: string | false;
}

let runDatabase: Promise<ThrowawayDatabase> | undefined;

// Registered at import time, so it belongs to the root of the test file and runs after every suite.
after(async () => {
  const database = await runDatabase?.catch(() => undefined);
  await database?.drop();
});

const unreachable = await postgresUnreachable();
if (unreachable && process.env.CI) {
  throw new Error(`PostgreSQL at ${POSTGRES_ADMIN_URL} is not reachable (${unreachable}); CI must run the PostgreSQL suite.`);
}
if (unreachable) {
  process.stderr.write(`\n*** PostgreSQL suite SKIPPED: ${POSTGRES_ADMIN_URL} not reachable (${unreachable}) ***\n\n`);
}

export const DATABASES: DatabaseTarget[] = [
  { dialect: 'sqlite', skip: false },
  { dialect: 'postgres', skip: unreachable ? `PostgreSQL not reachable at ${POSTGRES_ADMIN_URL}` : false },
];

/** The PostgreSQL target (skipped when the server is unreachable). */
export const POSTGRES = DATABASES.find((target) => target.dialect === 'postgres') as DatabaseTarget;

/** `describe(\`${title} [sqlite]\`)` and `describe(\`${title} [postgres]\`)`, the latter skipped without PostgreSQL. */
export function describeEachDatabase(title: string, fn: (target: DatabaseTarget, suite: SuiteContext) => void | Promise<void>): void {
  for (const target of DATABASES) {
    describe(`${title} [${target.dialect}]`, { skip: target.skip }, (suite) => fn(target, suite));
  }
}

export interface Workspace {
  dataDir: string;
  /** Undefined for SQLite. */
  databaseUrl: string | undefined;
  /** Removes the data dir and, on PostgreSQL, drops the schema. */
  cleanup(): Promise<void>;
}

/** A fresh, empty place to keep data: a temporary data dir, plus a new schema when on PostgreSQL. */
export async function freshWorkspace(dialect: DialectName): Promise<Workspace> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'rbac-test-'));
  const removeDir = async () => rmSync(dataDir, { recursive: true, force: true });
  if (dialect === 'sqlite') return { dataDir, databaseUrl: undefined, cleanup: removeDir };

  runDatabase ??= createThrowawayDatabase('rbac_test');
  const schema = await createThrowawaySchema((await runDatabase).url);
  return {
    dataDir,
    databaseUrl: schema.url,
    async cleanup() {
      await removeDir();
      await schema.drop();
    },
  };
}

/** A fresh workspace for one test, always cleaned up. */
export async function withWorkspace<T>(dialect: DialectName, body: (workspace: Workspace) => Promise<T>): Promise<T> {
  const workspace = await freshWorkspace(dialect);
  try {
    return await body(workspace);
  } finally {
    await workspace.cleanup();
  }
}

/** A migrated store in a fresh workspace; `cleanup` closes it and removes the workspace. */
export async function openMigratedStore(dialect: DialectName, poolSize?: number): Promise<{ store: Store; cleanup(): Promise<void> }> {
  const workspace = await freshWorkspace(dialect);
  const store = openStore({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl, ...(poolSize === undefined ? {} : { poolSize }) });
  const cleanup = async () => {
    await store.close();
    await workspace.cleanup();
  };
  try {
    await migrateToLatest(store);
  } catch (error) {
    await cleanup();
    throw error;
  }
  return { store, cleanup };
}

/** Inside a suite: one migrated store for all its tests, opened before them and removed after them; call the result for it. */
export function suiteStore(dialect: DialectName, poolSize?: number): () => Store {
  let opened: { store: Store; cleanup(): Promise<void> } | undefined;
  before(async () => {
    opened = await openMigratedStore(dialect, poolSize);
  });
  after(async () => {
    await opened?.cleanup();
  });
  return () => {
    if (!opened) throw new Error('suiteStore: the store opens in the suite\'s before hook');
    return opened.store;
  };
}

export interface InsertedUser {
  is_superuser?: boolean;
  /** An argon2id hash (hash once, reuse it); none by default. */
  password_hash?: string;
  /** Epoch milliseconds; now by default (earlier to back-date it). */
  created_at?: number;
  /** Epoch milliseconds; never logged in by default. */
  last_login?: number;
}

/** Inserts a local user straight into the store (no policy, no audit), back-dated if asked; its id. */
export async function insertUser(db: Executor, login: string, options: InsertedUser = {}): Promise<string> {
  const id = randomUUID();
  await users.insert(db, {
    id,
    login,
    login_key: loginKey(login),
    login_skeleton: null,
    email: '',
    display_name: login,
    is_remote: false,
    is_superuser: options.is_superuser ?? false,
    password_hash: options.password_hash ?? null,
    created_at: options.created_at ?? Date.now(),
  });
  if (options.last_login !== undefined) await db.updateTable('users').set({ last_login: options.last_login }).where('id', '=', id).execute();
  return id;
}
