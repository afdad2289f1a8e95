import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../dialect.js';

// The rate limits' counts, shared by every instance on one PostgreSQL
// database (src/store/rate-limits.ts): one row per limited key and its
// current fixed window. UNLOGGED: the counts are worth nothing after a crash
// (PostgreSQL empties the table then) and writing them to the WAL would cost
// every limited request a flush. SQLite keeps its counts in each instance's
// memory, so the table exists on PostgreSQL only.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`create unlogged table rate_limits (
    key text primary key,
    window_ends_at bigint not null,
    hits integer not null
  )`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await db.schema.dropTable('rate_limits').execute();
}
