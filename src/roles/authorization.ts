// Who may do what to a role, and the one rule for giving roles (no
// escalation). Each rule is one named function; the operations in roles.ts
// and users.ts call them inside their write transaction.

import { ServiceError, permissionDenied } from '../errors.js';
import { ADMINISTRATORS_ROLE_ID, coverage, hasPermission, permissionsOf, rolePermissions, type Actor, type Permission } from '../permissions/permissions.js';
import * as roles from '../store/roles.js';
import type { Executor } from '../store/transaction.js';

/** Who asks: a user with a login token, or null for the operator at the server's shell, who may do everything. */
export type Requester = Actor | null;

const named = (permission: Permission) => `${permission.object_type}:${permission.action}:${permission.instance}`;

/** POST /roles needs user_roles:create. */
export async function assertMayCreateRoles(db: Executor, by: Requester): Promise<void> {
  if (by && !(await hasPermission(db, by, 'user_roles', 'create', '*'))) throw permissionDenied('Creating roles needs user_roles:create.');
}

/** Editing a role's name, description or permissions, and deleting it, need user_roles:edit on that role. */
export async function assertMayEditRole(db: Executor, by: Requester, roleId: number): Promise<void> {
  if (by && !(await hasPermission(db, by, 'user_roles', 'edit', String(roleId)))) throw permissionDenied('Changing this role needs user_roles:edit on it.');
}

/**
 * PUT /roles/:rid needs user_roles:edit or user_roles:edit_members on the role
 * before anything is said about it (whether it exists): what the body changes
 * then decides which of them.
 */
export async function assertMayEditRoleOrMembers(db: Executor, by: Requester, roleId: number): Promise<void> {
  if (!by || (await hasPermission(db, by, 'user_roles', 'edit', String(roleId)))) return;
  if (!(await hasPermission(db, by, 'user_roles', 'edit_members', String(roleId)))) throw permissionDenied('Changing this role needs user_roles:edit or user_roles:edit_members on it.');
}

function assertEditsMembers(held: readonly Permission[], roleIds: readonly number[]): void {
  const covered = coverage(held);
  const refused = roleIds.find((id) => !covered({ object_type: 'user_roles', action: 'edit_members', instance: String(id) }));
  if (refused !== undefined) throw permissionDenied(`Changing the members of role ${refused} needs user_roles:edit_members on it.`);
}

/** Taking roles from users (and answering about a role's members) needs user_roles:edit_members on each role. */
export async function assertMayChangeMembers(db: Executor, by: Requester, roleIds: readonly number[]): Promise<void> {
  if (!by || by.is_superuser || roleIds.length === 0) return;
  assertEditsMembers(await permissionsOf(db, by.id), roleIds);
}

/** Throws 403 naming the first of `wanted` that what is held (its coverage) does not cover. */
function assertHoldsAll(covered: (wanted: Permission) => boolean, wanted: readonly Permission[], what: string): void {
  const missing = wanted.find((permission) => !covered(permission));
  if (missing) throw permissionDenied(`${what} needs every permission it gives, and you do not hold ${named(missing)}; only a superuser may give what it does not hold.`);
}

/**
 * No escalation, when permissions are added to a role (POST /roles, PUT
 * /roles/:rid, add-permissions): the caller must hold each permission it
 * adds, or be a superuser. Otherwise user_roles:edit on a role one holds (or
 * can assign) would be every permission there is.
 */
export async function assertMayGrantPermissions(db: Executor, by: Requester, permissions: readonly Permission[]): Promise<void> {
  if (!by || by.is_superuser || permissions.length === 0) return;
  assertHoldsAll(coverage(await permissionsOf(db, by.id)), permissions, 'Adding permissions to a role');
}

/**
 * No escalation, when roles are given to users — the one rule wherever that
 * happens (POST /users role_ids, PUT /users/:sid, POST /roles user_ids, PUT
 * /roles/:rid, add-users, add-roles): a superuser may give any role; anyone
 * else needs user_roles:edit_members on each role and must hold every
 * permission of each role themselves. Roles that do not exist are left to the
 * caller's existence check.
 */
export async function assertMayAssignRoles(db: Executor, by: Requester, roleIds: readonly number[]): Promise<void> {
  if (!by || by.is_superuser || roleIds.length === 0) return;
  const held = await permissionsOf(db, by.id);
  assertEditsMembers(held, roleIds);
  const covered = coverage(held);
  for (const role of await roles.byIds(db, roleIds)) assertHoldsAll(covered, rolePermissions(role), `Giving the role "${role.display_name}"`);
}

/** The default role Administrators keeps every permission, and stays: 403 default-roles-immutable. */
export function assertPermissionsMutable(roleId: number, change: 'change' | 'delete'): void {
  if (roleId !== ADMINISTRATORS_ROLE_ID) return;
  throw new ServiceError(
    'default-roles-immutable',
    change === 'delete' ? 'The default role Administrators cannot be deleted.' : 'The permissions of the default role Administrators cannot be changed.',
  );
}
