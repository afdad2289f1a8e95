// Login tokens (CONTRACT §4): opaque random strings of 256 bits. Only their
// SHA-256 is stored, so a copy of the database gives no usable token. A
// token is looked up by that hash (the primary key) on every request.

import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { type Executor, inTransaction, recordEvent } from '../audit/audit.js';
import { ServiceError } from '../errors.js';
import type { Actor } from '../permissions/permissions.js';
import type { Database, UserRow } from '../store/schema.js';

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

/** The user's public fields, as far as the token lookup reads them (never the password hash). */
export type AuthenticatedUser = Pick<UserRow, 'id' | 'login' | 'email' | 'display_name' | 'is_superuser' | 'is_remote' | 'is_revoked' | 'last_login'>;

export interface Authenticated extends Actor {
  tokenHash: string;
  /** The user row read with the token: GET /users/current answers from it without reading it again. */
  user: AuthenticatedUser;
}

// A syntactically impossible token is refused without a query.
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{16,256}$/;

/** The user a login token belongs to, or 401 when the token is unknown, expired, revoked, or its user revoked. */
export async function authenticateLoginToken(db: Executor, token: string | undefined, now = Date.now()): Promise<Authenticated> {
  if (!token) throw new ServiceError('user-unauthenticated', 'Authentication is required: send a login token in the X-Authentication header.');
  if (!TOKEN_SHAPE.test(token)) throw invalidLoginToken();
  const tokenHash = hashLoginToken(token);
  // One indexed lookup, on every request: nothing about tokens is cached, so a
  // revocation on any instance takes effect on the next request everywhere.
  const row = await db
    .selectFrom('login_tokens')
    .innerJoin('users', 'users.id', 'login_tokens.user_id')
    .select([
      'users.id',
      'users.login',
      'users.email',
      'users.display_name',
      'users.is_superuser',
      'users.is_remote',
      'users.is_revoked',
      'users.last_login',
      'login_tokens.expires_at',
      'login_tokens.revoked_at',
    ])
    .where('login_tokens.token_hash', '=', tokenHash)
    .executeTakeFirst();
  if (!row || row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= now)) throw invalidLoginToken();
  if (row.is_revoked === 1) throw new ServiceError('user-revoked', 'This account is revoked. An administrator can reinstate it or issue a password reset token.');
  const user: AuthenticatedUser = {
    id: row.id,
    login: row.login,
    email: row.email,
    display_name: row.display_name,
    is_superuser: row.is_superuser,
    is_remote: row.is_remote,
    is_revoked: row.is_revoked,
    last_login: row.last_login,
  };
  return { id: row.id, login: row.login, is_superuser: row.is_superuser === 1, is_remote: row.is_remote === 1, tokenHash, user };
}

function invalidLoginToken(): ServiceError {
  return new ServiceError('user-unauthenticated', 'The login token is invalid, expired or revoked. Log in again.');
}

/** Logging out: revokes the login token that authenticates the request, and records it. */
export async function logOut(db: Kysely<Database>, actor: Authenticated, sourceAddress: string | null, now = Date.now()): Promise<void> {
  await inTransaction(db, async (trx) => {
    const revoked = await trx
      .updateTable('login_tokens')
      .set({ revoked_at: now })
      .where('token_hash', '=', actor.tokenHash)
      .where('revoked_at', 'is', null)
      .returning('token_hash')
      .executeTakeFirst();
    const party = { id: actor.id, login: actor.login };
    if (revoked) await recordEvent(trx, { type: 'logout', actor: party, subject: party, sourceAddress }, now);
  });
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
