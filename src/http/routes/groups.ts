// PE's user group routes (CONTRACT §11): GET /groups, GET /groups/:sid,
// POST /command/groups/create (and the older POST /groups and v2's POST
// /groups), PUT /groups/:sid, DELETE /groups/:sid.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { createGroup, deleteGroup, listGroups, readGroup, setGroupRoles } from '../../groups/groups.js';
import { parseUuid } from '../../permissions/user-ids.js';
import type { Services } from '../../services.js';
import { EditGroupBody, ErrorBody, Group, Groups, IdFilterQuery, LIST_BODY_LIMIT, NewGroupBody } from '../../shapes.js';
import { actorOf, contextOf, requireActor } from '../auth.js';
import { assertSameId, parseIdFilter } from '../ids.js';

const GroupParams = Type.Object({ sid: Type.String({ description: 'a group id (UUID)' }) }, { additionalProperties: false });

const parseGroupId = (sid: string): string => parseUuid(sid, 'The group id');

const CREATE_RESPONSES = { 201: Group, 400: ErrorBody, 403: ErrorBody, 409: ErrorBody, 503: ErrorBody };

/** The routes that create a group: each answers 201 with the group and its location. */
function createRoute(app: Parameters<FastifyPluginAsyncTypebox>[0], services: Services, path: string, summary: string, locationBase: string): void {
  const { db } = services.store;
  app.post(path, { onRequest: requireActor(db), bodyLimit: LIST_BODY_LIMIT, schema: { tags: ['groups'], summary, body: NewGroupBody, response: CREATE_RESPONSES } }, async (request, reply) => {
    const group = await createGroup(db, actorOf(request), request.body, contextOf(request));
    return reply.code(201).header('location', `${locationBase}/${group.id}`).send(group);
  });
}

export function groupRoutes(services: Services, prefix: string): FastifyPluginAsyncTypebox {
  const { db } = services.store;
  const authenticated = requireActor(db);
  return async (app) => {
    app.get(
      '/groups',
      { onRequest: authenticated, schema: { tags: ['groups'], summary: 'The imported directory groups; ?id=a,b: only those', querystring: IdFilterQuery, response: { 200: Groups, 400: ErrorBody } } },
      async (request) => listGroups(db, parseIdFilter(request.query.id)),
    );
    app.get('/groups/:sid', { onRequest: authenticated, schema: { tags: ['groups'], summary: 'One imported group', params: GroupParams, response: { 200: Group, 400: ErrorBody, 404: ErrorBody } } }, async (request) =>
      readGroup(db, parseGroupId(request.params.sid)),
    );
    createRoute(app, services, '/command/groups/create', 'Import a directory group, with roles (user_groups:import)', `${prefix}/groups`);
    createRoute(app, services, '/groups', "Import a directory group (PE's older route)", `${prefix}/groups`);
    app.put(
      '/groups/:sid',
      {
        onRequest: authenticated,
        bodyLimit: LIST_BODY_LIMIT,
        schema: {
          tags: ['groups'],
          summary: "Change a group's roles",
          description: 'Takes the group as GET returns it; only role_ids change (the rest comes from the directory).',
          params: GroupParams,
          body: EditGroupBody,
          response: { 200: Group, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody },
        },
      },
      async (request) => {
        const id = parseGroupId(request.params.sid);
        assertSameId(id, request.body.id);
        return setGroupRoles(db, actorOf(request), id, request.body.role_ids, contextOf(request));
      },
    );
    app.delete(
      '/groups/:sid',
      { onRequest: authenticated, schema: { tags: ['groups'], summary: 'Delete an imported group (user_groups:delete)', params: GroupParams, response: { 204: Type.Null(), 400: ErrorBody, 403: ErrorBody, 404: ErrorBody } } },
      async (request, reply) => {
        await deleteGroup(db, actorOf(request), parseGroupId(request.params.sid), contextOf(request));
        return reply.code(204).send(null);
      },
    );
  };
}

/**
 * v2's POST /groups: the same import, with `validate` to check the group
 * against the directory first. PE answers it 303 See Other with the new
 * group's Location and no body (the vendor's client returns {location}).
 */
export function groupRoutesV2(services: Services): FastifyPluginAsyncTypebox {
  const { db } = services.store;
  return async (app) => {
    app.post(
      '/groups',
      {
        onRequest: requireActor(db),
        schema: {
          tags: ['groups'],
          summary: 'Import a directory group; validate: true checks the directory has it',
          description: 'Answers 303 See Other, its Location the new group (GET /rbac-api/v1/groups/:sid), as PE does.',
          body: NewGroupBody,
          response: { 303: Type.Null({ description: 'the group is imported; Location names it' }), 400: ErrorBody, 403: ErrorBody, 409: ErrorBody, 503: ErrorBody },
        },
      },
      async (request, reply) => {
        const group = await createGroup(db, actorOf(request), request.body, contextOf(request));
        return reply.redirect(`/rbac-api/v1/groups/${group.id}`, 303);
      },
    );
  };
}
