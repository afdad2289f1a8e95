// A caller's own login tokens beyond the one it logged in with: POST /tokens
// issues another (same lifetime rules as POST /auth/token), GET
// /users/:sid/tokens lists a user's live ones — their metadata, never the
// token or its hash.

import { recordEvent } from '../audit/audit.js';
import { tokenLifetimeSeconds, type LoginDeps } from '../login/login.js';
import { newLoginToken, storeLoginToken, type Authenticated, type TokenFacts } from '../login/login-tokens.js';
import { notFound } from '../errors.js';
import * as loginTokens from '../store/login-tokens.js';
import type { TokenOrder } from '../store/login-tokens.js';
import { inTransaction, type Executor } from '../store/transaction.js';
import * as users from '../store/users.js';
import { assertMayManageTokensOf, assertRequesterActive, type Requester } from '../users/authorization.js';

export interface IssueRequest extends TokenFacts {
  lifetime?: string | number | undefined;
}

/**
 * POST /tokens: a new login token for the authenticated caller. The lifetime
 * follows POST /auth/token's rules: token-auth-lifetime by default, never
 * beyond token-maximum-lifetime (0 asks for the maximum).
 */
export async function issueToken(deps: Pick<LoginDeps, 'db' | 'config'>, actor: Authenticated, request: IssueRequest, sourceAddress: string | null, now = Date.now()): Promise<string> {
  const lifetime = tokenLifetimeSeconds(request.lifetime, deps.config);
  const token = newLoginToken();
  const expiresAt = lifetime === null ? null : now + lifetime * 1000;
  await inTransaction(deps.db, async (trx) => {
    // A revocation of the caller that committed since its token was checked wins.
    await assertRequesterActive(trx, actor);
    await storeLoginToken(trx, actor.id, token, expiresAt, request, now);
    const party = { id: actor.id, login: actor.login };
    await recordEvent(
      trx,
      {
        type: 'login-token-issued',
        actor: party,
        subject: party,
        sourceAddress,
        details: { label: request.label ?? null, client: request.client ?? null, expires_at: expiresAt === null ? null : new Date(expiresAt).toISOString() },
      },
      now,
    );
  });
  return token;
}

/** PE's names for the orders GET /users/:sid/tokens takes, and the columns behind them. */
export const TOKEN_ORDERS = { creation_date: 'created_at', expiration_date: 'expires_at', last_active_date: 'last_active', client: 'client' } as const satisfies Record<string, TokenOrder>;
export type TokenOrderName = keyof typeof TOKEN_ORDERS;

export interface ListedToken {
  id: string;
  creation_date: string;
  expiration_date: string | null;
  last_active_date: string;
  label: string | null;
  description: string | null;
  client: string | null;
}

export interface TokenPage {
  limit?: number | undefined;
  offset: number;
  order_by: TokenOrderName;
  order: 'asc' | 'desc';
}

const iso = (epochMs: number) => new Date(epochMs).toISOString();

/** GET /users/:sid/tokens (and `rbac tokens list`): the user's live tokens (neither revoked nor expired), for the user itself or a holder of users:disable on it. */
export async function listTokens(db: Executor, actor: Requester, userId: string, page: TokenPage, now = Date.now()): Promise<{ items: ListedToken[]; total: number }> {
  const exists = actor?.id === userId || (await users.isRevoked(db, userId)) !== undefined;
  await assertMayManageTokensOf(db, actor, exists ? userId : undefined);
  if (!exists) throw notFound('The user');
  const { tokens, total } = await loginTokens.pageOfLive(db, userId, now, { limit: page.limit, offset: page.offset, orderBy: TOKEN_ORDERS[page.order_by], order: page.order });
  return {
    total,
    items: tokens.map((token) => ({
      id: token.id,
      creation_date: iso(token.created_at),
      expiration_date: token.expires_at === null ? null : iso(token.expires_at),
      last_active_date: iso(token.last_active),
      label: token.label,
      description: token.description,
      client: token.client,
    })),
  };
}
