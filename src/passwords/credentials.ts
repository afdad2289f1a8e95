// The one way a password is replaced, whoever replaces it (reset by token,
// change of one's own, the admin reset script): the new hash, a fresh
// failed-attempt count, the user's login tokens revoked (but the one in use,
// for a change of one's own) and, unless the change spends one, the user's
// unused reset tokens cancelled. All in the caller's transaction; the caller
// records what happened, in its own words.

import type { Party } from '../audit/audit.js';
import { cancelResetTokens, type CancelReason } from '../password-reset/reset-token.js';
import * as loginTokens from '../store/login-tokens.js';
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
  keepLoginToken?: string;
  /** Why the user's unused reset tokens are cancelled; absent when a reset token is being spent. */
  cancelResetTokens?: CancelReason;
  context: { actor: Party | null; sourceAddress: string | null };
}

export async function replacePassword(trx: Executor, user: { id: string; login: string }, passwordHash: string, how: Replacement, now = Date.now()): Promise<boolean> {
  const replaced = await users.setPassword(trx, user.id, passwordHash, how);
  if (!replaced) return false;
  await loginTokens.revokeAllOf(trx, user.id, now, how.keepLoginToken);
  if (how.cancelResetTokens) await cancelResetTokens(trx, user, how.cancelResetTokens, how.context, now);
  return true;
}
