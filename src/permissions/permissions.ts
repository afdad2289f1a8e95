// Permissions: {object_type, action, instance}, granted through
// roles. Superusers may do everything. Object type `users` has the actions
// create, edit, disable and reset_password; instance is "*" or a user id.

import type { Permission } from '../shapes.js';
import * as roles from '../store/roles.js';
import type { Executor } from '../store/transaction.js';
import * as users from '../store/users.js';
import { permissionDenied } from '../errors.js';

export type { Permission } from '../shapes.js';

export interface Actor {
  id: string;
  login: string;
  is_superuser: boolean;
  is_remote: boolean;
}

export const PERMISSION_TYPES = [
  {
    object_type: 'users',
    display_name: 'Users',
    description: 'Create, edit, revoke and reset the passwords of users.',
    has_instances: true,
    actions: [
      { name: 'create', display_name: 'Create', description: 'Create local and remote users.' },
      { name: 'edit', display_name: 'Edit', description: "Edit a user's login, email, display name and roles." },
      { name: 'disable', display_name: 'Disable', description: 'Revoke, un-revoke or delete a user.' },
      { name: 'reset_password', display_name: 'Reset password', description: 'Issue password reset tokens for a local user.' },
    ],
  },
] as const;

export function isKnownPermission(permission: Permission): boolean {
  const type = PERMISSION_TYPES.find((candidate) => candidate.object_type === permission.object_type);
  return type !== undefined && type.actions.some((action) => action.name === permission.action);
}

/** Every permission the user holds through its roles. */
export async function permissionsOf(db: Executor, userId: string): Promise<Permission[]> {
  return roles.permissionsOf(db, userId);
}

const grants = (permission: Permission, objectType: string, action: string, instance: string) =>
  permission.object_type === objectType && permission.action === action && (permission.instance === '*' || permission.instance === instance);

export async function hasPermission(
  db: Executor,
  actor: Actor,
  objectType: string,
  action: string,
  instance: string,
): Promise<boolean> {
  if (actor.is_superuser) return true;
  return (await permissionsOf(db, actor.id)).some((permission) => grants(permission, objectType, action, instance));
}

export type UserAction = (typeof PERMISSION_TYPES)[0]['actions'][number]['name'];
const USER_ACTIONS = PERMISSION_TYPES[0].actions.map((action) => action.name);

/** Whether the actor may take a users action on one user, and if not, why. */
export type UserPermission = 'granted' | 'not-held' | 'superuser-only';

/**
 * The actor's users:<action> permissions on one user, every action at once
 * (one read of the actor's roles, at most one of the target). A delegated
 * permission never reaches a superuser: whoever may edit, revoke, delete or
 * reset the password of a superuser holds that superuser's powers, so only
 * superusers may. A user id that does not exist is 'granted' to a holder of
 * the permission (the caller's own lookup then answers 404) and 'not-held' to
 * anyone else, who so learns nothing about which ids exist.
 */
export async function userPermissions(db: Executor, actor: Actor, userId: string): Promise<Record<UserAction, UserPermission>> {
  const verdicts = {} as Record<UserAction, UserPermission>;
  if (actor.is_superuser) {
    for (const action of USER_ACTIONS) verdicts[action] = 'granted';
    return verdicts;
  }
  const held = await permissionsOf(db, actor.id);
  const holds = (action: UserAction) => held.some((permission) => grants(permission, 'users', action, userId));
  let targetIsSuperuser: boolean | undefined;
  for (const action of USER_ACTIONS) {
    if (!holds(action)) {
      verdicts[action] = 'not-held';
      continue;
    }
    targetIsSuperuser ??= await users.isSuperuser(db, userId);
    verdicts[action] = targetIsSuperuser ? 'superuser-only' : 'granted';
  }
  return verdicts;
}

/** Throws 403 permission-denied unless granted: `notHeldMessage` names the permission that is missing. */
export function assertGranted(permission: UserPermission, notHeldMessage: string): void {
  if (permission === 'superuser-only') throw permissionDenied('Only a superuser can change, revoke, delete or reset the password of a superuser.');
  if (permission === 'not-held') throw permissionDenied(notHeldMessage);
}

/** Whether the actor holds any permission on users at all (needed to look users up). */
export async function hasAnyUserPermission(db: Executor, actor: Actor): Promise<boolean> {
  if (actor.is_superuser) return true;
  return (await permissionsOf(db, actor.id)).some((permission) => permission.object_type === 'users');
}
