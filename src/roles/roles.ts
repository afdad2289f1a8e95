// Roles: a named set of permissions, assigned to users.

import { ServiceError } from '../errors.js';
import { type Executor, type Party, recordEvents } from '../audit/audit.js';
import { isKnownPermission, type Permission } from '../permissions/permissions.js';
import { isUniqueViolation } from '../store/errors.js';
import type { RoleRow } from '../store/schema.js';
import { isUuid, normalizeUserId } from '../users/user-id.js';

export interface Role {
  id: number;
  display_name: string;
  description: string;
  permissions: Permission[];
  user_ids: string[];
  group_ids: string[];
}

export interface NewRole {
  display_name: string;
  description?: string | undefined;
  permissions?: Permission[] | undefined;
  user_ids?: string[] | undefined;
}

async function toRole(db: Executor, row: RoleRow): Promise<Role> {
  const members = await db.selectFrom('user_roles').select('user_id').where('role_id', '=', row.id).orderBy('user_id').execute();
  return {
    id: row.id,
    display_name: row.display_name,
    description: row.description,
    permissions: JSON.parse(row.permissions) as Permission[],
    user_ids: members.map((member) => member.user_id),
    group_ids: [],
  };
}

export async function listRoles(db: Executor): Promise<Role[]> {
  const rows = await db.selectFrom('roles').selectAll().orderBy('id').execute();
  return Promise.all(rows.map((row) => toRole(db, row)));
}

export async function getRole(db: Executor, id: number): Promise<Role | undefined> {
  const row = await db.selectFrom('roles').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toRole(db, row) : undefined;
}

/** Checks that every id names an existing role; throws a schema-violation naming the first that does not. */
export async function assertRolesExist(db: Executor, roleIds: readonly number[]): Promise<void> {
  if (roleIds.length === 0) return;
  const found = await db.selectFrom('roles').select('id').where('id', 'in', [...roleIds]).execute();
  const missing = roleIds.find((id) => !found.some((row) => row.id === id));
  if (missing !== undefined) throw new ServiceError('schema-violation', `No role has the id ${missing}.`);
}

export async function createRole(db: Executor, input: NewRole, context: { actor: Party | null; sourceAddress: string | null }): Promise<Role> {
  const permissions = (input.permissions ?? []).map((permission) => ({ ...permission, instance: normalizeUserId(permission.instance) }));
  const unknown = permissions.find((permission) => !isKnownPermission(permission));
  if (unknown) {
    throw new ServiceError('schema-violation', `Unknown permission ${unknown.object_type}:${unknown.action}.`, { permission: unknown });
  }
  // An instance that names nothing would be stored, listed, and grant nothing: refuse it instead.
  const aimless = permissions.find((permission) => permission.instance !== '*' && !isUuid(permission.instance));
  if (aimless) {
    throw new ServiceError('schema-violation', `A permission's instance is "*" or the id of a user (a UUID), not "${aimless.instance}".`, { permission: aimless });
  }
  const nameTaken = () => new ServiceError('conflict', `A role named "${input.display_name}" already exists.`);
  const taken = await db.selectFrom('roles').select('id').where('display_name', '=', input.display_name).executeTakeFirst();
  if (taken) throw nameTaken();

  const userIds = [...new Set((input.user_ids ?? []).map(normalizeUserId))];
  if (userIds.length > 0) {
    const found = await db.selectFrom('users').select('id').where('id', 'in', userIds).execute();
    const missing = userIds.find((id) => !found.some((row) => row.id === id));
    if (missing) throw new ServiceError('schema-violation', `No user has the id ${missing}.`);
  }

  const { id } = await db
    .insertInto('roles')
    .values({ display_name: input.display_name, description: input.description ?? '', permissions: JSON.stringify(permissions) })
    .returning('id')
    .executeTakeFirstOrThrow()
    .catch((error: unknown) => {
      throw isUniqueViolation(error, 'roles', 'display_name') ? nameTaken() : error;
    });
  const members = userIds.length > 0 ? await db.selectFrom('users').select(['id', 'login']).where('id', 'in', userIds).execute() : [];
  if (userIds.length > 0) {
    await db.insertInto('user_roles').values(userIds.map((user_id) => ({ user_id, role_id: id }))).execute();
  }
  const { actor, sourceAddress } = context;
  await recordEvents(db, [
    { type: 'role-created', actor, sourceAddress, details: { role_id: id, display_name: input.display_name, permissions: permissions.map((p) => `${p.object_type}:${p.action}:${p.instance}`) } },
    ...members.map((member) => ({ type: 'role-assigned' as const, actor, subject: member, sourceAddress, details: { role_id: id } })),
  ]);
  const role = await getRole(db, id);
  if (!role) throw new Error('role vanished after insert');
  return role;
}
