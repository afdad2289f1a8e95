// Login tokens (CONTRACT §4): opaque random strings of 256 bits. Only their
// SHA-256 is stored, so a copy of the database gives no usable token. A
// token is looked up by that hash (the primary key) on every request.

import { createHash, randomBytes } from 'node:crypto';
import type { Executor } from '../audit/audit.js';
import { ServiceError } from '../errors.js';
import type { Actor } from '../permissions/permissions.js';

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

export async function storeLoginToken(
  db: Executor,
  userId: string,
  token: string,
  expiresAt: number | null,
  facts: TokenFacts,
  now = Date.now(),
): Promise<void> {
  await db
    .insertInto('login_tokens')
    .values({
      token_hash: hashLoginToken(token),
      user_id: userId,
      created_at: now,
      expires_at: expiresAt,
      revoked_at: null,
      label: facts.label ?? null,
      description: facts.description ?? null,
      client: facts.client ?? null,
    })
    .execute();
}

export interface Authenticated extends Actor {
  tokenHash: string;
}

// A syntactically impossible token is refused without a query.
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{16,256}$/;

/** The user a login token belongs to, or 401 when the token is unknown, expired, revoked, or its user revoked. */
export async function authenticateLoginToken(db: Executor, token: string | undefined, now = Date.now()): Promise<Authenticated> {
  if (!token) throw new ServiceError('user-unauthenticated', 'Authentication is required: send a login token in the X-Authentication header.');
  if (!TOKEN_SHAPE.test(token)) throw invalidLoginToken();
  const tokenHash = hashLoginToken(token);
  const row = await db
    .selectFrom('login_tokens')
    .innerJoin('users', 'users.id', 'login_tokens.user_id')
    .select(['users.id', 'users.login', 'users.is_superuser', 'users.is_remote', 'users.is_revoked', 'login_tokens.expires_at', 'login_tokens.revoked_at'])
    .where('login_tokens.token_hash', '=', tokenHash)
    .executeTakeFirst();
  if (!row || row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= now)) throw invalidLoginToken();
  if (row.is_revoked === 1) throw new ServiceError('user-revoked', 'This account is revoked. An administrator can reinstate it or issue a password reset token.');
  return { id: row.id, login: row.login, is_superuser: row.is_superuser === 1, is_remote: row.is_remote === 1, tokenHash };
}

function invalidLoginToken(): ServiceError {
  return new ServiceError('user-unauthenticated', 'The login token is invalid, expired or revoked. Log in again.');
}

export async function revokeLoginToken(db: Executor, tokenHash: string, now = Date.now()): Promise<void> {
  await db.updateTable('login_tokens').set({ revoked_at: now }).where('token_hash', '=', tokenHash).where('revoked_at', 'is', null).execute();
}

/** Revokes every live token of a user, except optionally the one in use. */
export async function revokeAllLoginTokens(db: Executor, userId: string, options: { except?: string; now?: number } = {}): Promise<void> {
  let query = db
    .updateTable('login_tokens')
    .set({ revoked_at: options.now ?? Date.now() })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null);
  if (options.except) query = query.where('token_hash', '!=', options.except);
  await query.execute();
}
