// DELETE /rbac-api/v2/tokens: revoking exactly the login tokens a request
// names, and DELETE /rbac-api/v2/tokens/:token (superusers).
//
// A request names tokens four ways, any mix of them, from the query
// (comma-separated) and a JSON body (arrays), combined:
//   revoke_tokens               whole tokens: holding a token is enough to revoke it
//   revoke_tokens_by_usernames  every token of these users
//   revoke_tokens_by_labels     the caller's own tokens with these labels
//   revoke_tokens_by_ids        tokens by their public id (GET /users/:sid/tokens);
//                               an id that is a user's id names that user's tokens,
//                               as PE's current documents and its Ruby client read it
// Another user's tokens need users:disable on that user. Everything is
// decided before anything is revoked, in one transaction: a request that is
// refused anywhere revokes nothing, and one that is accepted revokes exactly
// what it named (already revoked or unknown tokens are no error: revoking is
// idempotent).

import { partyOf, recordEvents, type AuditEvent, type TokenRevocationRoute } from '../audit/audit.js';
import { ServiceError } from '../errors.js';
import { MAX_LIST_ITEMS } from '../shapes.js';
import { hashLoginToken, isTokenShaped, type Authenticated } from '../login/login-tokens.js';
import { invalidUuid, isUuid } from '../permissions/user-ids.js';
import * as loginTokens from '../store/login-tokens.js';
import type { RevocableToken } from '../store/login-tokens.js';
import { inTransaction, type Db, type Executor } from '../store/transaction.js';
import * as users from '../store/users.js';
import { loginKey } from '../logins.js';
import { assertMayManageTokensOf, assertMayRevokeAnyToken, assertRequesterActive, type Requester } from '../users/authorization.js';

export const REVOCATION_PARAMETERS = ['revoke_tokens', 'revoke_tokens_by_usernames', 'revoke_tokens_by_labels', 'revoke_tokens_by_ids'] as const;
export type RevocationParameter = (typeof REVOCATION_PARAMETERS)[number];
export type Revocation = Record<RevocationParameter, string[]>;

/**
 * Checks what a request names before any query: at least one name, at most
 * MAX_LIST_ITEMS for each parameter (the query's and the body's together;
 * each alone is bounded by its shape), tokens that could be tokens, ids
 * that are UUIDs.
 */
export function assertWellFormed(request: Revocation): void {
  const tooMany = REVOCATION_PARAMETERS.find((parameter) => request[parameter].length > MAX_LIST_ITEMS);
  if (tooMany !== undefined) {
    throw new ServiceError(
      'schema-violation',
      `${tooMany} names ${request[tooMany].length} entries in the query and the body together; a request names at most ${MAX_LIST_ITEMS} for each parameter. Nothing was revoked.`,
      { parameter: tooMany, limit: MAX_LIST_ITEMS },
    );
  }
  if (REVOCATION_PARAMETERS.every((parameter) => request[parameter].length === 0)) {
    throw new ServiceError(
      'schema-violation',
      `Name the tokens to revoke with at least one of ${REVOCATION_PARAMETERS.join(', ')} (in the query, comma-separated, or in a JSON body as arrays). Nothing was revoked; to log out, use DELETE /rbac-api/v1/tokens/current.`,
      { parameters: REVOCATION_PARAMETERS },
    );
  }
  const badToken = request.revoke_tokens.findIndex((token) => !isTokenShaped(token));
  if (badToken >= 0) throw new ServiceError('schema-violation', `revoke_tokens[${badToken}] is not a login token. Nothing was revoked.`, { parameter: 'revoke_tokens', index: badToken });
  const badId = request.revoke_tokens_by_ids.findIndex((id) => !isUuid(id));
  if (badId >= 0) throw invalidUuid(`revoke_tokens_by_ids[${badId}] (a token's id or a user's id)`, ' Nothing was revoked.');
}

