import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { notFound } from '../../errors.js';
import { PERMISSION_TYPES } from '../../permissions/permissions.js';
import { createRole, getRole, listRoles } from '../../roles/roles.js';
import { actorOf, contextOf, requireActor } from '../auth.js';
import type { Services } from '../../services.js';
import { ErrorBody, NewRoleBody, Role, RoleParams } from '../../shapes.js';
import { inTransaction } from '../../store/transaction.js';

const PermissionTypes = Type.Array(
  Type.Object({
    id: Type.Integer(),
    object_type: Type.String(),
    display_name: Type.String(),
    description: Type.String(),
    has_instances: Type.Boolean(),
    actions: Type.Array(Type.Object({ id: Type.Integer(), name: Type.String(), display_name: Type.String(), description: Type.String() })),
  }),
);

export function roleRoutes(services: Services): FastifyPluginAsyncTypebox {
  const { db } = services.store;
  const authenticated = requireActor(db);

  return async (app) => {
    app.get('/roles', { onRequest: authenticated, schema: { summary: 'List roles', response: { 200: Type.Array(Role) } } }, async () => listRoles(db));

    app.get(
      '/roles/:rid',
      { onRequest: authenticated, schema: { summary: 'One role', params: RoleParams, response: { 200: Role, 404: ErrorBody } } },
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
        schema: { summary: 'Create a role (superusers only)', body: NewRoleBody, response: { 201: Role, 400: ErrorBody, 403: ErrorBody, 409: ErrorBody } },
      },
      async (request, reply) => {
        const role = await inTransaction(db, (trx) => createRole(trx, actorOf(request), request.body, contextOf(request)));
        return reply.code(201).header('location', `${request.url.split('?')[0]}/${role.id}`).send(role);
      },
    );

    app.get('/types', { onRequest: authenticated, schema: { summary: 'Permission types and their actions', response: { 200: PermissionTypes, 401: ErrorBody } } }, async () =>
      PERMISSION_TYPES.map((type, index) => ({
        id: index + 1,
        object_type: type.object_type,
        display_name: type.display_name,
        description: type.description,
        has_instances: type.has_instances,
        actions: type.actions.map((action, actionIndex) => ({ id: actionIndex + 1, ...action })),
      })),
    );
  };
}
