import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { login } from '../../auth/login.js';
import { revokeLoginToken } from '../../auth/login-tokens.js';
import { loginKey } from '../../users/users.js';
import { actorOf, requireActor } from '../auth.js';
import { secretRateLimits } from '../rate-limits.js';
import type { Services } from '../app.js';
import { ErrorBody, LoginBody, TokenResponse } from '../schemas.js';

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
      await revokeLoginToken(db, actorOf(request).tokenHash);
      return reply.code(204).send();
    },
  };
}

/** PE's v2 route: DELETE /rbac-api/v2/tokens revokes the token that authenticates the request. */
export function authRoutesV2(services: Services): FastifyPluginAsyncTypebox {
  const { db } = services.store;
  return async (app) => {
    const loggingOut = logout(db);
    app.delete('/tokens', loggingOut.options, loggingOut.handler);
  };
}
