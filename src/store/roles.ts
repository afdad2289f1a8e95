// The roles table, and the permissions users hold through user_roles.

import type { Executor } from './transaction.js';

import type { Permission } from '../shapes.js';

export interface RoleRecord {
  id: number;
  display_name: string;
  description: string;
  permissions: Permission[];
}

const toRecord = (row: { id: number; display_name: string; description: string; permissions: string }): RoleRecord => ({
  ...row,
  permissions: JSON.parse(row.permissions) as Permission[],
});

export async function list(db: Executor): Promise<RoleRecord[]> {
  return (await db.selectFrom('roles').selectAll().orderBy('id').execute()).map(toRecord);
}

export async function byId(db: Executor, id: number): Promise<RoleRecord | undefined> {
  const row = await db.selectFrom('roles').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toRecord(row) : undefined;
}

export async function nameTaken(db: Executor, displayName: string): Promise<boolean> {
  return (await db.selectFrom('roles').select('id').where('display_name', '=', displayName).executeTakeFirst()) !== undefined;
}

/** Those of `ids` that name a role. */
export async function existingIds(db: Executor, ids: readonly number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  return (await db.selectFrom('roles').select('id').where('id', 'in', [...ids]).execute()).map((row) => row.id);
}

export async function insert(db: Executor, role: Omit<RoleRecord, 'id'>): Promise<number> {
  const { id } = await db
    .insertInto('roles')
    .values({ display_name: role.display_name, description: role.description, permissions: JSON.stringify(role.permissions) })
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}

/** The ids of the role's members, sorted. */
export async function memberIds(db: Executor, roleId: number): Promise<string[]> {
  return (await db.selectFrom('user_roles').select('user_id').where('role_id', '=', roleId).orderBy('user_id').execute()).map((row) => row.user_id);
}

export async function addMembers(db: Executor, roleId: number, userIds: readonly string[]): Promise<void> {
  if (userIds.length > 0) await db.insertInto('user_roles').values(userIds.map((user_id) => ({ user_id, role_id: roleId }))).execute();
}

/** Every permission the user holds through its roles. */
export async function permissionsOf(db: Executor, userId: string): Promise<Permission[]> {
  const rows = await db
    .selectFrom('user_roles')
    .innerJoin('roles', 'roles.id', 'user_roles.role_id')
    .select('roles.permissions')
    .where('user_roles.user_id', '=', userId)
    .execute();
  return rows.flatMap((row) => JSON.parse(row.permissions) as Permission[]);
}
