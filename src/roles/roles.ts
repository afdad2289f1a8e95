// Roles: a named set of permissions, given to users. Creating, editing and
// deleting roles, changing their permissions and members, and giving roles to
// users or taking them away. Who may is decided by the rules in
// authorization.ts, inside each write's transaction; every change is recorded.

import { ServiceError, notFound } from '../errors.js';
import { type AuditEvent, type Party, recordEvents } from '../audit/audit.js';
import {
  assertRequesterActive,
  distinctPermissions,
  lockUserCheckingRequester,
  permissionKey,
  permissionsNotIn,
  rolePermissions,
  validPermissions,
  type Permission,
} from '../permissions/permissions.js';
import { MAX_ROLE_PERMISSIONS, type Role } from '../shapes.js';
import { isUniqueViolation } from '../store/errors.js';
import * as groupsStore from '../store/groups.js';
import * as roles from '../store/roles.js';
import type { RoleRecord } from '../store/roles.js';
import type { Executor } from '../store/transaction.js';
import * as users from '../store/users.js';
import { normalizeUserId } from '../permissions/user-ids.js';
import {
  assertMayAssignRoles,
  assertMayChangeMembers,
  assertMayCreateRoles,
  assertMayEditRole,
  assertMayEditRoleOrMembers,
  assertMayGrantPermissions,
  assertPermissionsMutable,
  type Requester,
} from './authorization.js';

export type { Role } from '../shapes.js';

export interface NewRole {
  display_name: string;
  description?: string | undefined;
  permissions?: Permission[] | undefined;
  user_ids?: string[] | undefined;
}

/** PUT /roles/:rid: the role object as GET returns it; the route checks id and sets group_ids. */
export type RoleEdit = Partial<NewRole>;

export interface Context {
  actor: Party | null;
  sourceAddress: string | null;
}

type Member = Party & { id: string; login: string };

async function toRole(db: Executor, record: RoleRecord): Promise<Role> {
  return { ...record, permissions: rolePermissions(record), user_ids: await roles.memberIds(db, record.id), group_ids: await groupsStore.idsWithRole(db, record.id) };
}

export async function listRoles(db: Executor): Promise<Role[]> {
  return Promise.all((await roles.list(db)).map((record) => toRole(db, record)));
}

export async function getRole(db: Executor, id: number): Promise<Role | undefined> {
  const record = await roles.byId(db, id);
  return record ? toRole(db, record) : undefined;
}

async function roleAfterWrite(db: Executor, id: number): Promise<Role> {
  const role = await getRole(db, id);
  if (!role) throw new Error('role vanished after a write');
  return role;
}

/** Checks that every id names an existing role; throws a schema-violation naming the first that does not. */
export async function assertRolesExist(db: Executor, roleIds: readonly number[]): Promise<void> {
  if (roleIds.length === 0) return;
  const found = new Set(await roles.existingIds(db, roleIds));
  const missing = roleIds.find((id) => !found.has(id));
  if (missing !== undefined) throw new ServiceError('schema-violation', `No role has the id ${missing}.`);
}

/** The users of these ids (in lower case, once each), or 400 schema-violation naming the first that does not exist. */
async function existingMembers(db: Executor, userIds: readonly string[]): Promise<Member[]> {
  const ids = [...new Set(userIds.map(normalizeUserId))];
  const members = new Map((await users.partiesOf(db, ids)).map((member) => [member.id, member]));
  const missing = ids.find((id) => !members.has(id));
  if (missing) throw new ServiceError('schema-violation', `No user has the id ${missing}.`);
  return ids.map((id) => members.get(id) as Member);
}

/** The role's row, locked for the transaction, or 404. */
async function lockedRole(trx: Executor, id: number): Promise<RoleRecord> {
  const record = await roles.lock(trx, id);
  if (!record) throw notFound('The role');
  return record;
}

const nameTaken = (name: string) => new ServiceError('conflict', `A role named "${name}" already exists.`);
const permissionName = (permission: Permission) => `${permission.object_type}:${permission.action}:${permission.instance}`;

/**
 * A role holds at most MAX_ROLE_PERMISSIONS permissions (CONTRACT §7): a
 * create or edit that would leave it with more is 400 schema-violation,
 * before anything is written. `count` is how many it would hold, each once.
 */
function assertRoleSize(count: number): void {
  if (count <= MAX_ROLE_PERMISSIONS) return;
  throw new ServiceError(
    'schema-violation',
    `A role holds at most ${MAX_ROLE_PERMISSIONS} permissions; this would leave it with ${count}. Nothing was changed.`,
    { limit: MAX_ROLE_PERMISSIONS, permissions: count },
  );
}

