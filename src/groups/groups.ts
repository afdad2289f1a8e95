// Directory groups (PE's user groups, CONTRACT §11): imported by their
// directory name, given roles, and inherited by the remote users who are in
// them at login. Any authenticated caller may read them, as PE allows;
// importing needs user_groups:import, deleting user_groups:delete on the
// group, and giving or taking a group's roles follows the rules for giving
// and taking roles (user_roles:edit_members, no escalation).

import { randomUUID } from 'node:crypto';
import { type AuditEvent, type Party, recordEvent, recordEvents } from '../audit/audit.js';
import { directoryAccess } from '../directory/directories.js';
import { DirectoryUnavailable, withDirectory } from '../directory/ldap.js';
import { ServiceError, notFound, permissionDenied } from '../errors.js';
import { assertRequesterActive, hasPermission, type Actor } from '../permissions/permissions.js';
import { assertMayAssignRoles, assertMayChangeMembers } from '../roles/authorization.js';
import { assertRolesExist } from '../roles/roles.js';
import type { Group, NewGroupBody } from '../shapes.js';
import { isUniqueViolation } from '../store/errors.js';
import * as groups from '../store/groups.js';
import * as roles from '../store/roles.js';
import type { GroupRecord } from '../store/groups.js';
import * as directories from '../store/directories.js';
import { inTransaction, type Db, type Executor } from '../store/transaction.js';

interface Context {
  actor: Party | null;
  sourceAddress: string | null;
}

export type GroupRequester = Actor | null;

/** Directory names compare without regard to case. */
export function groupLoginKey(login: string): string {
  return login.trim().normalize('NFKC').toLowerCase();
}

async function assertMayImportGroups(db: Executor, by: GroupRequester): Promise<void> {
  if (by && !(await hasPermission(db, by, 'user_groups', 'import', '*'))) throw permissionDenied('Importing groups needs user_groups:import.');
}

async function assertMayDeleteGroup(db: Executor, by: GroupRequester, groupId: string): Promise<void> {
  if (by && !(await hasPermission(db, by, 'user_groups', 'delete', groupId))) throw permissionDenied('Deleting this group needs user_groups:delete on it.');
}

const alreadyImported = (login: string) => new ServiceError('conflict', `A group with the login "${login}" is already imported.`);

async function toGroups(db: Executor, records: readonly GroupRecord[]): Promise<Group[]> {
  const ids = records.map((record) => record.id);
  const [roleIds, memberIds] = await Promise.all([groups.roleIdsOf(db, ids), groups.memberIdsOf(db, ids)]);
  return records.map((record) => ({
    id: record.id,
    login: record.login,
    display_name: record.display_name,
    role_ids: roleIds.get(record.id) ?? [],
    user_ids: memberIds.get(record.id) ?? [],
    identity_provider_id: record.directory_id,
    is_group: true,
    is_remote: true,
    is_superuser: false,
    is_revoked: false,
  }));
}

/** GET /groups: every group, or only those of `ids` (PE's id filter; unknown ids are left out). */
export async function listGroups(db: Executor, ids?: readonly string[]): Promise<Group[]> {
  return toGroups(db, await groups.list(db, ids));
}

export async function readGroup(db: Executor, id: string): Promise<Group> {
  const record = await groups.byId(db, id);
  if (!record) throw notFound('The group');
  const [group] = await toGroups(db, [record]);
  return group as Group;
}

/**
 * POST /command/groups/create (and PE's older POST /groups, POST /v2/groups):
 * imports a directory group by its lookup value, with roles. With `validate`
 * the directory must have the group (its display name is taken from there);
 * without, the group is imported as named and matches once the directory has it.
 */
export async function createGroup(db: Db, by: GroupRequester, input: NewGroupBody, context: Context): Promise<Group> {
  const login = input.login.trim();
  if (login.length === 0) throw new ServiceError('schema-violation', 'login must not be blank.', { field: 'login' });
  const roleIds = [...new Set(input.role_ids ?? [])].sort((a, b) => a - b);
  await assertMayImportGroups(db, by);
  const directoryId = input.identity_provider_id ?? null;
  if (directoryId !== null && !(await directories.byId(db, directoryId))) {
    throw new ServiceError('schema-violation', `No directory has the id ${directoryId.slice(0, 64)}.`, { field: 'identity_provider_id' });
  }
  const displayName = input.validate ? await nameInDirectory(db, directoryId, login) : input.display_name?.trim() || login;

  const id = randomUUID();
  await inTransaction(db, async (trx) => {
    await assertRequesterActive(trx, by);
    await assertMayImportGroups(trx, by);
    await assertMayAssignRoles(trx, by, roleIds);
    await assertRolesExist(trx, roleIds);
    if (await groups.byLoginKey(trx, groupLoginKey(login))) throw alreadyImported(login);
    await groups.insert(trx, { id, login, login_key: groupLoginKey(login), display_name: displayName, directory_id: directoryId, created_at: Date.now() });
    await groups.addRoles(trx, id, roleIds);
    await recordEvent(trx, { type: 'group-created', ...context, details: { group_id: id, login, role_ids: roleIds } });
  }).catch((error: unknown) => {
    throw isUniqueViolation(error, 'groups', 'login_key') ? alreadyImported(login) : error;
  });
  return readGroup(db, id);
}

