// POST /auth/reset — a user sets a new password with a reset token. No
// authentication; the token is the credential. In one transaction the token
// is spent, the password replaced, the account un-revoked with its
// failed-attempt count zeroed, and every login token of the user revoked.
// The spend is a conditional UPDATE, so of any number of concurrent
// requests with one token exactly one commits. It does not log the user in.

import { partyOf, recordEvent, recordEvents, type ResetRejection } from '../audit/audit.js';
import type { PasswordHasher } from '../passwords/hashing.js';
import type { PasswordRules } from '../passwords/policy.js';
import { assertNewPasswordAcceptable, type HistoryRules } from '../passwords/previous-passwords.js';
import { replacePassword } from '../passwords/credentials.js';
import * as resetTokens from '../store/reset-tokens.js';
import { inTransaction, type Db } from '../store/transaction.js';
import * as users from '../store/users.js';
import { invalidResetToken, isUsableNow, verifyResetTokenSignature, type ResetTokenClaims } from './reset-token.js';
import type { SigningKeyRing } from './signing-keys.js';

export interface ResetDeps {
  db: Db;
  keys: SigningKeyRing;
  hasher: PasswordHasher;
  config: PasswordRules & HistoryRules;
  /** The clock the new password's age starts by; the system clock otherwise. */
  now?: () => number;
}

export interface ResetRequest {
  token: string;
  password: string;
}

export async function resetPasswordWithToken(deps: ResetDeps, request: ResetRequest, sourceAddress: string | null): Promise<void> {
  const { db } = deps;
  let claims: ResetTokenClaims | undefined;
  const reject = async (reason: ResetRejection) => {
    await recordEvent(db, {
      type: 'reset-rejected',
      actor: null,
      subject: claims ? { id: claims.sub, login: null } : null,
      sourceAddress,
      details: { reason, ...(claims ? { jti: claims.jti } : {}) },
    });
    return invalidResetToken();
  };

  try {
    claims = await verifyResetTokenSignature(deps.keys, request.token);
  } catch {
    throw await reject('bad-signature-or-expired');
  }
  const user = await users.byId(db, claims.sub);
  if (!user || user.is_remote) throw await reject(user ? 'remote-user' : 'unknown-user');
  // Cheap check before the expensive hash; the transaction below decides for good.
  if (!(await isUsableNow(db, claims))) throw await reject('spent-superseded-or-expired');

  // A refused password (the policy, or one of the user's last passwords)
  // leaves the token unspent, so the user can try again.
  await assertNewPasswordAcceptable(deps, user, request.password);
  const passwordHash = await deps.hasher.hash(request.password);

  const now = Date.now();
  const spentClaims = claims;
  const committed = await inTransaction(db, async (trx) => {
    if (!(await resetTokens.spend(trx, spentClaims, now))) return false;
    const current = await users.byId(trx, user.id);
    if (!current || current.is_remote) throw invalidResetToken(); // changed meanwhile: roll the spend back
    const subject = partyOf(user);
    await replacePassword(
      trx,
      subject,
      passwordHash,
      { reinstate: true, passwordChangedAt: (deps.now ?? Date.now)(), previousPasswords: deps.config.numberOfPreviousPasswords, context: { actor: subject, sourceAddress } },
      now,
    );
    await recordEvents(
      trx,
      [
        { type: 'reset-token-used', actor: subject, subject, sourceAddress, details: { jti: spentClaims.jti } },
        { type: 'password-changed', actor: subject, subject, sourceAddress, details: { via: 'reset-token' } },
        ...(current.is_revoked ? [{ type: 'account-unrevoked' as const, actor: subject, subject, sourceAddress, details: { via: 'reset-token' as const } }] : []),
      ],
      now,
    );
    return true;
  });
  if (!committed) throw await reject('spent-concurrently');
}
