// The groups, group_roles and user_groups tables: directory groups imported
// by name, the roles they give, and which remote users were in them at their
// last login.

import { isPostgres } from './dialect.js';
import type { GroupRow } from './schema.js';
import { inSlices } from '../event-loop.js';
import { ROWS_PER_STATEMENT, type Executor } from './transaction.js';

export type GroupRecord = GroupRow;

/** Every group, or those of `ids` (none for an empty list), by login. */
export async function list(db: Executor, ids?: readonly string[]): Promise<GroupRecord[]> {
  if (ids?.length === 0) return [];
  let query = db.selectFrom('groups').selectAll();
  if (ids !== undefined) query = query.where('id', 'in', [...ids]);
  return query.orderBy('login_key').execute();
}

export async function byId(db: Executor, id: string): Promise<GroupRecord | undefined> {
  return db.selectFrom('groups').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function byLoginKey(db: Executor, loginKey: string): Promise<GroupRecord | undefined> {
  return db.selectFrom('groups').selectAll().where('login_key', '=', loginKey).executeTakeFirst();
}

/** The imported groups whose login keys are among these. */
export async function byLoginKeys(db: Executor, loginKeys: readonly string[]): Promise<GroupRecord[]> {
  if (loginKeys.length === 0) return [];
  return db.selectFrom('groups').selectAll().where('login_key', 'in', [...loginKeys]).orderBy('login_key').execute();
}

/** The logins of the groups of these ids that exist (the activity service names groups by them). */
export async function loginsByIds(db: Executor, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('groups').select(['id', 'login']).where('id', 'in', [...ids]).execute();
  return new Map(rows.map((row) => [row.id, row.login]));
}

export async function insert(db: Executor, group: GroupRecord): Promise<void> {
  await db.insertInto('groups').values(group).execute();
}

/** The groups imported for one directory (identity_provider_id). */
export async function ofDirectory(db: Executor, directoryId: string): Promise<GroupRecord[]> {
  return db.selectFrom('groups').selectAll().where('directory_id', '=', directoryId).orderBy('login_key').execute();
}

/** Deletes the group; its roles and memberships go with it (the foreign keys cascade). */
export async function remove(db: Executor, id: string): Promise<boolean> {
  const result = await db.deleteFrom('groups').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/**
 * Locks the group's row until the transaction ends and returns it (a no-op
 * UPDATE, as users.lock does): two edits of one group's roles are decided one
 * after the other.
 */
export async function lock(trx: Executor, id: string): Promise<GroupRecord | undefined> {
  return trx
    .updateTable('groups')
    .set((eb) => ({ id: eb.ref('id') }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Locks the rows of those of these groups that exist, until the transaction
 * ends, and returns their ids. PostgreSQL: in id order, so two requests
 * locking overlapping sets wait for one another instead of deadlocking;
 * SQLite's write transactions hold the database lock already.
 */
export async function lockAll(trx: Executor, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const query = trx.selectFrom('groups').select('id').where('id', 'in', [...ids]).orderBy('id');
  return (await (isPostgres(trx) ? query.forUpdate() : query).execute()).map((row) => row.id);
}

/** Rows as one sorted list per key, each of `keys` present (an empty list when it has no row). */
function listsBy<K, V>(keys: readonly K[], rows: readonly { key: K; value: V }[]): Map<K, V[]> {
  const lists = new Map<K, V[]>(keys.map((key) => [key, []]));
  for (const row of rows) lists.get(row.key)?.push(row.value);
  return lists;
}

// group_roles: the roles a group gives its members.

/** The role ids of each group, ascending. */
export async function roleIdsOf(db: Executor, groupIds: readonly string[]): Promise<Map<string, number[]>> {
  if (groupIds.length === 0) return listsBy(groupIds, []);
  const rows = await db.selectFrom('group_roles').select(['group_id as key', 'role_id as value']).where('group_id', 'in', [...groupIds]).orderBy('role_id').execute();
  return listsBy(groupIds, rows);
}

export async function addRoles(db: Executor, groupId: string, roleIds: readonly number[]): Promise<void> {
  for await (const slice of inSlices(roleIds, ROWS_PER_STATEMENT)) {
    await db
      .insertInto('group_roles')
      .values(slice.map((role_id) => ({ group_id: groupId, role_id })))
      .onConflict((conflict) => conflict.columns(['group_id', 'role_id']).doNothing())
      .execute();
  }
}

/** Gives one role to each of these groups (those that have it already keep it). */
export async function giveRole(db: Executor, roleId: number, groupIds: readonly string[]): Promise<void> {
  for await (const slice of inSlices(groupIds, ROWS_PER_STATEMENT)) {
    await db
      .insertInto('group_roles')
      .values(slice.map((group_id) => ({ group_id, role_id: roleId })))
      .onConflict((conflict) => conflict.columns(['group_id', 'role_id']).doNothing())
      .execute();
  }
}

/** Takes one role from each of these groups. */
export async function takeRole(db: Executor, roleId: number, groupIds: readonly string[]): Promise<void> {
  for await (const slice of inSlices(groupIds, ROWS_PER_STATEMENT)) await db.deleteFrom('group_roles').where('role_id', '=', roleId).where('group_id', 'in', slice).execute();
}

export async function removeRoles(db: Executor, groupId: string, roleIds: readonly number[]): Promise<void> {
  for await (const slice of inSlices(roleIds, ROWS_PER_STATEMENT)) await db.deleteFrom('group_roles').where('group_id', '=', groupId).where('role_id', 'in', slice).execute();
}

/** The ids of the groups that give this role, sorted. */
export async function idsWithRole(db: Executor, roleId: number): Promise<string[]> {
  return (await db.selectFrom('group_roles').select('group_id').where('role_id', '=', roleId).orderBy('group_id').execute()).map((row) => row.group_id);
}

// user_groups: which imported groups each remote user was in at their last login.

/** The group ids of each user, sorted. */
export async function groupIdsOf(db: Executor, userIds: readonly string[]): Promise<Map<string, string[]>> {
  if (userIds.length === 0) return listsBy(userIds, []);
  const rows = await db.selectFrom('user_groups').select(['user_id as key', 'group_id as value']).where('user_id', 'in', [...userIds]).orderBy('group_id').execute();
  return listsBy(userIds, rows);
}

/** The member ids of each group, sorted. */
export async function memberIdsOf(db: Executor, groupIds: readonly string[]): Promise<Map<string, string[]>> {
  if (groupIds.length === 0) return listsBy(groupIds, []);
  const rows = await db.selectFrom('user_groups').select(['group_id as key', 'user_id as value']).where('group_id', 'in', [...groupIds]).orderBy('user_id').execute();
  return listsBy(groupIds, rows);
}

/** The role ids each user inherits from their groups, ascending and distinct. */
export async function inheritedRoleIdsOf(db: Executor, userIds: readonly string[]): Promise<Map<string, number[]>> {
  if (userIds.length === 0) return listsBy(userIds, []);
  const rows = await db
    .selectFrom('user_groups')
    .innerJoin('group_roles', 'group_roles.group_id', 'user_groups.group_id')
    .select(['user_groups.user_id as key', 'group_roles.role_id as value'])
    .distinct()
    .where('user_groups.user_id', 'in', [...userIds])
    .orderBy('group_roles.role_id')
    .execute();
  return listsBy(userIds, rows);
}

/** Makes the user's groups exactly these (their groups at this login). */
export async function replaceMemberships(db: Executor, userId: string, groupIds: readonly string[]): Promise<void> {
  await db.deleteFrom('user_groups').where('user_id', '=', userId).execute();
  if (groupIds.length > 0) await db.insertInto('user_groups').values(groupIds.map((group_id) => ({ user_id: userId, group_id }))).execute();
}
