// POST /command/validate-password — lets a page show the policy before the
// user submits. The caller proves who it is with a login token or a usable
// reset token; the answer, in PE's shape, lists every rule the password
// breaks for that user.

import type { Config } from '../config/config.js';
import { passwordAgeNotice } from '../passwords/password-age.js';
import { authenticateLoginToken } from '../login/login-tokens.js';
import { ServiceError } from '../errors.js';
import { verifyUsableResetToken } from '../password-reset/reset-token.js';
import type { SigningKeyRing } from '../password-reset/signing-keys.js';
import type { PasswordHasher } from '../passwords/hashing.js';
import { newPasswordFailures, type HistoryRules } from '../passwords/previous-passwords.js';
import type { Validation } from '../shapes.js';
import type { Db } from '../store/transaction.js';
import * as users from '../store/users.js';
import { passwordFailures, validation, type PasswordRules } from '../passwords/policy.js';

// A directory user's password is the directory's: no rule here applies to it.
const remoteUserRefused = () =>
  new ServiceError('permission-denied', "This is a remote user: its password is managed by its directory service, whose rules apply, not this service's.");

export interface ValidateDeps {
  db: Db;
  keys: SigningKeyRing;
  hasher: PasswordHasher;
  config: PasswordRules & HistoryRules & Pick<Config, 'passwordMaximumAgeDays'> & { tokenInactivityTimeoutSeconds?: number | undefined };
  /** The clock password age is judged by; the system clock otherwise. */
  now?: () => number;
}

export async function validatePasswordFor(
  deps: ValidateDeps,
  password: string,
  credentials: { loginToken?: string | undefined; resetToken?: string | undefined },
): Promise<Validation> {
  const answer = await policyAnswer(deps, password, credentials);
  return { ...answer, ...passwordAgeNotice(deps.config, (deps.now ?? Date.now)()) };
}

/** PE's answer: every rule the password breaks for the user the credentials name. */
async function policyAnswer(deps: ValidateDeps, password: string, credentials: { loginToken?: string | undefined; resetToken?: string | undefined }): Promise<Validation> {
  // A reset token in the body is what the caller chose to send for this check,
  // so it wins over a (perhaps stale) login token the browser also sent.
  if (credentials.resetToken) {
    const user = await users.byId(deps.db, (await verifyUsableResetToken(deps.db, deps.keys, credentials.resetToken)).sub);
    if (user?.is_remote) throw remoteUserRefused();
    // With a reset token the history is checked too: its holder may set any
    // password, and POST /auth/reset answers the same question unspent.
    return validation(user ? await newPasswordFailures(deps, user, password) : passwordFailures(password, deps.config));
  }
  if (credentials.loginToken) {
    // With a login token alone it is not: the history includes the current
    // password, so this would be a way to test guesses at it that no lockout
    // counts. A change of one's own password checks it after current_password.
    const user = await authenticateLoginToken(deps.db, credentials.loginToken, Date.now(), deps.config.tokenInactivityTimeoutSeconds);
    if (user.is_remote) throw remoteUserRefused();
    return validation(passwordFailures(password, deps.config, user.login));
  }
  throw new ServiceError('user-unauthenticated', 'Send a login token (X-Authentication) or a reset_token in the body.');
}
