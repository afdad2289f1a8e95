import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type, type Static, type TSchema } from 'typebox';
import { notFound } from '../../errors.js';
import { typesAnswer } from '../../catalogue/catalogue.js';
import { changeRoleGroups, setRoleGroups } from '../../groups/groups.js';
import { changeMembers, changePermissions, changeRolesOf, createRole, deleteRole, editRole, getRole, listRoles } from '../../roles/roles.js';
import { actorOf, contextOf, requireActor } from '../auth.js';
import { assertSameId } from '../ids.js';
import type { Services } from '../../services.js';
import { EditRoleBody, ErrorBody, LIST_BODY_LIMIT, ListQuery, NewRoleBody, PermissionTypes, Role, Roles, RoleGroupsBody, RoleParams, RolePermissionsBody, RoleUsersBody, UserRolesBody } from '../../shapes.js';
import { inTransaction, type Executor } from '../../store/transaction.js';
import { parseSid } from './users.js';

/** GET /types: the catalogue's object types and their actions (PE's, then the operator's). */
function typesRoute(app: Parameters<FastifyPluginAsyncTypebox>[0], authenticated: ReturnType<typeof requireActor>, summary: string, description?: string): void {
  app.get('/types', { onRequest: authenticated, schema: { tags: ['permissions'], summary, ...(description ? { description } : {}), querystring: ListQuery({}), response: { 200: PermissionTypes, 400: ErrorBody, 401: ErrorBody } } }, async () => typesAnswer());
}

/**
 * GET /types at the root of the host: where the vendor's Ruby client (pe_client.rb 0.3.0,
 * Permissions#types) asks for the permission types. The same answer and authentication as
 * GET /rbac-api/v1/types (docs/decisions.md).
 */
export function rootTypesRoutes(services: Services): FastifyPluginAsyncTypebox {
  const authenticated = requireActor(services.store.db);
  return async (app) => {
    typesRoute(app, authenticated, 'Permission types, where the vendor\'s Ruby client asks for them', 'The same as GET /rbac-api/v1/types.');
  };
}

const COMMAND_RESPONSES = { 204: Type.Null(), 400: ErrorBody, 403: ErrorBody, 404: ErrorBody };

export function roleRoutes(services: Services): FastifyPluginAsyncTypebox {
  const { db } = services.store;
  const authenticated = requireActor(db);

  return async (app) => {
    app.get('/roles', { onRequest: authenticated, schema: { tags: ['roles'], summary: 'List roles', querystring: ListQuery({}), response: { 200: Roles, 400: ErrorBody } } }, async () => listRoles(db));

    app.get(
      '/roles/:rid',
      { onRequest: authenticated, schema: { tags: ['roles'], summary: 'One role', params: RoleParams, response: { 200: Role, 404: ErrorBody } } },
      async (request) => {
        const role = await getRole(db, Number(request.params.rid));
        if (!role) throw notFound('The role');
        return role;
      },
    );

    app.post(
      '/roles',
      {
        onRequest: authenticated,
        bodyLimit: LIST_BODY_LIMIT,
        schema: { tags: ['roles'], summary: 'Create a role (user_roles:create)', body: NewRoleBody, response: { 201: Role, 400: ErrorBody, 403: ErrorBody, 409: ErrorBody } },
      },
      async (request, reply) => {
        const role = await inTransaction(db, async (trx) => {
          const created = await createRole(trx, actorOf(request), request.body, contextOf(request));
          if (!request.body.group_ids?.length) return created;
          await setRoleGroups(trx, actorOf(request), created.id, request.body.group_ids, contextOf(request));
          return (await getRole(trx, created.id)) ?? created;
        });
        return reply.code(201).header('location', `${request.url.split('?')[0]}/${role.id}`).send(role);
      },
    );

    app.put(
      '/roles/:rid',
      {
        onRequest: authenticated,
        bodyLimit: LIST_BODY_LIMIT,
        schema: {
          tags: ['roles'],
          summary: 'Edit a role: name, description, permissions (user_roles:edit), members (user_roles:edit_members)',
          description: 'Takes the role object as GET returns it. The permissions of the default role Administrators (id 1) cannot change: 403 default-roles-immutable.',
          params: RoleParams,
          body: EditRoleBody,
          response: { 200: Role, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (request) => {
        const id = Number(request.params.rid);
        assertSameId(id, request.body.id);
        return inTransaction(db, async (trx) => {
          const edited = await editRole(trx, actorOf(request), id, request.body, contextOf(request));
          if (request.body.group_ids === undefined) return edited;
          await setRoleGroups(trx, actorOf(request), id, request.body.group_ids, contextOf(request));
          return (await getRole(trx, id)) ?? edited;
        });
      },
    );

    app.delete(
      '/roles/:rid',
      {
        onRequest: authenticated,
        schema: { tags: ['roles'], summary: 'Delete a role (user_roles:edit); never Administrators', params: RoleParams, response: { 204: Type.Null(), 403: ErrorBody, 404: ErrorBody } },
      },
      async (request, reply) => {
        await inTransaction(db, (trx) => deleteRole(trx, actorOf(request), Number(request.params.rid), contextOf(request)));
        return reply.code(204).send(null);
      },
    );

    /** A command: POST /command/<path>, its body checked by `body`, answered 204 once `run` has committed. */
    const command = <Body extends TSchema>(path: string, summary: string, body: Body, run: (trx: Executor, request: FastifyRequest, body: Static<Body>) => Promise<void>, description?: string) =>
      app.post(
        `/command/${path}`,
        { onRequest: authenticated, bodyLimit: LIST_BODY_LIMIT, schema: { tags: ['roles'], summary, ...(description ? { description } : {}), body, response: COMMAND_RESPONSES } },
        async (request, reply) => {
          await inTransaction(db, (trx) => run(trx, request, request.body as Static<Body>));
          return reply.code(204).send(null);
        },
      );

    for (const change of ['add', 'remove'] as const) {
      const adding = change === 'add';
      command(`roles/${change}-users`, `${adding ? 'Give a role to' : 'Take a role from'} users`, RoleUsersBody, (trx, request, { role_id, user_ids }) =>
        changeMembers(trx, actorOf(request), role_id, change, user_ids, contextOf(request)),
      );
      command(`roles/${change}-permissions`, `${adding ? 'Add permissions to' : 'Remove permissions from'} a role`, RolePermissionsBody, (trx, request, { role_id, permissions }) =>
        changePermissions(trx, actorOf(request), role_id, change, permissions, contextOf(request)),
      );
      command(`users/${change}-roles`, `${adding ? 'Give roles to' : 'Take roles from'} a user`, UserRolesBody, (trx, request, { user_id, role_ids }) =>
        changeRolesOf(trx, actorOf(request), parseSid(user_id), change, role_ids, contextOf(request)),
      );
    }
    for (const path of ['add-user-groups', 'add-groups', 'remove-groups']) {
      command(
        `roles/${path}`,
        `${path.startsWith('add') ? 'Give a role to' : 'Take a role from'} directory groups`,
        RoleGroupsBody,
        (trx, request, { role_id, group_ids }) => changeRoleGroups(trx, actorOf(request), role_id, path.startsWith('add') ? 'add' : 'remove', group_ids, contextOf(request)),
        'Every id must name an imported group (400 schema-violation otherwise); a group that already has (or lacks) the role is left as it is.',
      );
    }

    typesRoute(app, authenticated, 'Permission types and their actions');
  };
}
