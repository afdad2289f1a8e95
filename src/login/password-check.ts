// Checking a local user's password, with lockout. Used by login and by the
// change-own-password flow (a wrong current password counts there too).
//
// Lockout: before a password is checked, one conditional UPDATE claims one of
// the account's remaining attempts, so however many checks run at once, at
// most `failed-attempts-lockout` of them run before the account is revoked —
// on SQLite and on PostgreSQL, across any number of service processes. A
// success releases the claims (count back to 0); a failure keeps its claim,
// and the failure that uses the last one revokes the account and records
// when. With failed-attempts-lockout-duration set, such a lockout lifts itself
// once it is old enough; an administrator's revocation has no lock time and
// stays.

import { type CheckPurpose, type LoginFailedDetails, type LoginFailure, type Party, recordEvent } from '../audit/audit.js';
import { ServiceError } from '../errors.js';
import type { PasswordHasher } from '../passwords/hashing.js';
import * as loginTokens from '../store/login-tokens.js';
import { inTransaction, type Db } from '../store/transaction.js';
import * as users from '../store/users.js';
import type { UserRecord } from '../store/users.js';

export interface PasswordCheckDeps {
  db: Db;
  hasher: PasswordHasher;
  failedAttemptsLockout: number;
  /** failed-attempts-lockout-duration in seconds; undefined: a lockout lasts until someone reinstates the user. */
  lockoutDurationSeconds?: number | undefined;
}

export interface CheckContext {
  actor: Party | null;
  sourceAddress: string | null;
  /** What was being attempted, for the audit trail: `login`, `password-change`. */
  purpose: CheckPurpose;
}

// One message for unknown login and wrong password: the response must not
// tell an attacker which logins exist.
export const badCredentials = () => new ServiceError('user-unauthenticated', 'The login or password is incorrect.');

export const revokedError = () =>
  new ServiceError('user-revoked', 'This account is revoked. An administrator can reinstate it or issue a password reset token.');

/**
 * True when `password` is the user's password. A wrong password is recorded
 * and counts toward lockout. Throws `user-revoked` — before any hash is
 * computed — when the account is revoked (and not a lockout that is over),
 * and `rate-limited` when every remaining attempt is already being checked
 * by concurrent requests.
 */
export async function checkUserPassword(deps: PasswordCheckDeps, user: UserRecord, password: string, context: CheckContext, claimed?: boolean): Promise<boolean> {
  const storedHash = user.password_hash;
  return checkPassword(deps, user, async () => storedHash !== null && (await deps.hasher.verify(storedHash, password)), context, 'wrong-password', claimed);
}

/**
 * The lockout rule around any password check: `verify` (a hash comparison
 * here, a bind for a directory user) runs only with an attempt claimed, and
 * a false answer is recorded as `reason` and keeps the claim. `claimed`: the
 * caller already tried the claim with its lookup (login: users.byLoginKeyClaiming).
 */
export async function checkPassword(
  deps: PasswordCheckDeps,
  user: Pick<UserRecord, 'id' | 'login' | 'is_revoked' | 'locked_at'>,
  verify: () => Promise<boolean>,
  context: CheckContext,
  reason: LoginFailure,
  claimed?: boolean,
): Promise<boolean> {
  if (!claimed && user.is_revoked && !(await liftLockoutIfOver(deps, user, context))) throw revokedError();
  if (!claimed && !(await users.claimAttempt(deps.db, user.id, deps.failedAttemptsLockout))) {
    if ((await users.isRevoked(deps.db, user.id)) !== false) throw revokedError();
    throw new ServiceError('rate-limited', 'Too many password checks for this account are in progress. Try again in a moment.', undefined, 1);
  }

  const matches = await releasingOnError(deps, user.id, verify);
  if (matches) return true;

  await recordFailedCheck(deps, { id: user.id, login: user.login }, { reason, purpose: context.purpose }, context);
  return false;
}

/**
 * Runs work that finishes a claimed check (the check itself, or what a
 * matching password leads to) and gives the claim back if it throws. Callers
 * of checkUserPassword wrap what follows a match in it: their success zeroes
 * the count, their failure must not keep the claim.
 */
export async function releasingOnError<T>(deps: Pick<PasswordCheckDeps, 'db'>, userId: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    await users.releaseAttempt(deps.db, userId).catch(() => {});
    throw error;
  }
}

/**
 * Lifts the user's lockout when failed-attempts-lockout-duration has passed
 * since it, recording the reinstatement. True when the account is active now:
 * lifted here, or by a concurrent request that got there first.
 */
async function liftLockoutIfOver(deps: PasswordCheckDeps, user: Pick<UserRecord, 'id' | 'login' | 'locked_at'>, context: CheckContext): Promise<boolean> {
  const duration = deps.lockoutDurationSeconds;
  // No lock time: an administrator revoked the user, and no duration lifts that.
  if (duration === undefined || user.locked_at === null) return false;
  const lifted = await inTransaction(deps.db, async (trx) => {
    if (!(await users.liftExpiredLockout(trx, user.id, duration, Date.now()))) return false;
    await recordEvent(trx, {
      type: 'account-unrevoked',
      actor: null,
      subject: { id: user.id, login: user.login },
      sourceAddress: context.sourceAddress,
      details: { via: 'lockout-expired' },
    });
    return true;
  });
  return lifted || (await users.isRevoked(deps.db, user.id)) === false;
}

/** The id no user has: unknown logins run their queries against it. */
const NO_USER = '00000000-0000-0000-0000-000000000000';

/**
 * Records a failed check: the audit event and, when the attempts are used
 * up, the lock (tokens revoked, `account-locked` recorded). For an unknown
 * login (subject without id) the same statements run against an id no user
 * has, so both answers take as long and the database shows no difference.
 */
export async function recordFailedCheck(
  deps: PasswordCheckDeps,
  subject: { id: string | null; login: string },
  details: LoginFailedDetails,
  context: Omit<CheckContext, 'purpose'>,
): Promise<void> {
  await inTransaction(deps.db, async (trx) => {
    await recordEvent(trx, { type: 'login-failed', actor: context.actor, subject, sourceAddress: context.sourceAddress, details });
    const now = Date.now();
    if (await users.lockIfExhausted(trx, subject.id ?? NO_USER, deps.failedAttemptsLockout, now)) {
      const user = { id: subject.id as string, login: subject.login };
      await loginTokens.revokeAllOf(trx, user.id, now);
      await recordEvent(trx, {
        type: 'account-locked',
        actor: context.actor,
        subject: user,
        sourceAddress: context.sourceAddress,
        details: { failed_attempts: deps.failedAttemptsLockout },
      });
    }
  });
}

/**
 * What a check of a known user's password costs in queries and hashing,
 * spent for a login that has no password here. `decoyWritten`: the caller's
 * lookup wrote the decoy row already (users.byLoginKeyClaiming).
 */
export async function checkNoPassword(deps: PasswordCheckDeps, password: string, decoyWritten = false): Promise<void> {
  // Where a real check claims an attempt (one committed write), write the decoy row.
  if (!decoyWritten) await users.decoyWrite(deps.db);
  await deps.hasher.verifyDummy(password);
}
