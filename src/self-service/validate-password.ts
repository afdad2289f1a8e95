// POST /command/validate-password — lets a page show the policy before the
// user submits. The caller proves who it is with a login token or a usable
// reset token; the answer, in PE's shape, lists every rule the password
// breaks for that user.

import { authenticateLoginToken } from '../login/login-tokens.js';
import { ServiceError } from '../errors.js';
import { verifyUsableResetToken } from '../password-reset/reset-token.js';
import type { SigningKeyRing } from '../password-reset/signing-keys.js';
import type { Validation } from '../shapes.js';
import type { Db } from '../store/transaction.js';
import * as users from '../store/users.js';
import { passwordFailures, validation, type PasswordRules } from '../passwords/policy.js';

export interface ValidateDeps {
  db: Db;
  keys: SigningKeyRing;
  config: PasswordRules;
}

export async function validatePasswordFor(
  deps: ValidateDeps,
  password: string,
  credentials: { loginToken?: string | undefined; resetToken?: string | undefined },
): Promise<Validation> {
  let userId: string;
  // A reset token in the body is what the caller chose to send for this check,
  // so it wins over a (perhaps stale) login token the browser also sent.
  if (credentials.resetToken) {
    userId = (await verifyUsableResetToken(deps.db, deps.keys, credentials.resetToken)).sub;
  } else if (credentials.loginToken) {
    userId = (await authenticateLoginToken(deps.db, credentials.loginToken)).id;
  } else {
    throw new ServiceError('user-unauthenticated', 'Send a login token (X-Authentication) or a reset_token in the body.');
  }
  const user = await users.byId(deps.db, userId);
  return validation(passwordFailures(password, deps.config, user?.login));
}
