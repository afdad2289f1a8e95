// Lockout (CONTRACT §4). A password check must first claim one of the
// account's remaining attempts with a single conditional UPDATE, so however
// many checks run at once, at most `failed-attempts-lockout` of them can run
// before the account is revoked — on SQLite and on PostgreSQL, across any
// number of service processes. A success releases the claims (count back to
// 0); a failure keeps its claim, and the failure that uses the last one
// revokes the account and records when (`locked_at`). With
// failed-attempts-lockout-duration set, such a lockout lifts itself once it is
// old enough; a revocation by an administrator has no `locked_at` and stays.

import { sql, type ExpressionBuilder } from 'kysely';
import type { Executor } from '../audit/audit.js';
import type { Database } from '../store/schema.js';

/**
 * Claims one attempt. Returns false when none is left (the account is revoked,
 * or as many checks as attempts remain are already in flight); then no hash
 * may be computed.
 */
export async function claimAttempt(db: Executor, userId: string, limit: number): Promise<boolean> {
  const claimed = await db
    .updateTable('users')
    .set({ failed_attempts: sql<number>`failed_attempts + 1` })
    .where('id', '=', userId)
    .where('is_revoked', '=', 0)
    .where('failed_attempts', '<', limit)
    .returning('id')
    .executeTakeFirst();
  return claimed !== undefined;
}

/** After a failed check: revokes the account if its attempts are used up. True when this call revoked it. */
export async function lockIfExhausted(db: Executor, userId: string, limit: number, now = Date.now()): Promise<boolean> {
  const locked = await db
    .updateTable('users')
    .set({ is_revoked: 1, locked_at: now })
    .where('id', '=', userId)
    .where('is_revoked', '=', 0)
    .where('failed_attempts', '>=', limit)
    .returning('id')
    .executeTakeFirst();
  return locked !== undefined;
}

/**
 * Gives a claimed attempt back when the check it was claimed for could not
 * finish (an error while hashing or writing the result): otherwise each such
 * error would leave a claim behind, and enough of them would leave the
 * account answering "checks in progress" for good.
 */
export async function releaseAttempt(db: Executor, userId: string): Promise<void> {
  await db
    .updateTable('users')
    .set({ failed_attempts: sql<number>`failed_attempts - 1` })
    .where('id', '=', userId)
    .where('failed_attempts', '>', 0)
    .execute();
}

/**
 * The rule for "this lockout is over": the account was revoked by failed
 * logins (`locked_at` set; an administrator's revocation clears it) at least
 * `durationSeconds` before `now`. A condition on the row, so that lifting it
 * is one conditional UPDATE.
 */
export function lockoutIsOver(eb: ExpressionBuilder<Database, 'users'>, durationSeconds: number, now: number) {
  return eb.and([eb('is_revoked', '=', 1), eb('locked_at', 'is not', null), eb('locked_at', '<=', now - durationSeconds * 1000)]);
}

/**
 * Reinstates the user if its lockout is over, with a fresh set of attempts.
 * True only for the one call that lifted it, however many instances try at
 * once; that caller records the event.
 */
export async function liftExpiredLockout(db: Executor, userId: string, durationSeconds: number, now = Date.now()): Promise<boolean> {
  const lifted = await db
    .updateTable('users')
    .set({ is_revoked: 0, failed_attempts: 0, locked_at: null })
    .where('id', '=', userId)
    .where((eb) => lockoutIsOver(eb, durationSeconds, now))
    .returning('id')
    .executeTakeFirst();
  return lifted !== undefined;
}
