// Every store test runs against SQLite and PostgreSQL. PostgreSQL tests use a
// throwaway database created for this test process (dropped at the end) and
// a fresh schema per service instance, so tests never see each other's rows.
// Without a reachable PostgreSQL the PostgreSQL suite is skipped with a
// message — except under CI, where it must run.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import pg from 'pg';

export type DialectName = 'sqlite' | 'postgres';

export interface DatabaseTarget {
  dialect: DialectName;
  /** Set when PostgreSQL is not reachable here: the reason to show. */
  skip: string | false;
}

/** Where the PostgreSQL server is; a database on it is created and dropped per test process. */
export const POSTGRES_ADMIN_URL = process.env.RBAC_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

let runDatabaseUrl: Promise<string> | undefined;
let createdDatabase: string | undefined;

// Registered at import time, so it belongs to the root of the test file and runs after every suite.
after(async () => {
  if (!createdDatabase) return;
  const dropper = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await dropper.connect();
  await dropper.query(`drop database if exists ${createdDatabase} with (force)`);
  await dropper.end();
});

async function postgresReachable(): Promise<string | false> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return false;
  } catch (error) {
    return (error as Error).message || String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

const unreachable = await postgresReachable();
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

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** The throwaway database of this test process, created on first use and dropped when the process's tests end. */
function testDatabaseUrl(): Promise<string> {
  runDatabaseUrl ??= (async () => {
    const name = `rbac_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    createdDatabase = name;
    return withDatabase(POSTGRES_ADMIN_URL, name);
  })();
  return runDatabaseUrl;
}

export interface Workspace {
  dataDir: string;
  /** Undefined for SQLite. */
  databaseUrl: string | undefined;
  cleanup(): Promise<void>;
}

/** A fresh, empty place to keep data: a temporary data dir, plus a new schema when on PostgreSQL. */
export async function freshWorkspace(dialect: DialectName): Promise<Workspace> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'rbac-test-'));
  const removeDir = async () => rmSync(dataDir, { recursive: true, force: true });
  if (dialect === 'sqlite') return { dataDir, databaseUrl: undefined, cleanup: removeDir };

  const base = await testDatabaseUrl();
  const schema = `s_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  await client.query(`create schema ${schema}`);
  await client.end();
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { dataDir, databaseUrl: url.toString(), cleanup: removeDir };
}