/** The group's display name in the directory; 400 when the directory has no such group, 503 when it cannot be asked. */
async function nameInDirectory(db: Executor, directoryId: string | null, login: string): Promise<string> {
  const access = await directoryAccess(db, directoryId);
  if (!access) throw new ServiceError('schema-violation', 'validate needs a directory service to check the group against; none is set.', { field: 'validate' });
  try {
    const found = await withDirectory(access, (session) => session.findGroup(login));
    if (!found) throw new ServiceError('schema-violation', `The directory has no group "${login}".`, { field: 'login' });
    return found.name;
  } catch (error) {
    if (error instanceof DirectoryUnavailable) throw new ServiceError('directory-unavailable', `The group could not be checked: ${error.message}`);
    throw error;
  }
}

/**
 * PUT /groups/:sid: PE clients send the group back as GET gave it; only
 * role_ids change (the rest comes from the directory and is ignored).
 * Giving a role follows the rule for giving roles, taking one the rule for
 * taking them.
 */
export async function setGroupRoles(db: Db, by: GroupRequester, id: string, roleIds: readonly number[] | undefined, context: Context): Promise<Group> {
  await inTransaction(db, async (trx) => {
    await assertRequesterActive(trx, by);
    if (!(await groups.lock(trx, id))) throw notFound('The group');
    if (roleIds === undefined) return;
    const held = (await groups.roleIdsOf(trx, [id])).get(id) ?? [];
    const wanted = new Set(roleIds);
    const holding = new Set(held);
    await changeGroupRoles(trx, by, id, [...wanted].filter((roleId) => !holding.has(roleId)), held.filter((roleId) => !wanted.has(roleId)), context);
  });
  return readGroup(db, id);
}

/** Gives and takes roles of one locked group, by the rules of giving and taking roles, recording the change. */
async function changeGroupRoles(trx: Executor, by: GroupRequester, id: string, added: readonly number[], removed: readonly number[], context: Context): Promise<void> {
  if (added.length === 0 && removed.length === 0) return;
  await assertMayAssignRoles(trx, by, added);
  await assertMayChangeMembers(trx, by, removed);
  await assertRolesExist(trx, added);
  await groups.addRoles(trx, id, added);
  await groups.removeRoles(trx, id, removed);
  await recordEvent(trx, { type: 'group-roles-changed', ...context, details: { group_id: id, added: [...added], removed: [...removed] } });
}

/**
 * POST /command/roles/add-groups and remove-groups: one role given to (or
 * taken from) each of these groups. Every id must name a group. The groups
 * are locked and changed together, in a fixed number of statements however
 * many the request names; each group changed is recorded.
 */
export async function changeRoleGroups(trx: Executor, by: GroupRequester, roleId: number, change: 'add' | 'remove', groupIds: readonly string[], context: Context): Promise<void> {
  await assertRequesterActive(trx, by);
  await assertMayChangeMembers(trx, by, [roleId]);
  if (!(await roles.lock(trx, roleId))) throw notFound('The role');
  const ids = [...new Set(groupIds.map((groupId) => groupId.toLowerCase()))];
  const existing = new Set(await groups.lockAll(trx, ids));
  const missing = ids.find((groupId) => !existing.has(groupId));
  if (missing !== undefined) throw new ServiceError('schema-violation', `No group has the id ${missing.slice(0, 64)}.`);
  const held = await groups.roleIdsOf(trx, ids);
  const changing = ids.filter((groupId) => (held.get(groupId) ?? []).includes(roleId) === (change === 'remove'));
  if (changing.length === 0) return;
  if (change === 'add') {
    await assertMayAssignRoles(trx, by, [roleId]);
    await groups.giveRole(trx, roleId, changing);
  } else {
    await groups.takeRole(trx, roleId, changing);
  }
  const added = change === 'add' ? [roleId] : [];
  const removed = change === 'remove' ? [roleId] : [];
  await recordEvents(trx, changing.map((groupId): AuditEvent => ({ type: 'group-roles-changed', ...context, details: { group_id: groupId, added, removed } })));
}

/** POST /roles and PUT /roles/:rid with group_ids: the role ends up given to exactly these groups. */
export async function setRoleGroups(trx: Executor, by: GroupRequester, roleId: number, groupIds: readonly string[], context: Context): Promise<void> {
  const wanted = new Set(groupIds.map((groupId) => groupId.toLowerCase()));
  const current = await groups.idsWithRole(trx, roleId);
  const giving = new Set(current);
  const added = [...wanted].filter((groupId) => !giving.has(groupId));
  const removed = current.filter((groupId) => !wanted.has(groupId));
  if (added.length > 0) await changeRoleGroups(trx, by, roleId, 'add', added, context);
  if (removed.length > 0) await changeRoleGroups(trx, by, roleId, 'remove', removed, context);
}

/** DELETE /groups/:sid: user_groups:delete on the group. Its members lose what it gave them at once. */
export async function deleteGroup(db: Db, by: GroupRequester, id: string, context: Context): Promise<void> {
  await inTransaction(db, async (trx) => {
    await assertRequesterActive(trx, by);
    await assertMayDeleteGroup(trx, by, id);
    const record = await groups.lock(trx, id);
    if (!record) throw notFound('The group');
    await groups.remove(trx, id);
    await recordEvent(trx, { type: 'group-deleted', ...context, details: { group_id: id, login: record.login } });
  });
}
