import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { checkPermissions, permittedFor } from '../../permissions/permissions.js';
import { actorOf, requireActor } from '../auth.js';
import type { Services } from '../../services.js';
import { ErrorBody, Instances, LIST_BODY_LIMIT, ListQuery, PermittedAnswer, PermittedBody, PermittedParams, PermittedUserParams } from '../../shapes.js';
import { parseSid } from './users.js';


/** PE's permission checks: what a user may do. */
export function permissionRoutes(services: Services): FastifyPluginAsyncTypebox {
  const { db } = services.store;
  const authenticated = requireActor(db);

  return async (app) => {
    app.post(
      '/permitted',
      {
        onRequest: authenticated,
        bodyLimit: LIST_BODY_LIMIT,
        schema: {
          tags: ['permissions'],
          summary: 'Whether a user or a group holds each of these permissions',
          description:
            "`token` is a user's id, or a group's (its roles' permissions), as in PE. Asking about another user needs a superuser or a permission on users; any caller may ask about a group. Unknown permissions are false.",
          body: PermittedBody,
          response: { 200: PermittedAnswer, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody },
        },
      },
      async (request) => checkPermissions(db, actorOf(request), parseSid(request.body.token), request.body.permissions),
    );

    app.get(
      '/permitted/:object_type/:action',
      {
        onRequest: authenticated,
        schema: { tags: ['permissions'], summary: 'The instances the caller may act on', params: PermittedParams, querystring: ListQuery({}), response: { 200: Instances, 400: ErrorBody, 404: ErrorBody } },
      },
      async (request) => {
        const actor = actorOf(request);
        return permittedFor(db, actor, actor.id, request.params.object_type, request.params.action);
      },
    );

    app.get(
      '/permitted/:object_type/:action/:uuid',
      {
        onRequest: authenticated,
        schema: {
          tags: ['permissions'],
          summary: 'The instances a user may act on',
          description: 'Asking about another user needs a superuser or a permission on users.',
          params: PermittedUserParams,
          querystring: ListQuery({}),
          response: { 200: Instances, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody },
        },
      },
      async (request) => permittedFor(db, actorOf(request), parseSid(request.params.uuid), request.params.object_type, request.params.action),
    );
  };
}
