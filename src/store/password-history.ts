// The password_history table: the hashes of each user's earlier passwords.
// "The last N passwords" (PE's number-of-previous-passwords) are the current
// one, in users.password_hash, and the N − 1 most recently replaced ones,
// here. So the table only ever receives a hash as it is replaced, and keeps
// at most N − 1 rows a user (none for N = 0 or 1). Both halves of that rule
// are in this module. Rows go with their user (ON DELETE CASCADE).

import type { Executor } from './transaction.js';
import * as users from './users.js';

/** The hashes of the user's last `count` passwords, newest first: the current one (if any), then the replaced ones. */
export async function lastPasswords(db: Executor, userId: string, count: number): Promise<string[]> {
  if (count <= 0) return [];
  const current = await users.byId(db, userId);
  const earlier = await db
    .selectFrom('password_history')
    .select('password_hash')
    .where('user_id', '=', userId)
    .orderBy('id', 'desc')
    .limit(count)
    .execute();
  const hashes = [...(current?.password_hash ? [current.password_hash] : []), ...earlier.map((row) => row.password_hash)];
  return hashes.slice(0, count);
}

/**
 * Records `replacedHash` as the user's most recent earlier password, when the
 * last `count` passwords have room for it beside the new current one, and
 * deletes the rows beyond them: with `count` lowered since they were written,
 * too (0 deletes all).
 */
export async function keepReplaced(trx: Executor, userId: string, replacedHash: string | null, count: number, now: number): Promise<void> {
  const earlier = Math.max(0, count - 1);
  if (replacedHash !== null && earlier > 0) {
    await trx.insertInto('password_history').values({ user_id: userId, password_hash: replacedHash, created_at: now }).execute();
  }
  await keepLatest(trx, userId, earlier);
}

/** Deletes all but the user's `keep` newest rows. */
async function keepLatest(trx: Executor, userId: string, keep: number): Promise<void> {
  await trx
    .deleteFrom('password_history')
    .where('user_id', '=', userId)
    .where('id', 'not in', (eb) => eb.selectFrom('password_history').select('id').where('user_id', '=', userId).orderBy('id', 'desc').limit(keep))
    .execute();
}
