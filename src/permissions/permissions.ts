// Permissions: {object_type, action, instance}, granted through roles.
// Superusers may do everything. The object types and actions are PE's, with
// the operator's own (catalogue.ts, CONTRACT §3, §10, §13); an instance is
// "*" (every object) or one object's id — a user id for users, a role id for
// user_roles, a node group id for node_groups, … — where the action can name
// one object; otherwise "*" only, as PE requires.

import type { Permission } from '../shapes.js';
import * as groups from '../store/groups.js';
import * as roles from '../store/roles.js';
import type { Executor } from '../store/transaction.js';
import * as users from '../store/users.js';
import { ServiceError, permissionDenied } from '../errors.js';
import { ADMINISTRATORS_ROLE_ID, INSTANCE_FORMS, PE_PERMISSION_TYPES, defaultRolePermissions, findAction } from '../catalogue/catalogue.js';
import { normalizeUserId } from './user-ids.js';

export type { Permission } from '../shapes.js';
export { ADMINISTRATORS_ROLE_ID } from '../catalogue/catalogue.js';

export interface Actor {
  id: string;
  login: string;
  is_superuser: boolean;
  is_remote: boolean;
}

export function isKnownAction(objectType: string, action: string): boolean {
  return findAction(objectType, action) !== undefined;
}

/**
 * The permissions as stored (user ids in lower case), or 400
 * schema-violation naming the first of unknown type or action, or whose
 * instance names no possible object: such a permission would be stored,
 * listed, and grant nothing. The instance is never quoted back: what a
 * client sends where an id belongs may be a login token (CONTRACT §7).
 */
export function validPermissions(permissions: readonly Permission[]): Permission[] {
  return permissions.map((given, index) => {
    const permission = { ...given, instance: normalizeUserId(given.instance) };
    const details = { index, object_type: permission.object_type, action: permission.action };
    const known = findAction(permission.object_type, permission.action);
    if (!known) throw new ServiceError('schema-violation', `Unknown permission ${permission.object_type}:${permission.action}.`, details);
    if (permission.instance === '*') return permission;
    const kind = known.action.instance;
    if (kind === undefined) {
      throw new ServiceError('schema-violation', `The instance of ${permission.object_type}:${permission.action} is always "*".`, details);
    }
    if (!INSTANCE_FORMS[kind].test(permission.instance)) {
      throw new ServiceError('schema-violation', `The instance of a ${permission.object_type}:${permission.action} permission is "*" or ${INSTANCE_FORMS[kind].names}; this one is neither.`, details);
    }
    return permission;
  });
}

/** Every permission the user holds through its roles (Administrators: every permission there is). */
export async function permissionsOf(db: Executor, userId: string): Promise<Permission[]> {
  return (await roles.permissionsByRoleOf(db, userId)).flatMap(rolePermissions);
}

// Lists of permissions are compared through a canonical key of each, in
// sets: de-duplicating, subtracting and checking a list against what is
// held take time in proportion to the lists, never their product (a role
// holds up to 1,000 permissions, and a request names as many).

/**
 * The canonical key of a permission: equal permissions have equal keys,
 * different ones different keys (each part after its length, so no text in
 * one part can pass for another). Plain concatenation: a request of 1,000
 * permissions makes thousands of keys.
 */
export const permissionKey = ({ object_type, action, instance }: Permission): string => `${object_type.length}:${object_type}${action.length}:${action}${instance}`;

/** Each permission once, in the order first given. */
export function distinctPermissions(permissions: readonly Permission[]): Permission[] {
  return permissionsNotIn(permissions, []);
}

