import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { parseUuid } from '../../permissions/user-ids.js';
import { createUser, currentUser, deleteUser, listUsers, pageOfUsers, readUser, setUserRevoked, updateUser } from '../../users/users.js';
import { actorOf, contextOf, requireActor } from '../auth.js';
import { assertSameId, parseIdFilter } from '../ids.js';
import type { Services } from '../../services.js';
import { EditUserBody, ErrorBody, IdFilterQuery, LIST_BODY_LIMIT, MAX_USERS_PAGE, NewUserBody, SidParams, User, UserIdBody, Users, UsersPage, UsersPageQuery, ValidateLoginBody, Validation, type UserOrdering } from '../../shapes.js';
import { validateLogin } from '../../users/validate-login.js';

/** A user id from the path or body, or 400 invalid-uuid. */
export const parseSid = (sid: string): string => parseUuid(sid, 'The user id');

export function userRoutes(services: Services): FastifyPluginAsyncTypebox {
  const { db } = services.store;
  const authenticated = requireActor(db);
  const userDeps = { db, hasher: services.hasher, config: services.config };

  return async (app) => {
    app.get(
      '/users',
      {
        onRequest: authenticated,
        schema: { tags: ['users'], summary: 'List users; ?id=a,b: only those', querystring: IdFilterQuery, response: { 200: Users, 400: ErrorBody, 403: ErrorBody } },
      },
      async (request) => listUsers(db, actorOf(request), services.config, parseIdFilter(request.query.id)),
    );

    app.get(
      '/users/current',
      { onRequest: authenticated, schema: { tags: ['users'], summary: 'The user the login token belongs to', response: { 200: User } } },
      async (request) => {
        // Answered from the token check's one statement: the user and its role ids.
        const actor = actorOf(request);
        return currentUser(db, actor.user, actor.roleIds, services.config);
      },
    );

    app.get(
      '/users/:sid',
      { onRequest: authenticated, schema: { tags: ['users'], summary: 'One user', params: SidParams, response: { 200: User, 403: ErrorBody, 404: ErrorBody } } },
      async (request) => {
        return readUser(db, actorOf(request), parseSid(request.params.sid), services.config);
      },
    );

    app.post(
      '/users',
      {
        onRequest: authenticated,
        bodyLimit: LIST_BODY_LIMIT,
        schema: { tags: ['users'], summary: 'Create a local or remote user', body: NewUserBody, response: { 201: User, 400: ErrorBody, 403: ErrorBody, 409: ErrorBody } },
      },
      async (request, reply) => {
        const user = await createUser(userDeps, actorOf(request), request.body, contextOf(request));
        return reply.code(201).header('location', `${request.url.split('?')[0]}/${user.id}`).send(user);
      },
    );

    app.post(
      '/command/validate-login',
      {
        onRequest: authenticated,
        schema: {
          tags: ['users'],
          summary: 'Check a login against the login rules before creating or renaming a user',
          description: 'Whether the login is taken, or looks like an existing one, is told only to callers who may list users.',
          body: ValidateLoginBody,
          response: { 200: Validation, 401: ErrorBody },
        },
      },
      async (request) => validateLogin(userDeps, actorOf(request), request.body.login),
    );

    app.put(
      '/users/:sid',
      {
        onRequest: authenticated,
        bodyLimit: LIST_BODY_LIMIT,
        schema: {
          tags: ['users'],
          summary: "Edit a user: login, email, display name, roles, revoked state",
          params: SidParams,
          body: EditUserBody,
          response: { 200: User, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (request) => {
        const sid = parseSid(request.params.sid);
        const actor = actorOf(request);
        const body = request.body;
        assertSameId(sid, body.id);
        // Who may change what is decided inside the edit's transaction (src/users/authorization.ts).
        return updateUser(userDeps, actor, sid, body, contextOf(request));
      },
    );

    for (const [command, revoked] of [['revoke', true], ['reinstate', false]] as const) {
      app.post(
        `/command/users/${command}`,
        {
          onRequest: authenticated,
          schema: {
            tags: ['users'],
            summary: revoked ? "Revoke a user: its login tokens stop working, its unused reset tokens are cancelled" : 'Reinstate a revoked user, with a fresh set of login attempts',
            body: UserIdBody,
            response: { 204: Type.Null(), 400: ErrorBody, 403: ErrorBody, 404: ErrorBody },
          },
        },
        async (request, reply) => {
          await setUserRevoked(db, actorOf(request), parseSid(request.body.user_id), revoked, contextOf(request));
          return reply.code(204).send(null);
        },
      );
    }

    app.delete(
      '/users/:sid',
      { onRequest: authenticated, schema: { tags: ['users'], summary: 'Delete a user', params: SidParams, response: { 204: Type.Null(), 403: ErrorBody, 404: ErrorBody } } },
      async (request, reply) => {
        const sid = parseSid(request.params.sid);
        await deleteUser(db, actorOf(request), sid, contextOf(request));
        return reply.code(204).send(null);
      },
    );
  };
}

/** A value as PE's documents spell it, in double quotes (order="desc"), or bare. */
const unquoted = <T extends string>(value: T): T => (value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? (value.slice(1, -1) as T) : value);

/** Routes under /rbac-api/v2. */
export function userRoutesV2(services: Services): FastifyPluginAsyncTypebox {
  const { db } = services.store;
  return async (app) => {
    app.get(
      '/users',
      {
        onRequest: requireActor(db),
        schema: {
          tags: ['users'],
          summary: 'A page of users: sorted, filtered, with or without their roles',
          description: `limit above ${MAX_USERS_PAGE} is lowered to it (pagination.limit says so).`,
          querystring: UsersPageQuery,
          response: { 200: UsersPage, 400: ErrorBody, 403: ErrorBody },
        },
      },
      async (request) => {
        const { query } = request;
        const page = {
          offset: Number(query.offset ?? 0),
          limit: Math.min(Number(query.limit ?? 500), MAX_USERS_PAGE),
          order: unquoted(query.order ?? 'asc') as 'asc' | 'desc',
          orderBy: unquoted(query.order_by ?? 'id') as UserOrdering,
          filter: query.filter === undefined ? undefined : unquoted(query.filter),
        };
        const { users, total } = await pageOfUsers(db, actorOf(request), services.config, page, unquoted<string>(query.include_roles ?? 'false') === 'true');
        const { orderBy, filter, ...rest } = page;
        return { users, pagination: { ...rest, order_by: orderBy, ...(filter === undefined ? {} : { filter }), total } };
      },
    );
  };
}
