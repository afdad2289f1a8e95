// The directories table: directory service (LDAP) connections. The settings
// are JSON the directory module validates; the bind password is read only by
// bindPasswordOf, for binding, and never with the settings.

import { isPostgres } from './dialect.js';
import type { Executor } from './transaction.js';

export interface DirectoryRow {
  id: string;
  settings: string;
}

export async function list(db: Executor): Promise<DirectoryRow[]> {
  return db.selectFrom('directories').select(['id', 'settings']).orderBy('created_at').orderBy('id').execute();
}

export async function byId(db: Executor, id: string): Promise<DirectoryRow | undefined> {
  return db.selectFrom('directories').select(['id', 'settings']).where('id', '=', id).executeTakeFirst();
}

export async function bindPasswordOf(db: Executor, id: string): Promise<string | null> {
  const row = await db.selectFrom('directories').select('bind_password').where('id', '=', id).executeTakeFirst();
  return row?.bind_password ?? null;
}

/**
 * A directory with its bind password, read together: what deciding whether
 * the stored password may go where new settings point needs. In a
 * transaction on PostgreSQL the row stays locked until it ends, so no
 * concurrent update moves the directory or changes the password between the
 * check and the write (SQLite's write transactions run one at a time).
 */
export async function withBindPassword(db: Executor, id: string): Promise<(DirectoryRow & { bind_password: string | null }) | undefined> {
  const query = db.selectFrom('directories').select(['id', 'settings', 'bind_password']).where('id', '=', id);
  return (db.isTransaction && isPostgres(db) ? query.forUpdate() : query).executeTakeFirst();
}

/**
 * Adds a directory after every other one: logins ask directories in the order
 * they were added (list), so two added in the same millisecond must not tie
 * and fall back to the order of their random ids.
 */
export async function insert(db: Executor, row: DirectoryRow & { bind_password: string | null }, now: number): Promise<void> {
  const latest = await db.selectFrom('directories').select((eb) => eb.fn.max('created_at').as('created_at')).executeTakeFirst();
  const createdAt = Math.max(now, Number(latest?.created_at ?? 0) + 1);
  await db.insertInto('directories').values({ ...row, created_at: createdAt, updated_at: now }).execute();
}

/** Replaces the settings; the bind password only when one is given (undefined keeps it, null clears it). */
export async function update(db: Executor, id: string, settings: string, bindPassword: string | null | undefined, now: number): Promise<boolean> {
  const result = await db
    .updateTable('directories')
    .set({ settings, updated_at: now, ...(bindPassword === undefined ? {} : { bind_password: bindPassword }) })
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function remove(db: Executor, id: string): Promise<boolean> {
  const result = await db.deleteFrom('directories').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
