// Who may do what to a user. Each rule is one named function. The domain
// operations in users.ts call them inside their write transaction, after
// locking the target row, so a decision and the write it allows see the same
// state: an edit cannot undo a revocation or a role removal that committed
// while it was in flight.

import type { Executor } from '../store/transaction.js';
import { notFound, permissionDenied } from '../errors.js';
import { assertGranted, hasAnyUserPermission, hasPermission, userPermissions, type Actor } from '../permissions/permissions.js';

/** Who asks: a user with a login token, or null for the operator at the server's shell (the CLI), who may do everything. */
export type Requester = Actor | null;

/** What an edit would change, compared with the user as it is now. */
export interface EditedAspects {
  /** login, email or display name */
  edits: boolean;
  roles: boolean;
  /** true when is_revoked changes */
  revocation: boolean;
  /** the change revokes the user (rather than reinstating it) */
  revokes: boolean;
}

export { assertRequesterActive, lockUserCheckingRequester } from '../permissions/permissions.js';

export async function assertMayCreateUsers(trx: Executor, by: Requester): Promise<void> {
  if (by && !(await hasPermission(trx, by, 'users', 'create', '*'))) throw permissionDenied('Creating users needs users:create.');
}

// Giving and taking roles is decided by the roles' own rule, wherever it
// happens (src/roles/authorization.ts: assertMayAssignRoles, no escalation).
export { assertMayAssignRoles } from '../roles/authorization.js';

/**
 * PUT /users/:sid: users:edit for login, email and display name, users:disable
 * for revoking or reinstating (roles: the rule of giving and taking roles, as
 * the edit applies them); nobody revokes themselves. Someone holding neither users:edit nor users:disable on the
 * user gets 403 before learning whether the id exists.
 */
export async function assertMayEditUser(trx: Executor, by: Requester, userId: string, exists: boolean, aspects: EditedAspects): Promise<void> {
  if (by) {
    const { edit, disable } = await userPermissions(trx, by, userId);
    if (edit !== 'granted' && disable !== 'granted') assertGranted(edit === 'superuser-only' ? edit : disable, 'Changing this user needs users:edit or users:disable.');
    if (!exists) throw notFound('The user');
    if (aspects.edits) assertGranted(edit, 'Editing this user needs users:edit.');
    if (aspects.revocation) assertGranted(disable, 'Revoking or reinstating this user needs users:disable.');
    if (aspects.revokes && by.id === userId) throw permissionDenied('You cannot revoke your own account.');
  }
  if (!exists) throw notFound('The user');
}

/** DELETE /users/:sid needs users:disable on the user (a superuser for a superuser). */
export async function assertMayDeleteUser(trx: Executor, by: Requester, userId: string): Promise<void> {
  if (by) assertGranted((await userPermissions(trx, by, userId)).disable, 'Deleting this user needs users:disable.');
}

/** POST /users/:sid/password/reset needs users:reset_password on the user (a superuser for a superuser: setting their password makes one them). */
export async function assertMayIssueResetToken(db: Executor, by: Requester, userId: string): Promise<void> {
  if (by) assertGranted((await userPermissions(db, by, userId)).reset_password, 'Issuing a reset token for this user needs users:reset_password.');
}

/** Reading every user (and learning which logins exist) needs a superuser or any permission on users: those callers need ids. */
export async function mayReadAllUsers(db: Executor, by: Requester): Promise<boolean> {
  return !by || (await hasAnyUserPermission(db, by));
}

/** Reading users: everyone reads their own record; others need what mayReadAllUsers asks. */
export async function assertMayReadUser(db: Executor, by: Requester, userId: string | 'all'): Promise<void> {
  if ((by && by.id === userId) || (await mayReadAllUsers(db, by))) return;
  throw permissionDenied(userId === 'all' ? 'Listing users needs a permission on users.' : undefined);
}

/**
 * Seeing and revoking a user's login tokens (GET /users/:sid/tokens, DELETE
 * /rbac-api/v2/tokens): one's own always; another's with users:disable on
 * that user (a superuser's only by superusers) — PE's users:disable
 * "includes token revocation", and whoever may revoke the tokens needs their
 * ids. `userId` undefined is a user that does not exist (a login or id that
 * names no one): 404 for a holder of users:disable on every user, 403 for
 * anyone else, who so learns nothing about which users exist.
 */
export async function assertMayManageTokensOf(db: Executor, by: Requester, userId: string | undefined): Promise<void> {
  if (!by || (userId !== undefined && by.id === userId)) return;
  assertGranted((await userPermissions(db, by, userId ?? NO_USER)).disable, 'Listing or revoking the login tokens of another user needs users:disable on that user.');
  if (userId === undefined) throw notFound('The user');
}

/** DELETE /rbac-api/v2/tokens/:token is for superusers (PE: "only admins"); anyone may revoke a token they hold with DELETE /rbac-api/v2/tokens. */
export function assertMayRevokeAnyToken(by: Requester): void {
  if (by && !by.is_superuser) throw permissionDenied('Revoking a token by path is for superusers; to revoke a token you hold, send it in revoke_tokens to DELETE /rbac-api/v2/tokens.');
}

/** The id no user has: what an unknown user is judged as. */
const NO_USER = '00000000-0000-0000-0000-000000000000';
