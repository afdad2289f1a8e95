// The password endpoints (docs/password-flows.md).

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Negotiator from 'negotiator';
import { Type } from 'typebox';
import { changeOwnPassword } from '../../self-service/change-password.js';
import { validatePasswordFor } from '../../self-service/validate-password.js';
import { issueResetToken } from '../../password-reset/issue-reset-token.js';
import { resetPasswordWithToken } from '../../password-reset/reset-password.js';
import { resetTokenHolder } from '../../password-reset/token-holder.js';
import { actorOf, contextOf, presentedToken, requireActor } from '../auth.js';
import type { Services } from '../../services.js';
import { ChangePasswordBody, ErrorBody, Holder, HolderBody, IssuedResetToken, IssuedResetTokenText, ResetBody, SidParams, Validation, ValidatePasswordBody } from '../../shapes.js';
import { LOGIN_TOKEN_OR_NONE } from '../openapi.js';
import { resetPageUrl } from './reset-page.js';
import { secretRateLimits, tokenKey } from '../rate-limits.js';
import { parseSid } from './users.js';

// Success answers with an empty body, as PE does: there is nothing to return,
// and clients that parse JSON only when the Content-Type says so skip it.
const EMPTY = undefined as unknown as null;

export function passwordRoutes(services: Services): FastifyPluginAsyncTypebox {
  const { db } = services.store;
  const { keys, hasher, config } = services;

  return async (app) => {
    app.post(
      '/users/:sid/password/reset',
      {
        onRequest: requireActor(db),
        schema: {
          tags: ['passwords'],
          summary: 'Issue a single-use password reset token for a local user',
          description:
            'The token is the body as text/plain, or {"token", "url"} when the Accept header prefers application/json; url opens the reset page with the token filled in.',
          params: SidParams,
          response: {
            201: {
              description: 'The reset token: text/plain by default, JSON when the Accept header prefers application/json',
              content: { 'text/plain': { schema: IssuedResetTokenText }, 'application/json': { schema: IssuedResetToken } },
            },
            400: ErrorBody,
            401: ErrorBody,
            403: ErrorBody,
            404: ErrorBody,
          },
        },
      },
      async (request, reply) => {
        const sid = parseSid(request.params.sid);
        const token = await issueResetToken({ db, keys, config }, actorOf(request), sid, contextOf(request));
        reply.code(201).header('cache-control', 'no-store');
        const wantsJson = new Negotiator(request).mediaType(['text/plain', 'application/json']) === 'application/json';
        if (wantsJson) {
          const url = resetPageUrl(config.publicUrl ?? `${request.protocol}://${request.host}`, token);
          return reply.type('application/json; charset=utf-8').serializer(JSON.stringify).send({ token, url });
        }
        return reply.type('text/plain; charset=utf-8').serializer(String).send(token);
      },
    );

    const resetLimits = secretRateLimits(app, 'auth-reset', config);
    app.post(
      '/auth/reset',
      {
        preValidation: resetLimits((request) => tokenKey((request.body as { token?: unknown } | undefined)?.token)),
        schema: {
          tags: ['passwords'],
          summary: 'Set a new password with a reset token (no authentication; does not log in)',
          security: [],
          body: ResetBody,
          response: { 200: Type.Null({ description: 'empty body' }), 400: ErrorBody, 403: ErrorBody },
        },
      },
      async (request, reply) => {
        await resetPasswordWithToken({ db, keys, hasher, config, now: services.now }, request.body, request.ip);
        return reply.code(200).header('cache-control', 'no-store').send(EMPTY);
      },
    );

    // Counted with /auth/reset (same limits, same keys): the page asks once per token it is given.
    app.post(
      '/auth/reset/holder',
      {
        preValidation: resetLimits((request) => tokenKey((request.body as { token?: unknown } | undefined)?.token)),
        schema: {
          tags: ['passwords'],
          summary: "A usable reset token's holder: the login whose password it sets (no authentication; spends nothing)",
          security: [],
          description:
            "What the reset page shows once it has a token: the login, and the account's state (revoked by a lockout, an administrator or account expiry; when a lockout lifts; a password change required; the password expired under password-maximum-age-days). A token that is invalid, spent, superseded or expired is 403 invalid-token, as for POST /auth/reset.",
          body: HolderBody,
          response: { 200: Holder, 400: ErrorBody, 403: ErrorBody },
        },
      },
      async (request, reply) => reply.header('cache-control', 'no-store').send(await resetTokenHolder({ db, keys, config, now: services.now }, request.body.token)),
    );

    // Each attempt costs a hash and may write events: limited like the other secret checks,
    // per account = the authenticated user.
    const changeLimits = secretRateLimits(app, 'change-password', config);
    app.put(
      '/users/current/password',
      {
        onRequest: requireActor(db),
        preValidation: changeLimits((request) => request.actor?.id),
        schema: {
          tags: ['passwords'],
          summary: "Change the calling user's own password",
          body: ChangePasswordBody,
          response: { 200: Type.Null({ description: 'empty body' }), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
        },
      },
      async (request, reply) => {
        await changeOwnPassword({ db, hasher, config, now: services.now }, actorOf(request), request.body, request.ip);
        return reply.code(200).send(EMPTY);
      },
    );

    const validateLimits = secretRateLimits(app, 'validate-password', config);
    app.post(
      '/command/validate-password',
      {
        preValidation: validateLimits((request) => {
          const body = request.body as { reset_token?: unknown; 'reset-token'?: unknown } | undefined;
          return tokenKey(body?.reset_token ?? body?.['reset-token'] ?? presentedToken(request));
        }),
        schema: {
          tags: ['passwords'],
          summary: 'Check a password against the policy before submitting it',
          description:
            'Authenticated by a login token, or by a usable reset token in the body. With password-maximum-age-days set, the answer also carries password_maximum_age_days and password_expires_at (when a password set now must be changed).',
          security: LOGIN_TOKEN_OR_NONE,
          body: ValidatePasswordBody,
          response: { 200: Validation, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
        },
      },
      async (request) =>
        validatePasswordFor({ db, keys, hasher, config, now: services.now }, request.body.password, {
          loginToken: presentedToken(request),
          resetToken: request.body.reset_token ?? request.body['reset-token'],
        }),
    );
  };
}
