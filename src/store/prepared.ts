// Statements built once. The hottest reads (the token check of every
// authenticated request) are Kysely queries compiled once per dialect, on
// first use, and then only executed with new parameters: no query tree is
// built and no SQL text compiled per request.
//
// They run on the driver's own prepared statements where that is safe:
// - PostgreSQL: a named prepared statement of the pool's connection (pg
//   parses and plans it once per connection; later executions send only the
//   parameters). Inside a transaction: on the transaction's connection.
// - SQLite: the better-sqlite3 statement, prepared once, run directly
//   (synchronous, no promise chain through Kysely's driver, which costs
//   several times what the statement itself does) — but only when no
//   transaction is open on the connection: there is one connection per
//   process, and a read inside another request's open transaction would see
//   writes that may still roll back. With one open, the statement waits
//   for it through Kysely like every other query.
//
// Only statement texts are kept, never rows: every execution reads the
// database.

import type SqliteDatabase from 'better-sqlite3';
import type { CompiledQuery, Compilable } from 'kysely';
import type pg from 'pg';
import { isPostgres } from './dialect.js';
import type { Executor } from './transaction.js';

// The pool or the better-sqlite3 handle behind each store's Kysely instance (set by openStore).
const pools = new WeakMap<Executor, pg.Pool>();
const sqliteHandles = new WeakMap<Executor, SqliteDatabase.Database>();

/** Called by openStore: named statements of this database run on this pool. */
export function registerPool(db: Executor, pool: pg.Pool): void {
  pools.set(db, pool);
}

/** Called by openStore: prepared statements of this database run on this connection when no transaction is open. */
export function registerSqlite(db: Executor, handle: SqliteDatabase.Database): void {
  sqliteHandles.set(db, handle);
}

export interface Prepared<Row> {
  /** Runs the statement with these parameters (as many, in the order, the built query has them); its first row. */
  first(db: Executor, parameters: readonly unknown[]): Promise<Row | undefined>;
}

/**
 * A statement built by `build` once per dialect. `name` is its name as a
 * PostgreSQL prepared statement: unique per statement text in the process.
 * The values the build passes are placeholders; `first` supplies the real ones.
 */
export function prepared<Row>(name: string, build: (db: Executor) => Compilable<Row>): Prepared<Row> {
  let sqlite: CompiledQuery<Row> | undefined;
  let postgres: CompiledQuery<Row> | undefined;
  const statements = new WeakMap<SqliteDatabase.Database, SqliteDatabase.Statement>();
  const compiled = (db: Executor, onPostgres: boolean, parameters: readonly unknown[]): CompiledQuery<Row> => {
    let query = onPostgres ? postgres : sqlite;
    if (!query) {
      query = build(db).compile();
      if (onPostgres) postgres = query;
      else sqlite = query;
    }
    if (parameters.length !== query.parameters.length) throw new Error(`statement ${name} takes ${query.parameters.length} parameters, not ${parameters.length}`);
    return query;
  };
  return {
    async first(db, parameters) {
      if (!db.isTransaction) {
        const handle = sqliteHandles.get(db);
        if (handle && !handle.inTransaction) {
          let statement = statements.get(handle);
          if (!statement) statements.set(handle, (statement = handle.prepare(compiled(db, false, parameters).sql)));
          return statement.get(...parameters) as Row | undefined;
        }
        const pool = handle ? undefined : pools.get(db);
        if (pool) {
          const text = compiled(db, true, parameters).sql;
          return (await pool.query<Row & pg.QueryResultRow>({ name, text, values: parameters as unknown[] })).rows[0];
        }
      }
      const query = compiled(db, isPostgres(db), parameters);
      return (await db.executeQuery<Row>({ ...query, parameters })).rows[0];
    },
  };
}
