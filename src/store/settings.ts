// The settings table: values an administrator sets through the API, kept in
// the database so that every instance on it answers with the same one (PE's
// login disclaimer). One row per name; no row is an unset value.

import type { Executor } from './transaction.js';

/** The names a setting may have. */
export type SettingName = 'disclaimer';

/** The value, or undefined when it is unset. */
export async function read(db: Executor, name: SettingName): Promise<string | undefined> {
  return (await db.selectFrom('settings').select('value').where('name', '=', name).executeTakeFirst())?.value;
}

/** Sets the value, replacing any earlier one (one statement: concurrent writers leave one of their values, never an error). */
export async function write(db: Executor, name: SettingName, value: string, now: number): Promise<void> {
  await db
    .insertInto('settings')
    .values({ name, value, updated_at: now })
    .onConflict((oc) => oc.column('name').doUpdateSet({ value, updated_at: now }))
    .execute();
}

/** Unsets the value; true when there was one. */
export async function remove(db: Executor, name: SettingName): Promise<boolean> {
  return (await db.deleteFrom('settings').where('name', '=', name).returning('name').executeTakeFirst()) !== undefined;
}
