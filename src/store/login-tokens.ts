// The login_tokens table: only each token's SHA-256 is stored. Looked up by
// that hash (the primary key) on every authenticated request.

import type { Executor } from './transaction.js';

export interface NewLoginToken {
  token_hash: string;
  user_id: string;
  created_at: number;
  /** null: never expires (only when token-maximum-lifetime is 0). */
  expires_at: number | null;
  label: string | null;
  description: string | null;
  client: string | null;
}

export async function insert(db: Executor, token: NewLoginToken): Promise<void> {
  await db.insertInto('login_tokens').values({ ...token, revoked_at: null }).execute();
}

/** A token and the public fields of its user, as the one lookup of every authenticated request reads them. */
export interface TokenHolder {
  id: string;
  login: string;
  email: string;
  display_name: string;
  is_superuser: boolean;
  is_remote: boolean;
  is_revoked: boolean;
  last_login: Date | null;
  token_expires_at: number | null;
  token_revoked: boolean;
}

export async function holderOf(db: Executor, tokenHash: string): Promise<TokenHolder | undefined> {
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
  if (!row) return undefined;
  return {
    id: row.id,
    login: row.login,
    email: row.email,
    display_name: row.display_name,
    is_superuser: row.is_superuser === 1,
    is_remote: row.is_remote === 1,
    is_revoked: row.is_revoked === 1,
    last_login: row.last_login === null ? null : new Date(row.last_login),
    token_expires_at: row.expires_at,
    token_revoked: row.revoked_at !== null,
  };
}

/** Revokes one live token; true when it was live. */
export async function revoke(db: Executor, tokenHash: string, now: number): Promise<boolean> {
  const row = await db
    .updateTable('login_tokens')
    .set({ revoked_at: now })
    .where('token_hash', '=', tokenHash)
    .where('revoked_at', 'is', null)
    .returning('token_hash')
    .executeTakeFirst();
  return row !== undefined;
}

/** Revokes every live token of a user, except optionally the one in use. */
export async function revokeAllOf(db: Executor, userId: string, now: number, except?: string): Promise<void> {
  let query = db.updateTable('login_tokens').set({ revoked_at: now }).where('user_id', '=', userId).where('revoked_at', 'is', null);
  if (except !== undefined) query = query.where('token_hash', '!=', except);
  await query.execute();
}
