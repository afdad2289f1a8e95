// Statements built once. The hottest reads (the token check of every
// authenticated request) are Kysely queries compiled once per dialect, on
// first use, and then only executed with new parameters: no query tree is
// built and no SQL text compiled per request.
//
// On PostgreSQL such a statement runs as a named prepared statement of the
// pool's connection (pg parses and plans it once per connection, later
// executions send only the parameters); inside a transaction it runs on the
// transaction's connection, unnamed. On SQLite it goes through Kysely's
// connection (so it waits for an open transaction like every other query),
// whose better-sqlite3 statement is prepared once (src/store/database.ts).
//
// Only statement texts are kept, never rows: every execution reads the
// database.

import type { CompiledQuery, Compilable } from 'kysely';
import type pg from 'pg';
import { isPostgres } from './dialect.js';
import type { Executor } from './transaction.js';

// The pool behind each PostgreSQL store's Kysely instance (set by openStore).
const pools = new WeakMap<Executor, pg.Pool>();

/** Called by openStore: named statements of this database run on this pool. */
export function registerPool(db: Executor, pool: pg.Pool): void {
  pools.set(db, pool);
}

export interface Prepared<Row> {
  /** Runs the statement with these parameters (as many, in the order, the built query has them). */
  rows(db: Executor, parameters: readonly unknown[]): Promise<Row[]>;
}

/**
 * A statement built by `build` once per dialect. `name` is its name as a
 * PostgreSQL prepared statement: unique per statement text in the process.
 * The values the build passes are placeholders; `rows` supplies the real ones.
 */
export function prepared<Row>(name: string, build: (db: Executor) => Compilable<Row>): Prepared<Row> {
  let sqlite: CompiledQuery<Row> | undefined;
  let postgres: CompiledQuery<Row> | undefined;
  const compiled = (db: Executor, onPostgres: boolean): CompiledQuery<Row> => {
    const existing = onPostgres ? postgres : sqlite;
    if (existing) return existing;
    const query = build(db).compile();
    if (onPostgres) postgres = query;
    else sqlite = query;
    return query;
  };
  return {
    async rows(db, parameters) {
      const onPostgres = isPostgres(db);
      const query = compiled(db, onPostgres);
      if (parameters.length !== query.parameters.length) throw new Error(`statement ${name} takes ${query.parameters.length} parameters, not ${parameters.length}`);
      const pool = onPostgres && !db.isTransaction ? pools.get(db) : undefined;
      if (pool) return (await pool.query<Row & pg.QueryResultRow>({ name, text: query.sql, values: parameters as unknown[] })).rows;
      return (await db.executeQuery<Row>({ ...query, parameters })).rows;
    },
  };
}
