// POST /users/:sid/password/reset — an administrator issues a single-use
// reset token for a local user (also `rbac reset-token`). Works for revoked
// users: getting a locked-out user back in is its main use.

import type { Party } from '../audit/audit.js';
import type { Config } from '../config/config.js';
import { ServiceError, notFound } from '../errors.js';
import * as resetTokens from '../store/reset-tokens.js';
import type { Db } from '../store/transaction.js';
import { revokedRequester } from '../permissions/permissions.js';
import { assertNotApiUser } from '../users/api-user.js';
import { assertMayIssueResetToken, type Requester } from '../users/authorization.js';
import { signResetToken } from './reset-token.js';
import type { SigningKeyRing } from './signing-keys.js';

export interface IssueDeps {
  db: Db;
  keys: SigningKeyRing;
  config: Pick<Config, 'passwordResetExpirationHours'>;
}

export interface IssueContext {
  actor: Party | null;
  sourceAddress: string | null;
}

// Sign first, then decide and write in one step (one statement on
// PostgreSQL): the signature needs only the user id from the path and the
// signing key, which the ring keeps between issues; the write checks that
// the user exists and is local and that the key still signs, and writes
// nothing otherwise. With the token check that authenticated the request, an
// issue by a superuser (or the CLI) is two round trips; a delegated
// operator's permission is read first, so nothing is signed for a refusal.
const SIGNING_ATTEMPTS = 3;

/** `by` is who asks, its permission checked here; null for the operator at the server (`rbac reset-token`). */
export async function issueResetToken(deps: IssueDeps, by: Requester, userId: string, context: IssueContext): Promise<string> {
  await assertMayIssueResetToken(deps.db, by, userId);
  // api_user has no password to set (it authenticates with a certificate), and stays as it is.
  assertNotApiUser(userId);
  const lifetimeSeconds = deps.config.passwordResetExpirationHours * 3600;
  for (let attempt = 1; ; attempt++) {
    // After a refusal for the key: another instance rotated or retired it; read the one that signs now.
    const key = await deps.keys.signingKey({ fresh: attempt > 1 });
    const now = Date.now();
    const { token, claims } = await signResetToken(key, userId, lifetimeSeconds, now);
    const outcome = await resetTokens.issueSuperseding(
      deps.db,
      { jti: claims.jti, user_id: userId, kid: claims.kid, issued_at: claims.iat * 1000, expires_at: claims.exp * 1000, issued_by: by?.id ?? null },
      {
        type: 'reset-token-issued',
        actor: context.actor,
        sourceAddress: context.sourceAddress,
        details: { jti: claims.jti, expires_at: new Date(claims.exp * 1000).toISOString() },
      },
      now,
    );
    if (outcome.written) return token;
    if (outcome.reason === 'requester-revoked') throw revokedRequester();
    if (outcome.reason === 'no-user') throw notFound('The user');
    if (outcome.reason === 'remote-user') {
      throw new ServiceError('permission-denied', 'This is a remote user: its password is managed by its directory service.');
    }
    if (attempt >= SIGNING_ATTEMPTS) throw new Error('the signing key changed during every attempt to issue a reset token');
  }
}
