// The roles table, and the permissions users hold through user_roles.

import { sql } from 'kysely';
import { isPostgres } from './dialect.js';
import { inSlices } from '../event-loop.js';
import { ROWS_PER_STATEMENT, type Executor } from './transaction.js';

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

/** Whether a role (other than `exceptId`) has this name. */
export async function nameTaken(db: Executor, displayName: string, exceptId?: number): Promise<boolean> {
  let query = db.selectFrom('roles').select('id').where('display_name', '=', displayName);
  if (exceptId !== undefined) query = query.where('id', '<>', exceptId);
  return (await query.executeTakeFirst()) !== undefined;
}

/** The roles of these ids that exist. */
export async function byIds(db: Executor, ids: readonly number[]): Promise<RoleRecord[]> {
  if (ids.length === 0) return [];
  return (await db.selectFrom('roles').selectAll().where('id', 'in', [...ids]).orderBy('id').execute()).map(toRecord);
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

/**
 * A role at the id it had in another RBAC service (src/transfer/). An
 * explicit id does not move PostgreSQL's sequence, so it is moved past the
 * highest id: the next role created gets a free one.
 */
export async function insertWithId(db: Executor, role: RoleRecord): Promise<void> {
  await db.insertInto('roles').values({ id: role.id, display_name: role.display_name, description: role.description, permissions: JSON.stringify(role.permissions) }).execute();
  if (isPostgres(db)) await sql`select setval(pg_get_serial_sequence('roles', 'id'), (select max(id) from roles))`.execute(db);
}

/** The ids of the role's members, sorted. */
export async function memberIds(db: Executor, roleId: number): Promise<string[]> {
  return (await db.selectFrom('user_roles').select('user_id').where('role_id', '=', roleId).orderBy('user_id').execute()).map((row) => row.user_id);
}

export async function addMembers(db: Executor, roleId: number, userIds: readonly string[]): Promise<void> {
  for await (const slice of inSlices(userIds, ROWS_PER_STATEMENT)) await db.insertInto('user_roles').values(slice.map((user_id) => ({ user_id, role_id: roleId }))).execute();
}

/** The roles the user holds, given to them or inherited from their directory groups, with their permissions. */
export async function permissionsByRoleOf(db: Executor, userId: string): Promise<{ id: number; permissions: Permission[] }[]> {
  const rows = await db
    .selectFrom('roles')
    .select(['roles.id', 'roles.permissions'])
    .where((eb) =>
      eb.or([
        eb('roles.id', 'in', eb.selectFrom('user_roles').select('user_roles.role_id').where('user_roles.user_id', '=', userId)),
        eb(
          'roles.id',
          'in',
          eb.selectFrom('user_groups').innerJoin('group_roles', 'group_roles.group_id', 'user_groups.group_id').select('group_roles.role_id').where('user_groups.user_id', '=', userId),
        ),
      ]),
    )
    .execute();
  return rows.map((row) => ({ id: row.id, permissions: JSON.parse(row.permissions) as Permission[] }));
}

/** The roles a group gives its members, with their permissions. */
export async function permissionsByRoleOfGroup(db: Executor, groupId: string): Promise<{ id: number; permissions: Permission[] }[]> {
  const rows = await db
    .selectFrom('roles')
    .select(['roles.id', 'roles.permissions'])
    .where('roles.id', 'in', (eb) => eb.selectFrom('group_roles').select('group_roles.role_id').where('group_roles.group_id', '=', groupId))
    .execute();
  return rows.map((row) => ({ id: row.id, permissions: JSON.parse(row.permissions) as Permission[] }));
}

/**
 * Locks the role's row until the transaction ends and returns it (a no-op
 * UPDATE, as users.lock does): two edits of one role are decided one after
 * the other, each on the state the other left.
 */
export async function lock(trx: Executor, id: number): Promise<RoleRecord | undefined> {
  const row = await trx
    .updateTable('roles')
    .set((eb) => ({ id: eb.ref('id') }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return row ? toRecord(row) : undefined;
}

export type RoleChanges = Partial<Omit<RoleRecord, 'id'>>;

export async function update(db: Executor, id: number, changes: RoleChanges): Promise<void> {
  const { permissions, ...fields } = changes;
  await db
    .updateTable('roles')
    .set({ ...fields, ...(permissions ? { permissions: JSON.stringify(permissions) } : {}) })
    .where('id', '=', id)
    .execute();
}

/** Deletes the role; its memberships go with it (the foreign key cascades). */
export async function remove(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('roles').where('id', '=', id).execute();
}

/** Which of these users hold which of these roles. */
export async function memberships(db: Executor, roleIds: readonly number[], userIds: readonly string[]): Promise<{ user_id: string; role_id: number }[]> {
  if (roleIds.length === 0 || userIds.length === 0) return [];
  return db.selectFrom('user_roles').select(['user_id', 'role_id']).where('role_id', 'in', [...roleIds]).where('user_id', 'in', [...userIds]).execute();
}

export async function insertMemberships(db: Executor, pairs: readonly { user_id: string; role_id: number }[]): Promise<void> {
  // A pair given concurrently by another request is already there: nothing to do.
  for await (const slice of inSlices(pairs, ROWS_PER_STATEMENT)) {
    await db.insertInto('user_roles').values(slice).onConflict((conflict) => conflict.columns(['user_id', 'role_id']).doNothing()).execute();
  }
}

/** The values of the items, listed under their keys. */
function groupedBy<T, K, V>(items: readonly T[], keyOf: (item: T) => K, valueOf: (item: T) => V): Map<K, V[]> {
  const groups = new Map<K, V[]>();
  for (const item of items) {
    const group = groups.get(keyOf(item));
    if (group) group.push(valueOf(item));
    else groups.set(keyOf(item), [valueOf(item)]);
  }
  return groups;
}

/**
 * Deletes these memberships: statements per role, or per user, whichever
 * the pairs name fewer of. Every caller takes one role from many users or
 * many roles from one user, so that is one IN list (not an OR per pair,
 * which SQLite refuses past 1,000 nested terms), ROWS_PER_STATEMENT ids a
 * statement.
 */
export async function deleteMemberships(db: Executor, pairs: readonly { user_id: string; role_id: number }[]): Promise<void> {
  const byRole = groupedBy(pairs, (pair) => pair.role_id, (pair) => pair.user_id);
  const byUser = groupedBy(pairs, (pair) => pair.user_id, (pair) => pair.role_id);
  if (byRole.size <= byUser.size) {
    for (const [roleId, userIds] of byRole) {
      for await (const slice of inSlices(userIds, ROWS_PER_STATEMENT)) await db.deleteFrom('user_roles').where('role_id', '=', roleId).where('user_id', 'in', slice).execute();
    }
  } else {
    for (const [userId, roleIds] of byUser) {
      for await (const slice of inSlices(roleIds, ROWS_PER_STATEMENT)) await db.deleteFrom('user_roles').where('user_id', '=', userId).where('role_id', 'in', slice).execute();
    }
  }
}