/** A membership's key, for sets of them. */
const membership = (userId: string, roleId: number) => `${userId} ${roleId}`;

/**
 * Gives each of these roles to each of these users who does not hold it yet,
 * recording each gift. The no-escalation rule decides first; then every role
 * must exist (400 naming the first that does not).
 */
export async function giveRoles(trx: Executor, by: Requester, roleIds: readonly number[], members: readonly Member[], context: Context): Promise<void> {
  if (roleIds.length === 0 || members.length === 0) return;
  await assertMayAssignRoles(trx, by, roleIds);
  await assertRolesExist(trx, roleIds);
  const held = new Set((await roles.memberships(trx, roleIds, members.map((member) => member.id))).map((pair) => membership(pair.user_id, pair.role_id)));
  const given = members.flatMap((member) => roleIds.filter((role_id) => !held.has(membership(member.id, role_id))).map((role_id) => ({ member, role_id })));
  await roles.insertMemberships(trx, given.map(({ member, role_id }) => ({ user_id: member.id, role_id })));
  await recordEvents(trx, given.map(({ member, role_id }): AuditEvent => ({ type: 'role-assigned', ...context, subject: member, details: { role_id } })));
}

/** Takes each of these roles from each of these users who holds it (user_roles:edit_members on each role; each must exist), recording each. */
export async function takeRoles(trx: Executor, by: Requester, roleIds: readonly number[], members: readonly Member[], context: Context): Promise<void> {
  if (roleIds.length === 0 || members.length === 0) return;
  await assertMayChangeMembers(trx, by, roleIds);
  await assertRolesExist(trx, roleIds);
  const taken = await roles.memberships(trx, roleIds, members.map((member) => member.id));
  await roles.deleteMemberships(trx, taken);
  const byId = new Map(members.map((member) => [member.id, member]));
  await recordEvents(trx, taken.map(({ user_id, role_id }): AuditEvent => ({ type: 'role-removed', ...context, subject: byId.get(user_id) ?? null, details: { role_id } })));
}

/** POST /roles: user_roles:create, every permission held by the caller, members given by the assignment rule. Runs in the caller's transaction. */
export async function createRole(db: Executor, by: Requester, input: NewRole, context: Context): Promise<Role> {
  await assertRequesterActive(db, by);
  await assertMayCreateRoles(db, by);
  const permissions = distinctPermissions(validPermissions(input.permissions ?? []));
  await assertMayGrantPermissions(db, by, permissions);
  assertRoleSize(permissions.length);
  if (await roles.nameTaken(db, input.display_name)) throw nameTaken(input.display_name);
  const members = await existingMembers(db, input.user_ids ?? []);

  const id = await roles.insert(db, { display_name: input.display_name, description: input.description ?? '', permissions }).catch((error: unknown) => {
    throw isUniqueViolation(error, 'roles', 'display_name') ? nameTaken(input.display_name) : error;
  });
  await recordEvents(db, [{ type: 'role-created', ...context, details: { role_id: id, display_name: input.display_name, permissions: permissions.map(permissionName) } }]);
  await giveRoles(db, by, [id], members, context);
  return roleAfterWrite(db, id);
}

/**
 * PUT /roles/:rid. Each change needs its own permission: name, description
 * and permissions user_roles:edit (and the added permissions held), members
 * what giving and taking roles needs — judged on the role as the edit leaves
 * it. Administrators' permissions never change (403 default-roles-immutable).
 */
export async function editRole(trx: Executor, by: Requester, id: number, changes: RoleEdit, context: Context): Promise<Role> {
  await assertRequesterActive(trx, by);
  await assertMayEditRoleOrMembers(trx, by, id);
  const current = await lockedRole(trx, id);
  const held = rolePermissions(current);

  const fields = {
    ...(changes.display_name !== undefined && changes.display_name !== current.display_name ? { display_name: changes.display_name } : {}),
    ...(changes.description !== undefined && changes.description !== current.description ? { description: changes.description } : {}),
  };
  const permissions = changes.permissions === undefined ? held : distinctPermissions(validPermissions(changes.permissions));
  const added = permissionsNotIn(permissions, held);
  const removed = permissionsNotIn(held, permissions);
  if (Object.keys(fields).length > 0 || added.length > 0 || removed.length > 0) {
    await assertMayEditRole(trx, by, id);
    if (added.length > 0 || removed.length > 0) assertPermissionsMutable(id, 'change');
    await assertMayGrantPermissions(trx, by, added);
    assertRoleSize(permissions.length);
    if (fields.display_name !== undefined && (await roles.nameTaken(trx, fields.display_name, id))) throw nameTaken(fields.display_name);
    await roles.update(trx, id, { ...fields, ...(added.length > 0 || removed.length > 0 ? { permissions } : {}) }).catch((error: unknown) => {
      throw isUniqueViolation(error, 'roles', 'display_name') && fields.display_name !== undefined ? nameTaken(fields.display_name) : error;
    });
    await recordEvents(trx, [roleEdited(id, Object.keys(fields), added, removed, context)]);
  }

  if (changes.user_ids !== undefined) {
    const wanted = await existingMembers(trx, changes.user_ids);
    const wantedIds = new Set(wanted.map((member) => member.id));
    const currentIds = await roles.memberIds(trx, id);
    const current = new Set(currentIds);
    const leaving = await users.partiesOf(trx, currentIds.filter((userId) => !wantedIds.has(userId)));
    await takeRoles(trx, by, [id], leaving, context);
    await giveRoles(trx, by, [id], wanted.filter((member) => !current.has(member.id)), context);
  }
  return roleAfterWrite(trx, id);
}

