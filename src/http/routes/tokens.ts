// Login tokens beyond logging in and out (CONTRACT §10): issuing one more
// (POST /tokens), listing a user's (GET /users/:sid/tokens), revoking by
// name (DELETE /rbac-api/v2/tokens, DELETE /rbac-api/v2/tokens/:token), and
// introspection for other services (POST /rbac-api/v2/auth/token/authenticate).

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../../services.js';
import {
  ErrorBody,
  Introspection,
  IntrospectionBody,
  LIST_BODY_LIMIT,
  NewTokenBody,
  RevokeTokensBody,
  RevokeTokensQuery,
  SidParams,
  TokenList,
  TokenListQuery,
  TokenParams,
  TokenResponse,
} from '../../shapes.js';
import { introspectToken } from '../../tokens/introspection.js';
import { REVOCATION_PARAMETERS, revokeTokenByPath, revokeTokens, type Revocation } from '../../tokens/revoke-tokens.js';
import { issueToken, listTokens } from '../../tokens/tokens.js';
import { actorOf, requireActor } from '../auth.js';
import { parseSid } from './users.js';

/** preValidation: a request without a body is validated as `{}` (curl -X POST without -d; a DELETE with only query parameters). */
async function noBodyIsEmptyObject(request: FastifyRequest): Promise<void> {
  request.body ??= {};
}

export function tokenRoutes(services: Services): FastifyPluginAsyncTypebox {
  const { db } = services.store;
  const authenticated = requireActor(db);
  return async (app) => {
    app.post(
      '/tokens',
      {
        // api_user has no login tokens (PE): a client certificate alone is no credential here.
        onRequest: requireActor(db, { certificates: false }),
        preValidation: noBodyIsEmptyObject,
        schema: {
          tags: ['tokens'],
          summary: 'A new login token for the caller',
          description:
            'Lifetime as for POST /auth/token: token-auth-lifetime by default, never beyond token-maximum-lifetime. Needs a login token: a client certificate on the allowlist (api_user) is refused, as in PE.',
          body: NewTokenBody,
          response: { 200: TokenResponse, 400: ErrorBody, 401: ErrorBody },
        },
      },
      async (request, reply) => {
        const token = await issueToken({ db, config: services.config }, actorOf(request), request.body, request.ip);
        return reply.header('cache-control', 'no-store').send({ token });
      },
    );

    app.get(
      '/users/:sid/tokens',
      {
        onRequest: authenticated,
        schema: {
          tags: ['tokens'],
          summary: "A user's live login tokens: metadata, never the tokens",
          description: 'For the user itself, or a holder of users:disable on that user (a superuser for a superuser).',
          params: SidParams,
          querystring: TokenListQuery,
          response: { 200: TokenList, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
        },
      },
      async (request) => {
        const { query } = request;
        const page = {
          limit: query.limit === undefined ? undefined : Number(query.limit),
          offset: Number(query.offset ?? 0),
          order_by: query.order_by ?? 'creation_date',
          order: query.order ?? 'asc',
        } as const;
        const { items, total } = await listTokens(db, actorOf(request), parseSid(request.params.sid), page);
        return { items, pagination: { ...page, limit: page.limit ?? null, total } };
      },
    );
  };
}

/** The names each parameter gives, from the query (comma-separated) and the body (arrays) together. */
function revocationOf(query: Record<string, string | undefined>, body: RevokeTokensBody): Revocation {
  const names = (parameter: (typeof REVOCATION_PARAMETERS)[number]) => [
    ...(query[parameter] ?? '').split(','),
    ...(body[parameter] ?? []),
  ].map((name) => name.trim()).filter((name) => name !== '');
  return Object.fromEntries(REVOCATION_PARAMETERS.map((parameter) => [parameter, names(parameter)])) as Revocation;
}

export function tokenRoutesV2(services: Services): FastifyPluginAsyncTypebox {
  const { db } = services.store;
  const authenticated = requireActor(db);
  return async (app) => {
    app.delete(
      '/tokens',
      {
        onRequest: authenticated,
        preValidation: noBodyIsEmptyObject,
        bodyLimit: LIST_BODY_LIMIT,
        schema: {
          tags: ['tokens'],
          summary: 'Revoke exactly the login tokens named',
          description:
            'At least one of revoke_tokens, revoke_tokens_by_usernames, revoke_tokens_by_labels, revoke_tokens_by_ids, comma-separated in the query or as arrays in a JSON body. ' +
            "Another user's tokens need users:disable on that user; a refusal revokes nothing. To log out, use DELETE /rbac-api/v1/tokens/current.",
          querystring: RevokeTokensQuery,
          body: RevokeTokensBody,
          response: { 204: Type.Null(), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
        },
      },
      async (request, reply) => {
        await revokeTokens(db, actorOf(request), revocationOf(request.query, request.body), request.ip);
        return reply.code(204).send(null);
      },
    );

    app.delete(
      '/tokens/:token',
      {
        onRequest: authenticated,
        schema: { tags: ['tokens'], summary: 'Revoke one login token (superusers)', params: TokenParams, response: { 204: Type.Null(), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody } },
      },
      async (request, reply) => {
        await revokeTokenByPath(db, actorOf(request), request.params.token, request.ip);
        return reply.code(204).send(null);
      },
    );

    // No rate limit (CONTRACT §10): a service behind this one asks from one
    // address for all its users, and a junk token costs what any request's
    // token check costs (a SHA-256 and an index lookup), never a password hash.
    app.post(
      '/auth/token/authenticate',
      {
        schema: {
          tags: ['tokens'],
          summary: 'Token introspection: the user and facts of a login token (no authentication)',
          security: [],
          body: IntrospectionBody,
          description: '403 token-revoked, token-expired, or token-timed-out (idle longer than token-inactivity-timeout, which `timeout` shows in seconds).',
          response: { 200: Introspection, 400: ErrorBody, 403: ErrorBody },
        },
      },
      async (request, reply) => {
        const answer = await introspectToken(db, services.config, request.body.token, request.body['update_last_activity?'] ?? false, Date.now(), services.config.tokenInactivityTimeoutSeconds);
        return reply.header('cache-control', 'no-store').send(answer);
      },
    );
  };
}
