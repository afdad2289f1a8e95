// POST /rbac-api/v2/auth/token/authenticate: another service asks what a
// login token is — its user and the token's facts — without authenticating
// itself (PE's token introspection). This is the hottest route of a real
// deployment, so it is exactly an authenticated request's token check: one
// prepared statement, the token by its hash joined to its user, with the
// user's role ids read in the same statement (src/store/login-tokens.ts). Nothing is cached: a revocation
// answers 403 token-revoked on the next call.

import { ServiceError } from '../errors.js';
import { hashLoginToken, isTimedOut, isTokenShaped, timedOutError } from '../login/login-tokens.js';
import type { User } from '../shapes.js';
import * as loginTokens from '../store/login-tokens.js';
import type { Executor } from '../store/transaction.js';
import { toUser, type UserView } from '../users/users.js';

/** PE's answer: the user's fields (not the group ones) and the token's. */
export interface Introspection extends Omit<User, 'inherited_role_ids' | 'group_ids'> {
  user_id: string;
  creation: string;
  expiration: string | null;
  last_active: string;
  label: string | null;
  description: string | null;
  client: string | null;
  /** token-inactivity-timeout in seconds (PE's session timeout), or null when unset. */
  timeout: number | null;
}

// Field by field, not `({ inherited_role_ids, group_ids, ...user }) => user`
// spread into the answer with more keys: V8 (Node 20) takes some 20 µs a
// call for that (measured), this well under 1 µs. The return type names every field, so a field
// added to User fails to compile here until it is decided.
const withoutGroups = (user: User): Omit<User, 'inherited_role_ids' | 'group_ids'> => ({
  id: user.id,
  login: user.login,
  email: user.email,
  display_name: user.display_name,
  role_ids: user.role_ids,
  is_group: user.is_group,
  is_remote: user.is_remote,
  is_superuser: user.is_superuser,
  is_revoked: user.is_revoked,
  last_login: user.last_login,
  failed_attempts: user.failed_attempts,
  locked_at: user.locked_at,
  lockout_lifts_at: user.lockout_lifts_at,
  revoked_by: user.revoked_by,
  password_change_required: user.password_change_required,
});

// PE's kinds and statuses: 400 for a string that is no token of ours (forged, unknown, malformed).
const invalidToken = () => new ServiceError('invalid-token', 'This is not a login token issued here.').withStatus(400);
const revokedToken = () => new ServiceError('token-revoked', 'This login token has been revoked, or its user has.');
const expiredToken = () => new ServiceError('token-expired', 'This login token has expired.');

const iso = (epochMs: number) => new Date(epochMs).toISOString();

/**
 * The token's user and facts. `updateLastActivity` (PE's
 * `update_last_activity?`) records this use as the token's last activity,
 * now (one conditional UPDATE); without it the call is a pure read, as in PE:
 * the asking service decides whether the check is a use of the token. A
 * token idle longer than token-inactivity-timeout is 403 token-timed-out,
 * and no update revives it.
 */
export async function introspectToken(db: Executor, view: UserView, token: string, updateLastActivity: boolean, now = Date.now(), inactivityTimeoutSeconds?: number): Promise<Introspection> {
  if (!isTokenShaped(token)) throw invalidToken();
  const tokenHash = hashLoginToken(token);
  const row = await loginTokens.check(db, tokenHash);
  if (!row) throw invalidToken();
  if (row.token_revoked || row.is_revoked) throw revokedToken();
  if (row.token_expires_at !== null && row.token_expires_at <= now) throw expiredToken();
  if (isTimedOut(row.token_last_active, inactivityTimeoutSeconds, now)) throw timedOutError();

  let lastActive = row.token_last_active;
  // `< now`: a clock that reads the same millisecond twice writes once, and last_active never moves back.
  if (updateLastActivity && lastActive < now && (await loginTokens.touch(db, tokenHash, now, now))) lastActive = now;

  // Object.assign, not a spread followed by more keys: see withoutGroups.
  return Object.assign(withoutGroups(toUser(row, row.role_ids, view)), {
    user_id: row.id,
    creation: iso(row.token_created_at),
    expiration: row.token_expires_at === null ? null : iso(row.token_expires_at),
    last_active: iso(lastActive),
    label: row.label,
    description: row.description,
    client: row.client,
    timeout: inactivityTimeoutSeconds ?? null,
  });
}