/** Those of `permissions` not among `others`, once each, in the order first given. */
export function permissionsNotIn(permissions: readonly Permission[], others: readonly Permission[]): Permission[] {
  const seen = new Set(others.map(permissionKey));
  return permissions.filter((permission) => {
    const key = permissionKey(permission);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * What these held permissions cover, to ask about many permissions: on "*"
 * only a "*" does; on one object, that object's or "*".
 */
export function coverage(held: readonly Permission[]): (wanted: Permission) => boolean {
  const keys = new Set(held.map(permissionKey));
  return (wanted) => keys.has(permissionKey({ ...wanted, instance: '*' })) || keys.has(permissionKey(wanted));
}

/** Whether these held permissions cover `wanted` (coverage, for one question). */
export function covers(held: readonly Permission[], wanted: Permission): boolean {
  return coverage(held)(wanted);
}

export async function hasPermission(
  db: Executor,
  actor: Actor,
  objectType: string,
  action: string,
  instance: string,
): Promise<boolean> {
  if (actor.is_superuser) return true;
  return covers(await permissionsOf(db, actor.id), { object_type: objectType, action, instance });
}

/**
 * The instances of one object type and action that the user may act on:
 * ["*"] for a superuser or a holder on "*", else the ids it holds the action
 * on (sorted), [] for none.
 */
export function permittedInstances(held: readonly Permission[] | 'all', objectType: string, action: string): string[] {
  if (held === 'all') return ['*'];
  const instances = held.filter((permission) => permission.object_type === objectType && permission.action === action).map((permission) => permission.instance);
  return instances.includes('*') ? ['*'] : [...new Set(instances)].sort();
}

/**
 * The requester's own account must still be active when its request writes
 * (CONTRACT §3): checked inside the write's transaction, with the requester's
 * row locked until it commits, so a revocation that committed first wins, and
 * one that comes later waits for this write: once a revocation has answered,
 * no write of that user commits, on any instance. Every write transaction
 * with a requester starts with it.
 */
export async function assertRequesterActive(trx: Executor, by: Actor | null): Promise<void> {
  if (by && (await users.isRevokedLocked(trx, by.id)) !== false) throw revokedRequester();
}

/** The answer to a request of a user who is revoked (or gone) by the time it writes. */
export const revokedRequester = () => new ServiceError('user-revoked', 'This account is revoked. An administrator can reinstate it or issue a password reset token.');

/**
 * A change to one user by a requester: the requester's check
 * (assertRequesterActive) and the user's row lock (users.lock), taken in the
 * order of the two ids, so that two requests each changing the other's
 * account wait for one another instead of deadlocking. A user changing
 * itself takes its row for the change first; its check then finds the lock
 * held. The user's row, or undefined when there is no such user.
 */
export async function lockUserCheckingRequester(trx: Executor, by: Actor | null, userId: string): Promise<users.UserRecord | undefined> {
  if (by && by.id < userId) {
    await assertRequesterActive(trx, by);
    return users.lock(trx, userId);
  }
  const row = await users.lock(trx, userId);
  await assertRequesterActive(trx, by);
  return row;
}

/**
 * Asking what another user may do (POST /permitted, GET /permitted/…/:uuid)
 * needs what reading that user needs: a superuser or any permission on users.
 * Those callers can read the user's role_ids and every role's permissions
 * anyway. Everyone may ask about themselves.
 */
export async function assertMayQueryPermissionsOf(db: Executor, by: Actor, subjectId: string): Promise<void> {
  if (by.id === subjectId || (await hasAnyUserPermission(db, by))) return;
  throw permissionDenied("Asking what another user may do needs a superuser or a permission on users.");
}

/** What the subject holds: 'all' for a superuser, nothing for a revoked user (it may do nothing); 404 when no user has the id. */
async function heldBy(db: Executor, subjectId: string): Promise<readonly Permission[] | 'all'> {
  const subject = await users.byId(db, subjectId);
  if (!subject) throw new ServiceError('not-found', 'The user was not found.');
  // A user who must change its password may do nothing until it has.
  if (subject.is_revoked || subject.password_change_required) return [];
  return subject.is_superuser ? 'all' : permissionsOf(db, subjectId);
}

/**
 * What the subject of a permission question holds. PE lets it be a group
 * too: what its members get through it, its roles' permissions — which any
 * caller may ask, as any may read groups and roles. Asking about another
 * user needs what reading that user needs.
 */
async function heldBySubject(db: Executor, by: Actor, subjectId: string): Promise<readonly Permission[] | 'all'> {
  if (subjectId !== by.id && (await groups.byId(db, subjectId))) return (await roles.permissionsByRoleOfGroup(db, subjectId)).flatMap(rolePermissions);
  await assertMayQueryPermissionsOf(db, by, subjectId);
  return heldBy(db, subjectId);
}

/** POST /permitted: for each permission, whether the subject (a user or a group) may act so. A permission of unknown type or action is false. */
export async function checkPermissions(db: Executor, by: Actor, subjectId: string, permissions: readonly Permission[]): Promise<boolean[]> {
  const held = await heldBySubject(db, by, subjectId);
  const covered = held === 'all' ? () => true : coverage(held);
  return permissions.map((wanted) => {
    const permission = { ...wanted, instance: normalizeUserId(wanted.instance) };
    return isKnownAction(permission.object_type, permission.action) && covered(permission);
  });
}

/** GET /permitted/:object_type/:action[/:uuid]: the instances the subject (a user or a group) may act on; 404 for an unknown type or action. */
export async function permittedFor(db: Executor, by: Actor, subjectId: string, objectType: string, action: string): Promise<string[]> {
  if (!isKnownAction(objectType, action)) throw new ServiceError('not-found', `There is no permission ${objectType}:${action}.`);
  return permittedInstances(await heldBySubject(db, by, subjectId), objectType, action);
}

export type UserAction = (typeof PE_PERMISSION_TYPES)[0]['actions'][number]['name'];
const USER_ACTIONS = PE_PERMISSION_TYPES[0].actions.map((action) => action.name);

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
  const covered = coverage(await permissionsOf(db, actor.id));
  const holds = (action: UserAction) => covered({ object_type: 'users', action, instance: userId });
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

/** A role's permissions as they hold: Administrators' are every permission there is (PE's and the operator's types), whatever its row says. */
export function rolePermissions(role: { id: number; permissions: readonly Permission[] }): Permission[] {
  return role.id === ADMINISTRATORS_ROLE_ID ? defaultRolePermissions({ display_name: 'Administrators' }) : [...role.permissions];
}
