// The reset_tokens table: each reset token's jti, user, signing key and
// state. The token itself is never stored; whether it can still be used is
// decided here, by conditions on its row, on every instance alike.

import type { ExpressionBuilder } from 'kysely';
import type { Executor } from './transaction.js';
import type { Database } from './schema.js';

export interface NewResetToken {
  jti: string;
  user_id: string;
  kid: string;
  issued_at: number;
  expires_at: number;
  /** Who issued it; null for the operator at the server. */
  issued_by: string | null;
}

/** The claims that name a token's row. */
export interface TokenIdentity {
  jti: string;
  sub: string;
  kid: string;
}

type Where = ExpressionBuilder<Database, 'reset_tokens'>;

/** A token neither spent nor cancelled (superseded, or cancelled by a change to its user or key). */
const isLive = (eb: Where) => eb.and([eb('spent_at', 'is', null), eb('superseded_at', 'is', null)]);

/**
 * The one rule for a reset token that can be used now: its row names this
 * jti, user and signing key, it is live and unexpired, and the key that
 * signed it is not retired. Binding the row to its kid means a retired (say,
 * leaked) key cannot sign a working copy of a live token's claims.
 */
const isUsable = (token: TokenIdentity, now: number) => (eb: Where) =>
  eb.and([
    eb('jti', '=', token.jti),
    eb('user_id', '=', token.sub),
    eb('kid', '=', token.kid),
    isLive(eb),
    eb('expires_at', '>', now),
    eb('kid', 'in', eb.selectFrom('signing_keys').select('signing_keys.kid').where('signing_keys.retired_at', 'is', null)),
  ]);

export async function insert(db: Executor, token: NewResetToken): Promise<void> {
  await db.insertInto('reset_tokens').values({ ...token, spent_at: null, superseded_at: null }).execute();
}

export async function isUsableNow(db: Executor, token: TokenIdentity, now: number): Promise<boolean> {
  return (await db.selectFrom('reset_tokens').select('jti').where(isUsable(token, now)).executeTakeFirst()) !== undefined;
}

/** Spends the token if it is usable: of any number of concurrent calls, one gets true. */
export async function spend(db: Executor, token: TokenIdentity, now: number): Promise<boolean> {
  return (await db.updateTable('reset_tokens').set({ spent_at: now }).where(isUsable(token, now)).returning('jti').executeTakeFirst()) !== undefined;
}

/** Cancels the user's live tokens; how many. */
export async function cancelLiveOf(db: Executor, userId: string, now: number): Promise<number> {
  const result = await db.updateTable('reset_tokens').set({ superseded_at: now }).where('user_id', '=', userId).where(isLive).executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Cancels the live, unexpired tokens a key signed; how many. */
export async function cancelSignedBy(db: Executor, kid: string, now: number): Promise<number> {
  const result = await db.updateTable('reset_tokens').set({ superseded_at: now }).where('kid', '=', kid).where(isLive).where('expires_at', '>', now).executeTakeFirst();
  return Number(result.numUpdatedRows);
}
