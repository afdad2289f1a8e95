// How a user's credentials change, whichever flow changes them. The one way
// a password is replaced (reset by token, change of one's own, the admin
// reset script): the new hash, the replaced one kept in the password history,
// a fresh failed-attempt count, the user's login tokens revoked (but the one
// in use, for a change of one's own) and, unless the change spends one, the
// user's unused reset tokens cancelled — all in the caller's transaction; the
// caller records what happened, in its own words. And the one way unused
// reset tokens are cancelled.

import { type Party, recordEvent } from '../audit/audit.js';
import * as loginTokens from '../store/login-tokens.js';
import * as passwordHistory from '../store/password-history.js';
import * as resetTokens from '../store/reset-tokens.js';
import type { Executor } from '../store/transaction.js';
import * as users from '../store/users.js';

export interface Replacement {
  /** Also un-revoke the user (reset by token, the admin reset script). */
  reinstate?: boolean;
  /** Only while the user is not revoked: false is returned, and nothing changes, when it is. */
  onlyIfActive?: boolean;
  /** Make the user the local superuser (the admin reset script). */
  asLocalSuperuser?: boolean;
  /** The login token that made the change keeps working. */
  keepLoginToken?: string | undefined;
  /** Why the user's unused reset tokens are cancelled; absent when a reset token is being spent. */
  cancelResetTokens?: CancelReason;
  /** When the new password's age clock starts (the service's age clock); `now` otherwise. */
  passwordChangedAt?: number;
  /** number-of-previous-passwords: how many of the user's passwords, the new one included, the history keeps. */
  previousPasswords: number;
  context: { actor: Party | null; sourceAddress: string | null };
}

export async function replacePassword(trx: Executor, user: { id: string; login: string }, passwordHash: string, how: Replacement, now = Date.now()): Promise<boolean> {
  // Locked first, so that the hash read here is the one this write replaces, even with another replacement under way.
  const before = await users.lock(trx, user.id);
  const replaced = await users.setPassword(trx, user.id, passwordHash, now, how);
  if (!replaced) return false;
  await passwordHistory.keepReplaced(trx, user.id, before?.password_hash ?? null, how.previousPasswords, now);
  await loginTokens.revokeAllOf(trx, user.id, now, how.keepLoginToken);
  if (how.cancelResetTokens) await cancelResetTokens(trx, user, how.cancelResetTokens, how.context, now);
  return true;
}

/** Why a user's unused reset tokens stop working, for the audit trail. */
export type CancelReason = 'superseded' | 'password-changed' | 'account-revoked' | 'user-deleted' | 'admin-password-reset-by-script';

/**
 * Cancels the user's unused reset tokens: a token issued before its user's
 * password changed, or before the user was revoked, must not later reinstate
 * the account and set the holder's password. Records `reset-tokens-cancelled`
 * when there was one. Returns how many were cancelled.
 */
export async function cancelResetTokens(
  trx: Executor,
  user: Party & { id: string },
  reason: CancelReason,
  context: { actor: Party | null; sourceAddress: string | null },
  now = Date.now(),
): Promise<number> {
  const cancelled = await resetTokens.cancelLiveOf(trx, user.id, now);
  // A superseding issue records its own event, which says so.
  if (cancelled > 0 && reason !== 'superseded') {
    await recordEvent(trx, { type: 'reset-tokens-cancelled', actor: context.actor, subject: user, sourceAddress: context.sourceAddress, details: { reason, count: cancelled } }, now);
  }
  return cancelled;
}
