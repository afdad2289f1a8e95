// The rate limits' counts on PostgreSQL (migration 017), shared by every
// instance on the database: one row per limited key holding its current fixed
// window. Each limited request costs one statement, whatever number of keys
// it counts; the database's clock decides the windows, so instances whose
// clocks differ still agree.

import { sql } from 'kysely';
import type { Db } from './transaction.js';

export interface WindowCount {
  /** Hits in the key's current window, this one included. */
  hits: number;
  /** Milliseconds until the window ends. */
  resetInMs: number;
}

/** Counts one hit on each key (all distinct) in its window of `windowMs`, starting a new window where the last one ended; the counts in the keys' order. */
export async function countHits(db: Db, keys: readonly string[], windowMs: number): Promise<WindowCount[]> {
  const { rows } = await sql<{ key: string; hits: number; reset_in_ms: number }>`
    with clock as (select (extract(epoch from statement_timestamp()) * 1000)::bigint as now_ms)
    insert into rate_limits as counted (key, window_ends_at, hits)
    select hit.key, clock.now_ms + ${windowMs}::bigint, 1 from unnest(${keys}::text[]) as hit(key), clock
    on conflict (key) do update set
      hits = case when counted.window_ends_at <= excluded.window_ends_at - ${windowMs}::bigint then 1 else counted.hits + 1 end,
      window_ends_at = case when counted.window_ends_at <= excluded.window_ends_at - ${windowMs}::bigint then excluded.window_ends_at else counted.window_ends_at end
    returning key, hits, window_ends_at - (select now_ms from clock) as reset_in_ms`.execute(db);
  const byKey = new Map(rows.map((row) => [row.key, { hits: row.hits, resetInMs: Number(row.reset_in_ms) }]));
  return keys.map((key) => byKey.get(key) ?? { hits: 1, resetInMs: windowMs });
}

/** Deletes the rows whose window has ended: nothing reads them again except to start over. */
export async function sweepEnded(db: Db): Promise<void> {
  await sql`delete from rate_limits where window_ends_at <= (extract(epoch from statement_timestamp()) * 1000)::bigint`.execute(db);
}
