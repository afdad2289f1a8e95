// POST /users/:sid/password/reset — an administrator issues a single-use
// reset token for a local user (also `rbac reset-token`). Works for revoked
// users: getting a locked-out user back in is its main use.

import { type Party, partyOf } from '../audit/audit.js';
import type { Config } from '../config/config.js';
import { ServiceError, notFound } from '../errors.js';
import * as resetTokens from '../store/reset-tokens.js';
import type { Db } from '../store/transaction.js';
import * as users from '../store/users.js';
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

/** `by` is who asks, its permission checked here; null for the operator at the server (`rbac reset-token`). */
export async function issueResetToken(deps: IssueDeps, by: Requester, userId: string, context: IssueContext): Promise<string> {
  // The reads at once (on PostgreSQL, on as many pool connections: one
  // round trip's wait): the permission, the user, the signing key. A refused
  // permission wins over an unknown user, as when they ran one by one.
  const [, user, key] = await Promise.all([assertMayIssueResetToken(deps.db, by, userId), users.byId(deps.db, userId), deps.keys.activeKey()]);
  if (!user) throw notFound('The user');
  if (user.is_remote) {
    throw new ServiceError('permission-denied', 'This is a remote user: its password is managed by its directory service.');
  }

  const now = Date.now();
  const lifetimeSeconds = deps.config.passwordResetExpirationHours * 3600;
  const { token, claims } = await signResetToken(key, user.id, lifetimeSeconds, now);

  // A new token supersedes the user's earlier unused ones; one statement on PostgreSQL.
  await resetTokens.issueSuperseding(
    deps.db,
    { jti: claims.jti, user_id: user.id, kid: claims.kid, issued_at: claims.iat * 1000, expires_at: claims.exp * 1000, issued_by: context.actor?.id ?? null },
    {
      type: 'reset-token-issued',
      actor: context.actor,
      subject: partyOf(user),
      sourceAddress: context.sourceAddress,
      details: { jti: claims.jti, expires_at: new Date(claims.exp * 1000).toISOString() },
    },
    now,
  );
  return token;
}
