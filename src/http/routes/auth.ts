import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { login } from '../../login/login.js';
import { logOut } from '../../login/login-tokens.js';
import { ServiceError } from '../../errors.js';
import { loginKey } from '../../users/users.js';
import { actorOf, requireActor } from '../auth.js';
import { secretRateLimits } from '../rate-limits.js';
import type { Services } from '../../services.js';
import { ErrorBody, LoginBody, TokenResponse } from '../../shapes.js';

export function authRoutes(services: Services): FastifyPluginAsyncTypebox {
  const { db } = services.store;
  return async (app) => {
    const limits = secretRateLimits(app, 'auth-token', services.config);
    app.post(
      '/auth/token',
      {
        onRequest: limits.byAddress,
        preHandler: limits.byAccount((request) => {
          const login = (request.body as { login?: unknown } | undefined)?.login;
          return typeof login === 'string' ? loginKey(login) : undefined;
        }),
        schema: {
          summary: 'Log in: exchange a login and password for a login token',
          body: LoginBody,
          response: { 200: TokenResponse, 401: ErrorBody, 429: ErrorBody },
        },
      },
      async (request, reply) => {
        const token = await login({ db, hasher: services.hasher, config: services.config }, request.body, request.ip);
        return reply.header('cache-control', 'no-store').send({ token });
      },
    );

    const loggingOut = logout(db);
    app.delete('/tokens/current', loggingOut.options, loggingOut.handler);
  };
}

/** Revoking the login token that authenticates the request (logging out), for the v1 and v2 routes. */
function logout(db: Services['store']['db']) {
  return {
    options: { onRequest: requireActor(db), schema: { summary: 'Revoke the login token used for this request', response: { 204: Type.Null(), 401: ErrorBody } } },
    async handler(request: FastifyRequest, reply: FastifyReply) {
      await logOut(db, actorOf(request), request.ip);
      return reply.code(204).send();
    },
  };
}

// PE's v2 DELETE /tokens revokes the tokens its parameters name. Until that
// is built, a request naming tokens is refused rather than answered by
// revoking something else: a script revoking a stolen token must not be told
// it succeeded while that token keeps working.
const NAMED_TOKEN_PARAMETERS = ['revoke_tokens', 'revoke_tokens_by_usernames', 'revoke_tokens_by_labels', 'revoke_tokens_by_ids'];

function refuseNamedTokens(request: FastifyRequest): void {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const body = request.body;
  const bodyKeys = body !== undefined && body !== null && typeof body === 'object' && !Array.isArray(body) ? Object.keys(body) : body === undefined ? [] : ['(body)'];
  const named = [...Object.keys(query).filter((key) => key !== 'token'), ...bodyKeys];
  if (named.length > 0) {
    throw new ServiceError(
      'schema-violation',
      `DELETE /rbac-api/v2/tokens here revokes only the token that authenticates the request; ${named.some((key) => NAMED_TOKEN_PARAMETERS.includes(key)) ? 'revoking tokens by name, user, label or id is not supported yet' : `"${named[0]}" is not a parameter it takes`}. Nothing was revoked.`,
      { parameters: named },
    );
  }
}

/** PE's v2 route: DELETE /rbac-api/v2/tokens without parameters revokes the token that authenticates the request. */
export function authRoutesV2(services: Services): FastifyPluginAsyncTypebox {
  const { db } = services.store;
  return async (app) => {
    const loggingOut = logout(db);
    app.delete('/tokens', { ...loggingOut.options, preHandler: async (request) => refuseNamedTokens(request) }, loggingOut.handler);
  };
}
