// Opens the store: Kysely over better-sqlite3 (embedded, the default) or over
// pg when a postgres:// URL is configured. Both get the same migrations and
// the same queries.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout } from 'node:timers/promises';
import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, Kysely, PostgresDialect, sql, SqliteAdapter, SqliteDialect, SqliteDriver, type DatabaseConnection, type SqliteDialectConfig } from 'kysely';
import pg from 'pg';
import { Piscina } from 'piscina';
import { yieldIfBusy } from '../event-loop.js';
import type { CheckpointTask } from './checkpoint-worker.js';
import { registerPool, registerSqlite } from './prepared.js';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Where the data lives, for messages: a file path or the URL without its password. */
  location: string;
  /** PostgreSQL's connection pool (for its metrics); absent for SQLite. */
  pool?: pg.Pool;
  close(): Promise<void>;
}

export interface StoreOptions {
  dataDir: string;
  databaseUrl?: string | undefined;
  /** PostgreSQL pool size; SQLite always uses one connection. */
  poolSize?: number;
  /** SQLite: checkpoint the WAL from a thread of its own (the server), not in whichever commit crosses the threshold (src/store/checkpoint-worker.ts). */
  backgroundCheckpoints?: boolean;
}

export function openStore(options: StoreOptions): Store {
  return options.databaseUrl ? openPostgres(options.databaseUrl, options.poolSize ?? 20) : openSqlite(options.dataDir, options.backgroundCheckpoints ?? false);
}

// Write transactions start with BEGIN IMMEDIATE: they take the write lock up
// front, so a transaction never fails half-way with SQLITE_BUSY when a read
// turns into a write. Another process (an rbac command, a second instance)
// may hold the lock: better-sqlite3 would wait for it inside the call
// (busy_timeout), freezing the event loop and every request with it, so the
// BEGIN alone does not use busy_timeout and waits asynchronously instead.
// Single statements outside a transaction keep busy_timeout: they hold the
// lock for one statement's time.
const BUSY_TIMEOUT_MS = 10_000;
const BEGIN_IMMEDIATE = CompiledQuery.raw('begin immediate');

class ImmediateSqliteDriver extends SqliteDriver {
  private readonly waitForLock: SqliteDatabase.Statement;
  private readonly failIfLocked: SqliteDatabase.Statement;

