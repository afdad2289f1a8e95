import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { login } from '../../login/login.js';
import { logOut } from '../../login/login-tokens.js';
import { loginKey } from '../../users/users.js';
import { actorOf, requireActor } from '../auth.js';
import { secretRateLimits } from '../rate-limits.js';
import type { Services } from '../../services.js';
import { ErrorBody, LoginBody, TokenResponse } from '../../shapes.js';

export function authRoutes(services: Services): FastifyPluginAsyncTypebox {
  const { db } = services.store;
  return async (app) => {
    const limited = secretRateLimits(app, 'auth-token', services.config);
    app.post(
      '/auth/token',
      {
        preValidation: limited((request) => {
          const login = (request.body as { login?: unknown } | undefined)?.login;
          return typeof login === 'string' ? loginKey(login) : undefined;
        }),
        schema: {
          tags: ['tokens'],
          summary: 'Log in: exchange a login and password for a login token',
          security: [],
          body: LoginBody,
          response: { 200: TokenResponse, 400: ErrorBody, 401: ErrorBody, 429: ErrorBody, 503: ErrorBody },
        },
      },
      async (request, reply) => {
        const token = await login({ db, hasher: services.hasher, config: services.config, now: services.now }, request.body, request.ip);
        return reply.header('cache-control', 'no-store').send({ token });
      },
    );

    app.delete(
      '/tokens/current',
      { onRequest: requireActor(db), schema: { tags: ['tokens'], summary: 'Revoke the login token used for this request (log out)', response: { 204: Type.Null(), 401: ErrorBody } } },
      async (request, reply) => {
        await logOut(db, actorOf(request), request.ip);
        return reply.code(204).send(null);
      },
    );
  };
}
