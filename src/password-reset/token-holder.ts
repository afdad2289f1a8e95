// POST /auth/reset/holder — the reset page asks, once it has a token, whose
// password it is about to set, and shows that login with the account's state
// in words (locked and until when, revoked by an administrator or by account
// expiry, a password change required, the password expired, the age rule).
// Only a usable token (signed, unspent, not superseded, unexpired, for a local
// user) gets an answer; any other is the same 403 invalid-token the reset
// itself gives, so this tells its caller nothing /auth/reset would not. Its
// holder may set the account's password and so reinstate it: the state it is
// told is the account's own. Nothing is spent or written.

import type { Config } from '../config/config.js';
import { passwordHasExpired } from '../passwords/password-age.js';
import type { Holder } from '../shapes.js';
import * as users from '../store/users.js';
import type { Db } from '../store/transaction.js';
import { lockoutLiftsAt } from '../users/users.js';
import { invalidResetToken, verifyUsableResetToken } from './reset-token.js';
import type { SigningKeyRing } from './signing-keys.js';

export interface HolderDeps {
  db: Db;
  keys: SigningKeyRing;
  config: Pick<Config, 'failedAttemptsLockoutDurationSeconds' | 'passwordMaximumAgeDays'>;
  /** The clock password age is judged by; the system clock otherwise. */
  now?: () => number;
}

export async function resetTokenHolder(deps: HolderDeps, token: string): Promise<Holder> {
  const claims = await verifyUsableResetToken(deps.db, deps.keys, token);
  const user = await users.byId(deps.db, claims.sub);
  if (!user || user.is_remote) throw invalidResetToken();
  return {
    login: user.login,
    revoked_by: user.revoked_by,
    lockout_lifts_at: lockoutLiftsAt(user, deps.config)?.toISOString() ?? null,
    password_change_required: user.password_change_required,
    password_expired: passwordHasExpired(user, deps.config, (deps.now ?? Date.now)()),
    password_maximum_age_days: deps.config.passwordMaximumAgeDays ?? null,
  };
}
