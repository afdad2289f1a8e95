// Login tokens: opaque random strings of 256 bits. Only their
// SHA-256 is stored, so a copy of the database gives no usable token. A
// token is looked up by that hash (the primary key) on every request, and
// named elsewhere (listings, revocation by id) by a public random UUID.
//
// Each token records when it was last used (last_active). Writing that on
// every request would turn every read into a write, so a request writes it
// only when the recorded time is over ACTIVITY_INTERVAL_MS old, with a
// conditional UPDATE that repeats the condition: concurrent requests, on any
// number of instances, write it once. Nothing about a token is cached: its
// revocation takes effect on the next request.

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { recordEvent, type AuditEvent } from '../audit/audit.js';
import { ServiceError } from '../errors.js';
import { assertRequesterActive, type Actor } from '../permissions/permissions.js';
import * as loginTokens from '../store/login-tokens.js';
import type { TokenHolder } from '../store/login-tokens.js';
import { inTransaction, type Db, type Executor } from '../store/transaction.js';
import * as users from '../store/users.js';
import { revokedError } from './password-check.js';

export function newLoginToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashLoginToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface TokenFacts {
  label?: string | undefined;
  description?: string | undefined;
  client?: string | undefined;
}

/** The stored row of a new login token: its hash, never the token. */
function loginTokenRecord(userId: string, token: string, expiresAt: number | null, facts: TokenFacts, now: number): loginTokens.NewLoginToken {
  return {
    token_hash: hashLoginToken(token),
    id: randomUUID(),
    user_id: userId,
    created_at: now,
    expires_at: expiresAt,
    label: facts.label ?? null,
    description: facts.description ?? null,
    client: facts.client ?? null,
  };
}

export async function storeLoginToken(
  db: Executor,
  userId: string,
  token: string,
  expiresAt: number | null,
  facts: TokenFacts,
  now = Date.now(),
): Promise<void> {
  await loginTokens.insert(db, loginTokenRecord(userId, token, expiresAt, facts, now));
}

/** The user's public fields, as far as the token lookup reads them (never the password hash). */
export type AuthenticatedUser = Pick<
  TokenHolder,
  'id' | 'login' | 'email' | 'display_name' | 'is_superuser' | 'is_remote' | 'is_revoked' | 'last_login' | 'failed_attempts' | 'locked_at' | 'revoked_by' | 'password_change_required'
>;

export interface Authenticated extends Actor {
  /** The login token's hash; undefined when a client certificate authenticated the request (api_user, CONTRACT §12). */
  tokenHash: string | undefined;
  /** The allowlisted certname that authenticated the request as api_user; undefined for a login token. */
  certname?: string | undefined;
  /** The user row read with the token: GET /users/current answers from it without reading it again. */
  user: AuthenticatedUser;
  /** The user's role ids (ascending), read in the same statement. */
  roleIds: number[];
}

// A syntactically impossible token is refused without a query.
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{16,256}$/;

/** Whether the text could be a login token (checked before any query). */
export function isTokenShaped(token: string): boolean {
  return TOKEN_SHAPE.test(token);
}

/** last_active is rewritten by requests at most this often per token. */
export const ACTIVITY_INTERVAL_MS = 60_000;

/** Records a use of the token at `now` when the recorded one is older than the interval (one conditional UPDATE; usually none). */
export async function noteActivity(db: Executor, tokenHash: string, lastActive: number, now: number): Promise<void> {
  const staleBefore = now - ACTIVITY_INTERVAL_MS;
  if (lastActive < staleBefore) await loginTokens.touch(db, tokenHash, now, staleBefore);
}

/**
 * token-inactivity-timeout (PE's session timeout): whether a token last used
 * at `lastActive` has been idle too long at `now`. `lastActive` is as
 * written, up to ACTIVITY_INTERVAL_MS behind the last use, so a token may
 * stop up to that much early — never late.
 */
export function isTimedOut(lastActive: number, timeoutSeconds: number | undefined, now: number): boolean {
  return timeoutSeconds !== undefined && now - lastActive >= timeoutSeconds * 1000;
}

export const timedOutError = () => new ServiceError('token-timed-out', 'This login token has not been used for longer than the inactivity timeout. Log in again.');

