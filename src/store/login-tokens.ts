// The login_tokens table: only each token's SHA-256 is stored. Looked up by
// that hash (the primary key) on every authenticated request.

import type { Executor } from './transaction.js';
import { PUBLIC_COLUMNS, toPublicRecord, type PublicUserRecord } from './users.js';

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
export interface TokenHolder extends PublicUserRecord {
  token_expires_at: number | null;
  token_revoked: boolean;
}

export async function holderOf(db: Executor, tokenHash: string): Promise<TokenHolder | undefined> {
  const row = await db
    .selectFrom('login_tokens')
    .innerJoin('users', 'users.id', 'login_tokens.user_id')
    .select([...PUBLIC_COLUMNS, 'login_tokens.expires_at', 'login_tokens.revoked_at'])
    .where('login_tokens.token_hash', '=', tokenHash)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    ...toPublicRecord(row),
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
