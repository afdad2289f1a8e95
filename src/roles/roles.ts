// Roles: a named set of permissions, assigned to users.

import { ServiceError, permissionDenied } from '../errors.js';
import { type Party, recordEvents } from '../audit/audit.js';
import { isKnownPermission, type Actor, type Permission } from '../permissions/permissions.js';
import type { Role } from '../shapes.js';
import { isUniqueViolation } from '../store/errors.js';
import * as roles from '../store/roles.js';
import type { RoleRecord } from '../store/roles.js';
import type { Executor } from '../store/transaction.js';
import * as users from '../store/users.js';
import { isUuid, normalizeUserId } from '../permissions/user-ids.js';

export type { Role } from '../shapes.js';

export interface NewRole {
  display_name: string;
  description?: string | undefined;
  permissions?: Permission[] | undefined;
  user_ids?: string[] | undefined;
}

async function toRole(db: Executor, record: RoleRecord): Promise<Role> {
  return { ...record, user_ids: await roles.memberIds(db, record.id), group_ids: [] };
}

export async function listRoles(db: Executor): Promise<Role[]> {
  return Promise.all((await roles.list(db)).map((record) => toRole(db, record)));
}

export async function getRole(db: Executor, id: number): Promise<Role | undefined> {
  const record = await roles.byId(db, id);
  return record ? toRole(db, record) : undefined;
}

/** Checks that every id names an existing role; throws a schema-violation naming the first that does not. */
export async function assertRolesExist(db: Executor, roleIds: readonly number[]): Promise<void> {
  if (roleIds.length === 0) return;
  const found = await roles.existingIds(db, roleIds);
  const missing = roleIds.find((id) => !found.includes(id));
  if (missing !== undefined) throw new ServiceError('schema-violation', `No role has the id ${missing}.`);
}

/** POST /roles. Creating roles is not delegated: only a superuser (or the operator, `by` null) may. Runs in the caller's transaction. */
export async function createRole(db: Executor, by: Actor | null, input: NewRole, context: { actor: Party | null; sourceAddress: string | null }): Promise<Role> {
  if (by && !by.is_superuser) throw permissionDenied('Only superusers can create roles.');
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
  if (await roles.nameTaken(db, input.display_name)) throw nameTaken();

  const userIds = [...new Set((input.user_ids ?? []).map(normalizeUserId))];
  const members = await users.partiesOf(db, userIds);
  const missing = userIds.find((id) => !members.some((member) => member.id === id));
  if (missing) throw new ServiceError('schema-violation', `No user has the id ${missing}.`);

  const id = await roles.insert(db, { display_name: input.display_name, description: input.description ?? '', permissions }).catch((error: unknown) => {
    throw isUniqueViolation(error, 'roles', 'display_name') ? nameTaken() : error;
  });
  await roles.addMembers(db, id, userIds);
  const { actor, sourceAddress } = context;
  await recordEvents(db, [
    { type: 'role-created', actor, sourceAddress, details: { role_id: id, display_name: input.display_name, permissions: permissions.map((p) => `${p.object_type}:${p.action}:${p.instance}`) } },
    ...members.map((member) => ({ type: 'role-assigned' as const, actor, subject: member, sourceAddress, details: { role_id: id } })),
  ]);
  const role = await getRole(db, id);
  if (!role) throw new Error('role vanished after insert');
  return role;
}