  constructor(config: SqliteDialectConfig, raw: SqliteDatabase.Database) {
    super(config);
    this.waitForLock = raw.prepare(`pragma busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.failIfLocked = raw.prepare('pragma busy_timeout = 0');
  }

  private yielding: DatabaseConnection | undefined;

  /**
   * The one connection, letting the event loop turn before a statement once
   * the current turn has run long (src/event-loop.ts): better-sqlite3 runs
   * each statement on the event loop, and a request of many statements would
   * otherwise hold it from the first to the last (CONTRACT §7).
   */
  override async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await super.acquireConnection();
    this.yielding ??= {
      async executeQuery(query) {
        await yieldIfBusy();
        return connection.executeQuery(query);
      },
      streamQuery: (query, chunkSize) => connection.streamQuery(query, chunkSize),
    };
    return this.yielding;
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    const deadline = Date.now() + BUSY_TIMEOUT_MS;
    for (let attempt = 0; ; attempt++) {
      this.failIfLocked.get();
      try {
        await connection.executeQuery(BEGIN_IMMEDIATE);
        return;
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw error;
      } finally {
        this.waitForLock.get();
      }
      await setTimeout(Math.min(2 ** attempt, 50));
    }
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(
    private readonly options: SqliteDialectConfig,
    private readonly raw: SqliteDatabase.Database,
  ) {
    super(options);
  }
  override createDriver() {
    return new ImmediateSqliteDriver(this.options, this.raw);
  }

  override createAdapter() {
    return new TransactionalDdlSqliteAdapter();
  }
}

// Kysely's SQLite adapter runs migrations outside a transaction and takes no
// lock (one connection, it assumes one process). Two processes migrating one
// fresh file at once would then both apply a migration. SQLite's DDL is
// transactional, so the migrator may wrap the whole run in one transaction:
// with BEGIN IMMEDIATE above, the second process waits for the first to
// commit, then finds nothing left to apply.
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

export const SQLITE_FILE = 'rbac.sqlite';

function openSqlite(dataDir: string, backgroundCheckpoints: boolean): Store {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, SQLITE_FILE);
  const database = new SqliteDatabase(file);
  database.pragma('journal_mode = WAL');
  database.pragma('foreign_keys = ON');
  database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  // WAL + NORMAL is durable across application crashes; only an OS crash can
  // lose the last transactions, and never corrupts the file.
  database.pragma('synchronous = NORMAL');
  const checkpointer = backgroundCheckpoints ? startCheckpointer(database, file) : undefined;
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: reusingStatements(database) }, database) });
  registerSqlite(db, database);
  return {
    db,
    dialect: 'sqlite',
    location: file,
    async close() {
      await checkpointer?.stop();
      await db.destroy();
    },
  };
}

// By default the commit that takes the WAL past 1000 pages also copies them
// into the database file and syncs it: on the event loop, since a
// better-sqlite3 call is synchronous, where it cost the service's writes
// about as much again as their commits (measured: 70–120 µs a write
// transaction). The server turns that off for its connection and checkpoints
// from a worker thread instead; another process using the file (an rbac
// command) keeps checkpointing the default way.
const CHECKPOINT_INTERVAL_MS = 200;
const CHECKPOINT_WORKER = new URL(`./checkpoint-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;

function startCheckpointer(database: SqliteDatabase.Database, file: string): { stop(): Promise<void> } {
  // A pool of one thread (the hashing pool's loader: it runs from the sources too).
  const thread = new Piscina<CheckpointTask, void>({ filename: CHECKPOINT_WORKER, minThreads: 1, maxThreads: 1, idleTimeout: Number.POSITIVE_INFINITY });
  database.pragma('wal_autocheckpoint = 0');
  let running: Promise<void> | undefined;
  const checkpoint = () => {
    running ??= thread
      .run({ file })
      // Should a checkpoint fail for any reason but a passing lock, checkpoints go back to the commits.
      .catch(() => void database.pragma('wal_autocheckpoint = 1000'))
      .finally(() => (running = undefined));
  };
  const timer = setInterval(checkpoint, CHECKPOINT_INTERVAL_MS).unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await thread.run({ file, close: true }).catch(() => {});
      await thread.destroy();
    },
  };
}

// Kysely prepares every query anew, and preparing costs as much as running a
// small query. A better-sqlite3 statement runs synchronously, so one prepared
// statement can serve every execution of its SQL text: keep them, the most
// recent STATEMENT_CACHE_SIZE texts (queries with `in (…)` lists vary in text).
const STATEMENT_CACHE_SIZE = 500;

function reusingStatements(database: SqliteDatabase.Database): SqliteDialectConfig['database'] {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (!statement) {
        statement = database.prepare(sql);
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value as string);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

// int8 columns (epoch milliseconds, counters) come back as numbers, not strings.
// Scoped to this pool rather than set globally on the pg module.
const INT8_OID = 20;
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

function openPostgres(url: string, poolSize: number): Store {
  // A bounded wait for a connection: an unreachable database fails requests instead of hanging them.
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types: pgTypes, connectionTimeoutMillis: 5000 });
  // An idle client losing its connection must not crash the process; the
  // pool replaces it and the next query reports any real outage.
  pool.on('error', () => {});
  // The same for a connection lost while checked out (a query in flight, or an
  // idle connection handed out just as the server went away): pg emits
  // 'error' on the client, which would be an uncaught exception; the query
  // itself rejects anyway, and the pool drops the broken client on release.
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  registerPool(db, pool);
  return { db, dialect: 'postgres', location: redactUrl(url), pool, close: () => db.destroy() };
}

/** One trivial query: is the database answering? (the status service's check) */
export async function ping(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db);
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '*****';
    return parsed.toString();
  } catch {
    return 'postgres://…';
  }
}
