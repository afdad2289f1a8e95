// Throwaway PostgreSQL databases and schemas, for tests and bench/. No
// node:test here, so bench/ can import it without starting a test run.

import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Where the tests' PostgreSQL server is. */
export const POSTGRES_ADMIN_URL = process.env.RBAC_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The reason PostgreSQL at `adminUrl` cannot be used, or false when it can. */
export async function postgresUnreachable(adminUrl = POSTGRES_ADMIN_URL): Promise<string | false> {
  // Patient: with test files running in parallel a busy server can take
  // seconds to accept, and a refused connection fails at once anyway.
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 15_000 });
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

async function run(connectionString: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

export interface ThrowawayDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A new, empty database named `<prefix>_<pid>_<random>` on the server of `adminUrl`. */
export async function createThrowawayDatabase(prefix: string, adminUrl = POSTGRES_ADMIN_URL): Promise<ThrowawayDatabase> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await run(adminUrl, `create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(adminUrl, `drop database if exists ${name} with (force)`) };
}

export interface ThrowawaySchema {
  /** The database URL with search_path set to the new schema. */
  url: string;
  drop(): Promise<void>;
}

/** A new, empty schema in the database of `databaseUrl`; drop() removes it and everything in it. */
export async function createThrowawaySchema(databaseUrl: string): Promise<ThrowawaySchema> {
  const schema = `s_${randomBytes(6).toString('hex')}`;
  await run(databaseUrl, `create schema ${schema}`);
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { url: url.toString(), drop: () => run(databaseUrl, `drop schema if exists ${schema} cascade`) };
}
