// Checking a local user's password, with lockout. Used by login and by the
// change-own-password flow (a wrong current password counts there too).

import type { Kysely } from 'kysely';
import { recordEvent, type Party } from '../audit/audit.js';
import { ServiceError } from '../errors.js';
import { claimAttempt, lockIfExhausted } from '../lockout/lockout.js';
import type { PasswordHasher } from '../passwords/hashing.js';
import type { Database, UserRow } from '../store/schema.js';
import { revokeAllLoginTokens } from './login-tokens.js';

export interface PasswordCheckDeps {
  db: Kysely<Database>;
  hasher: PasswordHasher;
  failedAttemptsLockout: number;
}

export interface CheckContext {
  actor: Party | null;
  sourceAddress: string | null;
  /** What was being attempted, for the audit trail: `login`, `password-change`. */
  purpose: string;
}

export const revokedError = () =>
  new ServiceError('user-revoked', 'This account is revoked. An administrator can reinstate it or issue a password reset token.');

/**
 * True when `password` is the user's password. A wrong password is recorded
 * and counts toward lockout. Throws `user-revoked` — before any hash is
 * computed — when the account is revoked, and `rate-limited` when every
 * remaining attempt is already being checked by concurrent requests.
 */
export async function checkUserPassword(deps: PasswordCheckDeps, user: UserRow, password: string, context: CheckContext): Promise<boolean> {
  if (user.is_revoked === 1) throw revokedError();
  if (!(await claimAttempt(deps.db, user.id, deps.failedAttemptsLockout))) {
    const current = await deps.db.selectFrom('users').select('is_revoked').where('id', '=', user.id).executeTakeFirst();
    if (!current || current.is_revoked === 1) throw revokedError();
    throw new ServiceError('rate-limited', 'Too many password checks for this account are in progress. Try again in a moment.', undefined, 1);
  }

  const matches = user.password_hash !== null && (await deps.hasher.verify(user.password_hash, password));
  if (matches) return true;

  await deps.db.transaction().execute(async (trx) => {
    const subject = { id: user.id, login: user.login };
    await recordEvent(trx, {
      type: 'login-failed',
      actor: context.actor,
      subject,
      sourceAddress: context.sourceAddress,
      details: { reason: 'wrong-password', purpose: context.purpose },
    });
    if (await lockIfExhausted(trx, user.id, deps.failedAttemptsLockout)) {
      await revokeAllLoginTokens(trx, user.id);
      await recordEvent(trx, {
        type: 'account-locked',
        actor: context.actor,
        subject,
        sourceAddress: context.sourceAddress,
        details: { failed_attempts: deps.failedAttemptsLockout },
      });
    }
  });
  return false;
}