function roleEdited(roleId: number, fields: string[], added: readonly Permission[], removed: readonly Permission[], context: Context): AuditEvent {
  return {
    type: 'role-edited',
    ...context,
    details: {
      role_id: roleId,
      fields: [...fields, ...(added.length > 0 || removed.length > 0 ? ['permissions'] : [])],
      ...(added.length > 0 ? { permissions_added: added.map(permissionName) } : {}),
      ...(removed.length > 0 ? { permissions_removed: removed.map(permissionName) } : {}),
    },
  };
}

/** DELETE /roles/:rid: user_roles:edit on the role; never Administrators. Its members lose it (each recorded). */
export async function deleteRole(trx: Executor, by: Requester, id: number, context: Context): Promise<void> {
  await assertRequesterActive(trx, by);
  await assertMayEditRole(trx, by, id);
  assertPermissionsMutable(id, 'delete');
  const current = await lockedRole(trx, id);
  const members = await users.partiesOf(trx, await roles.memberIds(trx, id));
  await roles.remove(trx, id);
  await recordEvents(trx, [
    { type: 'role-deleted', ...context, details: { role_id: id, display_name: current.display_name } },
    ...members.map((member): AuditEvent => ({ type: 'role-removed', ...context, subject: member, details: { role_id: id } })),
  ]);
}

/** POST /command/roles/add-permissions and remove-permissions: user_roles:edit on the role; adding needs each permission held. */
export async function changePermissions(trx: Executor, by: Requester, id: number, change: 'add' | 'remove', given: readonly Permission[], context: Context): Promise<void> {
  await assertRequesterActive(trx, by);
  await assertMayEditRole(trx, by, id);
  assertPermissionsMutable(id, 'change');
  const current = await lockedRole(trx, id);
  const permissions = validPermissions(given);
  const added = change === 'add' ? permissionsNotIn(permissions, current.permissions) : [];
  const removing = new Set(change === 'remove' ? permissions.map(permissionKey) : []);
  const removed = current.permissions.filter((permission) => removing.has(permissionKey(permission)));
  await assertMayGrantPermissions(trx, by, added);
  if (added.length === 0 && removed.length === 0) return;
  const kept = removed.length === 0 ? current.permissions : current.permissions.filter((permission) => !removing.has(permissionKey(permission)));
  assertRoleSize(kept.length + added.length);
  await roles.update(trx, id, { permissions: [...kept, ...added] });
  await recordEvents(trx, [roleEdited(id, [], added, removed, context)]);
}

/** POST /command/roles/add-users and remove-users: the role's members change by the rules of giving and taking roles. */
export async function changeMembers(trx: Executor, by: Requester, id: number, change: 'add' | 'remove', userIds: readonly string[], context: Context): Promise<void> {
  await assertRequesterActive(trx, by);
  await assertMayChangeMembers(trx, by, [id]);
  await lockedRole(trx, id);
  const members = await existingMembers(trx, userIds);
  await (change === 'add' ? giveRoles : takeRoles)(trx, by, [id], members, context);
}


/** POST /command/users/add-roles and remove-roles: one user's roles change by the rules of giving and taking roles; 404 when no user has the id. */
export async function changeRolesOf(trx: Executor, by: Requester, userId: string, change: 'add' | 'remove', roleIds: readonly number[], context: Context): Promise<void> {
  const user = await lockUserCheckingRequester(trx, by, userId);
  const ids = [...new Set(roleIds)];
  await assertMayChangeMembers(trx, by, ids);
  if (!user) throw notFound('The user');
  const member = { id: user.id, login: user.login };
  await (change === 'add' ? giveRoles : takeRoles)(trx, by, ids, [member], context);
}