/**
 * The user a login token belongs to, or 401 when the token is unknown,
 * expired, revoked, or its user revoked; 403 token-timed-out when it has
 * been idle longer than token-inactivity-timeout (`inactivityTimeoutSeconds`).
 */
export async function authenticateLoginToken(db: Executor, token: string | undefined, now = Date.now(), inactivityTimeoutSeconds?: number): Promise<Authenticated> {
  if (!token) throw new ServiceError('user-unauthenticated', 'Authentication is required: send a login token in the X-Authentication header.');
  if (!isTokenShaped(token)) throw invalidLoginToken();
  const tokenHash = hashLoginToken(token);
  // One statement, one round trip, on every request (the token, its user's
  // flags and role ids): nothing about tokens is cached, so a revocation on
  // any instance takes effect on the next request everywhere.
  const holder = await loginTokens.check(db, tokenHash);
  if (!holder || holder.token_revoked || (holder.token_expires_at !== null && holder.token_expires_at <= now)) throw invalidLoginToken();
  if (holder.is_revoked) throw new ServiceError('user-revoked', 'This account is revoked. An administrator can reinstate it or issue a password reset token.');
  if (isTimedOut(holder.token_last_active, inactivityTimeoutSeconds, now)) throw timedOutError();
  await noteActivity(db, tokenHash, holder.token_last_active, now);
  const user: AuthenticatedUser = {
    id: holder.id,
    login: holder.login,
    email: holder.email,
    display_name: holder.display_name,
    is_superuser: holder.is_superuser,
    is_remote: holder.is_remote,
    is_revoked: holder.is_revoked,
    last_login: holder.last_login,
    failed_attempts: holder.failed_attempts,
    locked_at: holder.locked_at,
    revoked_by: holder.revoked_by,
    password_change_required: holder.password_change_required,
  };
  return { id: user.id, login: user.login, is_superuser: user.is_superuser, is_remote: user.is_remote, tokenHash, user, roleIds: holder.role_ids };
}

/** What a request with a missing, invalid, expired or revoked login token gets (401). */
export function invalidLoginToken(): ServiceError {
  return new ServiceError('user-unauthenticated', 'The login token is invalid, expired or revoked. Log in again.');
}

/** Logging out: revokes the login token that authenticates the request, and records it. */
export async function logOut(db: Db, actor: Authenticated, sourceAddress: string | null, now = Date.now()): Promise<void> {
  await inTransaction(db, async (trx) => {
    await assertRequesterActive(trx, actor);
    const party = { id: actor.id, login: actor.login };
    // A certificate is no token: there is nothing to revoke.
    if (actor.tokenHash !== undefined && (await loginTokens.revoke(trx, actor.tokenHash, now))) await recordEvent(trx, { type: 'logout', actor: party, subject: party, sourceAddress }, now);
  });
}

/**
 * The end of every successful login, atomically: the login recorded
 * (refused if the account was revoked while the password was checked), what
 * the flow adds (`alsoInTransaction`, if anything), the token stored, the
 * event written. Without additions it is one statement on PostgreSQL.
 */
export async function issueLoginToken(
  db: Db,
  user: { id: string; login: string },
  request: TokenFacts,
  lifetime: number | null,
  sourceAddress: string | null,
  alsoInTransaction?: (trx: Executor) => Promise<void>,
  /** The password was older than password-maximum-age-days: the login marked the user for a change, and its event says so. */
  passwordExpired = false,
): Promise<string> {
  const token = newLoginToken();
  const now = Date.now();
  const record = loginTokenRecord(user.id, token, lifetime === null ? null : now + lifetime * 1000, request, now);
  const party = { id: user.id, login: user.login };
  const event: AuditEvent = { type: 'login-succeeded', actor: party, subject: party, sourceAddress, details: { label: request.label ?? null, client: request.client ?? null, ...(passwordExpired ? { password_expired: true as const } : {}) } };
  if (!alsoInTransaction) {
    if (!(await loginTokens.insertRecordingLogin(db, record, event))) throw revokedError();
    return token;
  }
  await inTransaction(db, async (trx) => {
    if (!(await users.recordLogin(trx, user.id, now))) throw revokedError();
    await alsoInTransaction(trx);
    await loginTokens.insert(trx, record);
    await recordEvent(trx, event, now);
  });
  return token;
}