/** Each token the request names, deduplicated; throws 403 (or 404) for the first owner the caller may not act on. */
async function namedTokens(trx: Executor, actor: Requester, request: Revocation): Promise<RevocableToken[]> {
  const named = new Map<string, RevocableToken>();
  const add = (tokens: readonly RevocableToken[]) => tokens.forEach((token) => named.set(token.token_hash, token));
  const owners = new Set<string>();

  // Whole tokens: whoever holds one may revoke it.
  add(await loginTokens.unrevokedByHashes(trx, request.revoke_tokens.map(hashLoginToken)));
  // Labels name the caller's own tokens: the operator at the server (null) holds none.
  if (actor) add(await loginTokens.unrevokedByLabels(trx, actor.id, request.revoke_tokens_by_labels));

  const userIds = new Set<string>();
  const byLogin = new Map((await users.partiesByLoginKeys(trx, [...new Set(request.revoke_tokens_by_usernames.map(loginKey))])).map((user) => [user.login_key, user.id]));
  for (const login of request.revoke_tokens_by_usernames) {
    const userId = byLogin.get(loginKey(login));
    await assertMayManageTokensOf(trx, actor, userId);
    if (userId) userIds.add(userId);
  }
  const ids = request.revoke_tokens_by_ids.map((id) => id.toLowerCase());
  const byId = await loginTokens.byIds(trx, ids);
  for (const token of byId) {
    owners.add(token.user_id);
    if (!token.revoked) add([token]);
  }
  const tokenIds = new Set(byId.map((token) => token.id));
  const otherIds = ids.filter((id) => !tokenIds.has(id));
  const existing = new Set((await users.partiesOf(trx, otherIds)).map((user) => user.id));
  for (const id of otherIds) {
    await assertMayManageTokensOf(trx, actor, existing.has(id) ? id : undefined);
    userIds.add(id);
  }
  for (const owner of owners) await assertMayManageTokensOf(trx, actor, owner);
  add(await loginTokens.unrevokedOfUsers(trx, [...userIds]));
  return [...named.values()];
}

/**
 * DELETE /rbac-api/v2/tokens (and `rbac tokens revoke`, `via` says which):
 * revokes exactly the tokens the request names, or nothing when any part is
 * refused; how many it revoked.
 */
export async function revokeTokens(
  db: Db,
  actor: Requester,
  request: Revocation,
  sourceAddress: string | null,
  now = Date.now(),
  via: TokenRevocationRoute = 'DELETE /rbac-api/v2/tokens',
): Promise<number> {
  assertWellFormed(request);
  return inTransaction(db, async (trx) => {
    await assertRequesterActive(trx, actor);
    const named = await namedTokens(trx, actor, request);
    return revokeAndRecord(trx, actor, named, via, sourceAddress, now);
  });
}

/** DELETE /rbac-api/v2/tokens/:token: a superuser revokes one token (204 whether or not it was live). */
export async function revokeTokenByPath(db: Db, actor: Authenticated, token: string, sourceAddress: string | null, now = Date.now()): Promise<void> {
  assertMayRevokeAnyToken(actor);
  if (!isTokenShaped(token)) throw new ServiceError('schema-violation', 'The path does not name a login token. Nothing was revoked.');
  await inTransaction(db, async (trx) => {
    await assertRequesterActive(trx, actor);
    const named = await loginTokens.unrevokedByHashes(trx, [hashLoginToken(token)]);
    await revokeAndRecord(trx, actor, named, 'DELETE /rbac-api/v2/tokens/:token', sourceAddress, now);
  });
}

/** Revokes the tokens and records one `tokens-revoked` event per user whose tokens this revoked; how many it revoked. */
async function revokeAndRecord(trx: Executor, actor: Requester, named: readonly RevocableToken[], via: TokenRevocationRoute, sourceAddress: string | null, now: number): Promise<number> {
  const revoked = await loginTokens.revokeByHashes(trx, named.map((token) => token.token_hash), now);
  if (revoked.length === 0) return 0;
  const byOwner = new Map<string, string[]>();
  for (const token of revoked) {
    const ids = byOwner.get(token.user_id);
    if (ids) ids.push(token.id);
    else byOwner.set(token.user_id, [token.id]);
  }
  const parties = new Map((await users.partiesOf(trx, [...byOwner.keys()])).map((user) => [user.id, user]));
  const events: AuditEvent[] = [...byOwner].map(([owner, tokenIds]) => ({
    type: 'tokens-revoked',
    actor: actor ? partyOf(actor) : null,
    subject: parties.get(owner) ?? { id: owner, login: null },
    sourceAddress,
    details: { count: tokenIds.length, token_ids: tokenIds.sort(), via },
  }));
  await recordEvents(trx, events, now);
  return revoked.length;
}
