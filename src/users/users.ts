// Users: local and remote, their API shape, and the rules for
// creating, editing, revoking and deleting them. Plain functions over the
// store; routes and the CLI both call these.

import { randomUUID } from 'node:crypto';
import { type Party, partyOf, recordEvent, recordEvents } from '../audit/audit.js';
import { ServiceError, notFound } from '../errors.js';
import type { ListedUser, User } from '../shapes.js';
import type { PasswordHasher } from '../passwords/hashing.js';
import { assertPasswordAcceptable, type PasswordRules } from '../passwords/policy.js';
import { cancelResetTokens } from '../passwords/credentials.js';
import { assertRolesExist, giveRoles, takeRoles } from '../roles/roles.js';
import { isUniqueViolation } from '../store/errors.js';
import * as groups from '../store/groups.js';
import * as loginTokens from '../store/login-tokens.js';
import { inTransaction, type Db, type Executor } from '../store/transaction.js';
import * as users from '../store/users.js';
import type { PublicUserRecord, UnboundUser, UserPageQuery, UserRecord } from '../store/users.js';
import { assertMayAssignRoles, assertMayCreateUsers, assertMayDeleteUser, assertMayEditUser, assertMayReadUser, assertRequesterActive, lockUserCheckingRequester, type EditedAspects, type Requester } from './authorization.js';
import { assertNotApiUser } from './api-user.js';
import { assertLoginAcceptable, loginKey, loginLookAlikeFailure, loginSkeleton, loginTakenFailure, type LoginRules } from '../logins.js';

export { loginKey, loginSkeleton } from '../logins.js';

export type { User } from '../shapes.js';

export const BOOTSTRAP_ADMIN_LOGIN = 'admin';

/** By login key, not spelling: a case-only rename to `Admin` must not lift the admin's protections. */
const isBootstrapAdmin = (row: Pick<UserRecord, 'login_key'>) => row.login_key === loginKey(BOOTSTRAP_ADMIN_LOGIN);



/** What a remote user has through directory groups; local users are in none. */
export interface GroupFacts {
  inherited_role_ids: number[];
  group_ids: string[];
}

const NO_GROUPS: GroupFacts = { inherited_role_ids: [], group_ids: [] };

/** The group facts of each of these users: read only for remote users, the only ones groups can hold. */
async function groupFactsOf(db: Executor, rows: readonly PublicUserRecord[]): Promise<Map<string, GroupFacts>> {
  const remoteIds = rows.filter((row) => row.is_remote).map((row) => row.id);
  const facts = new Map<string, GroupFacts>();
  if (remoteIds.length === 0) return facts;
  const [inherited, groupIds] = await Promise.all([groups.inheritedRoleIdsOf(db, remoteIds), groups.groupIdsOf(db, remoteIds)]);
  for (const id of remoteIds) facts.set(id, { inherited_role_ids: inherited.get(id) ?? [], group_ids: groupIds.get(id) ?? [] });
  return facts;
}

/** What showing a user needs besides its row: when a lockout lifts depends on failed-attempts-lockout-duration. */
export interface UserView {
  failedAttemptsLockoutDurationSeconds?: number | undefined;
}

/** When the user's lockout lifts itself: only a lockout by failed logins, and only with a lockout duration set. */
export function lockoutLiftsAt(row: Pick<PublicUserRecord, 'is_revoked' | 'locked_at'>, view: UserView): Date | null {
  const duration = view.failedAttemptsLockoutDurationSeconds;
  if (!row.is_revoked || row.locked_at === null || duration === undefined) return null;
  return new Date(row.locked_at.getTime() + duration * 1000);
}

/** A user as the API shows it, from its public columns, role ids and groups. */
export function toUser(row: PublicUserRecord, roleIds: number[], view: UserView, groupFacts: GroupFacts = NO_GROUPS): User {
  return {
    id: row.id,
    login: row.login,
    email: row.email,
    display_name: row.display_name,
    role_ids: roleIds,
    is_group: false,
    is_remote: row.is_remote,
    is_superuser: row.is_superuser,
    is_revoked: row.is_revoked,
    last_login: row.last_login?.toISOString() ?? null,
    inherited_role_ids: groupFacts.inherited_role_ids,
    group_ids: groupFacts.group_ids,
    failed_attempts: row.failed_attempts,
    locked_at: row.locked_at?.toISOString() ?? null,
    lockout_lifts_at: lockoutLiftsAt(row, view)?.toISOString() ?? null,
    revoked_by: row.revoked_by,
    password_change_required: row.password_change_required,
  };
}

/** GET /users: every user, or only those of `ids` (PE's id filter; unknown ids are left out). */
export async function listUsers(db: Executor, by: Requester, view: UserView, ids?: readonly string[]): Promise<User[]> {
  await assertMayReadUser(db, by, 'all');
  const rows = await users.list(db, ids);
  const roles = await users.roleIdsOf(
    db,
    rows.map((row) => row.id),
  );
  const facts = await groupFactsOf(db, rows);
  return rows.map((row) => toUser(row, roles.get(row.id) ?? [], view, facts.get(row.id)));
}

/**
 * GET /v2/users: one page of the users matching the query, and how many
 * match; the same permission as listing every user. Roles are read only
 * when asked for (PE's include_roles).
 */
export async function pageOfUsers(db: Executor, by: Requester, view: UserView, query: UserPageQuery, includeRoles: boolean): Promise<{ users: ListedUser[]; total: number }> {
  await assertMayReadUser(db, by, 'all');
  const { rows, total } = await users.page(db, query);
  const facts = await groupFactsOf(db, rows);
  if (!includeRoles) return { users: rows.map((row) => withoutRoles(toUser(row, [], view, facts.get(row.id)))), total };
  const roles = await users.roleIdsOf(
    db,
    rows.map((row) => row.id),
  );
  return { users: rows.map((row) => toUser(row, roles.get(row.id) ?? [], view, facts.get(row.id))), total };
}

const withoutRoles = ({ role_ids: _roleIds, ...user }: User): ListedUser => user;

export async function findUserByLogin(db: Executor, login: string): Promise<UserRecord | undefined> {
  return users.byLoginKey(db, loginKey(login));
}

export async function getUser(db: Executor, id: string, view: UserView): Promise<User> {
  const row = await users.byId(db, id);
  if (!row) throw notFound('The user');
  const roles = await users.roleIdsOf(db, [id]);
  return toUser(row, roles.get(id) ?? [], view, (await groupFactsOf(db, [row])).get(id));
}

/** GET /users/:sid: one user, for whoever may read it. */
export async function readUser(db: Executor, by: Requester, id: string, view: UserView): Promise<User> {
  await assertMayReadUser(db, by, id);
  return getUser(db, id, view);
}

/** A user whose row is already at hand: only the roles (and a remote user's groups) are read. */
export async function userFromRow(db: Executor, row: PublicUserRecord, view: UserView): Promise<User> {
  const roles = await users.roleIdsOf(db, [row.id]);
  return currentUser(db, row, roles.get(row.id) ?? [], view);
}

/**
 * GET /users/current, from what the token check read (the row and its role
 * ids): nothing more is read for a local user; a remote user's groups are.
 */
export async function currentUser(db: Executor, row: PublicUserRecord, roleIds: number[], view: UserView): Promise<User> {
  if (!row.is_remote) return toUser(row, roleIds, view);
  return toUser(row, roleIds, view, (await groupFactsOf(db, [row])).get(row.id));
}

export interface NewUser {
  login: string;
  email?: string | undefined;
  display_name?: string | undefined;
  role_ids?: number[] | undefined;
  /** null (PE's client always sends the key) or absent: a local user without a password, who gets one through a reset token. */
  password?: string | null | undefined;
  is_remote?: boolean | undefined;
  is_superuser?: boolean | undefined;
  /** The password given is temporary: the user must change it first (beyond PE). */
  password_change_required?: boolean | undefined;
}

export interface UserDeps {
  db: Db;
  hasher: PasswordHasher;
  config: PasswordRules & LoginRules & UserView;
}

export interface Context {
  actor: Party | null;
  sourceAddress: string | null;
}

const loginTaken = (login: string) => new ServiceError('conflict', loginTakenFailure(login)['friendly-error']);

/**
 * The 409 for a login another user has: PE's remote-user-conflict when one
 * of the two is remote and the other local (the directory's user and a
 * local one would share a login), else the plain conflict.
 */
function loginTakenBy(existing: Pick<UserRecord, 'is_remote'>, login: string, remote: boolean): ServiceError {
  if (existing.is_remote === remote) return loginTaken(login);
  return new ServiceError(
    'remote-user-conflict',
    existing.is_remote
      ? `The login "${login}" is a remote user's (from the directory service): a local user cannot have it.`
      : `The login "${login}" is a local user's: a remote user cannot have it. Rename the local user first.`,
  );
}
const looksTaken = (login: string) => new ServiceError('conflict', loginLookAlikeFailure(login)['friendly-error']);

/**
 * The rule that no two logins may look alike (loginSkeleton: TR39
 * confusables, accents, small capitals, case folding, Cyrillic and Greek
 * capitals): refuses `login` when another user's login has the same
 * skeleton. The unique index on `login_skeleton` holds the same rule against
 * concurrent writers; `conflictFor` turns its refusal into this same answer.
 */
async function assertNotLookAlike(db: Executor, login: string, exceptUserId?: string): Promise<void> {
  if (await users.skeletonTaken(db, loginSkeleton(login), exceptUserId)) throw looksTaken(login);
}

/** The 409 for a unique-index refusal of `login` (a concurrent writer won), or the error unchanged. */
function conflictFor(error: unknown, login: string | undefined): unknown {
  if (login === undefined) return error;
  if (isUniqueViolation(error, 'users', 'login_key')) return loginTaken(login);
  if (isUniqueViolation(error, 'users', 'login_skeleton')) return looksTaken(login);
  return error;
}

export async function createUser(deps: UserDeps, by: Requester, input: NewUser, context: Context): Promise<User> {
  const login = input.login.trim();
  if (input.is_remote && input.password != null) {
    throw new ServiceError('schema-violation', 'A remote user has no password here: its directory service checks it.');
  }
  if (input.password_change_required && input.password == null) {
    throw new ServiceError('schema-violation', 'password_change_required needs a password to change: send one, or issue a reset token instead.', { field: 'password_change_required' });
  }
  const roleIds = [...new Set(input.role_ids ?? [])].sort((a, b) => a - b);
  // Refused before any hash is computed (no one without users:create makes the
  // service hash for them); decided again below, inside the transaction.
  await assertMayCreateUsers(deps.db, by);
  await assertMayAssignRoles(deps.db, by, roleIds);
  assertLoginAcceptable(login, deps.config);
  let passwordHash: string | null = null;
  if (input.password != null) {
    assertPasswordAcceptable(input.password, deps.config, login);
    passwordHash = await deps.hasher.hash(input.password);
  }
  const id = randomUUID();
  await inTransaction(deps.db, async (trx) => {
    await assertRequesterActive(trx, by);
    await assertMayCreateUsers(trx, by);
    await assertMayAssignRoles(trx, by, roleIds);
    const existing = await findUserByLogin(trx, login);
    if (existing) throw loginTakenBy(existing, login, Boolean(input.is_remote));
    await assertNotLookAlike(trx, login);
    await assertRolesExist(trx, roleIds);
    await users.insert(trx, {
      id,
      login,
      login_key: loginKey(login),
      login_skeleton: loginSkeleton(login),
      email: input.email ?? '',
      display_name: input.display_name ?? '',
      is_remote: Boolean(input.is_remote),
      is_superuser: Boolean(input.is_superuser),
      password_hash: passwordHash,
      password_change_required: Boolean(input.password_change_required),
      created_at: Date.now(),
    });
    await users.addRoles(trx, id, roleIds);
    await recordEvent(trx, {
      type: 'user-created',
      actor: context.actor,
      subject: { id, login },
      sourceAddress: context.sourceAddress,
      details: { is_remote: Boolean(input.is_remote), role_ids: roleIds },
    });
  }).catch((error: unknown) => {
    throw conflictFor(error, login);
  });
  return getUser(deps.db, id, deps.config);
}

export interface UserChanges {
  login?: string | undefined;
  email?: string | undefined;
  display_name?: string | undefined;
  role_ids?: number[] | undefined;
  is_revoked?: boolean | undefined;
  /** Beyond PE: an edit like the profile's (users:edit). */
  password_change_required?: boolean | undefined;
}

/**
 * A remote user's login is its directory's: it names the entry the user is
 * bound to, so a rename here (even of its case) could point the account at
 * another directory user. The directory's own rename shows as a new login.
 */
function assertLoginMayChange(user: Pick<UserRecord, 'is_remote'>): void {
  if (user.is_remote) {
    throw new ServiceError('schema-violation', "A remote user's login comes from its directory service and cannot be changed here; send the login unchanged (or leave it out) to edit the rest.", {
      field: 'login',
    });
  }
}

/** What an edit changes, compared with the user as it is. */
export function changedAspects(current: User, changes: UserChanges): EditedAspects {
  const wanted = changes.role_ids === undefined ? undefined : [...new Set(changes.role_ids)].sort((a, b) => a - b);
  const held = [...current.role_ids].sort((a, b) => a - b);
  const revocation = changes.is_revoked !== undefined && changes.is_revoked !== current.is_revoked;
  return {
    edits:
      (changes.login !== undefined && changes.login.trim() !== current.login) ||
      (changes.email !== undefined && changes.email !== current.email) ||
      (changes.display_name !== undefined && changes.display_name !== current.display_name) ||
      (changes.password_change_required !== undefined && changes.password_change_required !== current.password_change_required),
    roles: wanted !== undefined && (wanted.length !== held.length || wanted.some((id, i) => id !== held[i])),
    revocation,
    revokes: revocation && changes.is_revoked === true,
  };
}

/**
 * PUT /users/:sid. Decides and writes from one read inside the transaction,
 * with the user's row locked: of two concurrent edits of one user the second
 * sees the first one's result, so an edit sent with stale values cannot undo
 * an answered revocation or role removal, and is judged on what it would
 * really change.
 */
export async function updateUser(deps: Pick<UserDeps, 'db' | 'config'>, by: Requester, id: string, changes: UserChanges, context: Context): Promise<User> {
  await inTransaction(deps.db, async (trx) => {
    const row = await lockUserCheckingRequester(trx, by, id);
    const current = row ? await userFromRow(trx, row, deps.config) : undefined;
    const aspects = current ? changedAspects(current, changes) : { edits: false, roles: false, revocation: false, revokes: false };
    await assertMayEditUser(trx, by, id, current !== undefined, aspects);
    if (!row || !current) throw notFound('The user');
    assertNotApiUser(id);

    const login = changes.login?.trim();
    const renames = login !== undefined && login !== row.login;
    if (renames) assertLoginMayChange(row);
    const renamed = login !== undefined && loginKey(login) !== row.login_key;
    // A re-spelling of the same login in other capitals can read as another
    // one (`adмin` → `adМin`, a Cyrillic capital М): it is judged like a new login.
    const readsOtherwise = renames && loginSkeleton(login) !== loginSkeleton(row.login);
    if (renamed) {
      assertLoginAcceptable(login, deps.config);
      if (isBootstrapAdmin(row)) {
        throw new ServiceError('permission-denied', 'The login of the bootstrap admin cannot change: the reset script relies on it.');
      }
      const existing = await findUserByLogin(trx, login);
      if (existing) throw loginTakenBy(existing, login, row.is_remote);
    }
    if (renamed || readsOtherwise) await assertNotLookAlike(trx, login, id);
    // A login that reads differently gets its skeleton; one that reads the
    // same keeps the one it has (a grandfathered look-alike keeps none).
    const fields = {
      ...(renames ? { login, login_key: loginKey(login) } : {}),
      ...(renamed || readsOtherwise ? { login_skeleton: loginSkeleton(login) } : {}),
      ...(changes.email !== undefined && changes.email !== row.email ? { email: changes.email } : {}),
      ...(changes.display_name !== undefined && changes.display_name !== row.display_name ? { display_name: changes.display_name } : {}),
      ...(changes.password_change_required !== undefined && changes.password_change_required !== row.password_change_required
        ? { password_change_required: changes.password_change_required }
        : {}),
    };
    const subject = partyOf(row);
    if (Object.keys(fields).length > 0) {
      await users.updateProfile(trx, id, fields);
      await recordEvent(trx, {
        type: 'user-edited',
        actor: context.actor,
        subject: renames ? { id, login } : subject,
        sourceAddress: context.sourceAddress,
        details: { fields: Object.keys(fields).filter((field) => field !== 'login_key' && field !== 'login_skeleton'), ...(renames ? { previous_login: row.login } : {}) },
      });
    }
    if (aspects.roles && changes.role_ids !== undefined) await replaceRoles(trx, by, { id, login: login ?? row.login }, current.role_ids, changes.role_ids, context);
    if (aspects.revocation && changes.is_revoked !== undefined) await setRevoked(trx, row, changes.is_revoked, context);
  }).catch((error: unknown) => {
    throw conflictFor(error, changes.login?.trim());
  });
  return getUser(deps.db, id, deps.config);
}

/** Gives the user exactly `wanted` roles, by the rules of giving and taking roles, recording each one given and taken. */
async function replaceRoles(trx: Executor, by: Requester, user: { id: string; login: string }, held: number[], wanted: number[], context: Context): Promise<void> {
  const roleIds = new Set(wanted);
  const holding = new Set(held);
  await giveRoles(trx, by, [...roleIds].filter((roleId) => !holding.has(roleId)), [user], context);
  await takeRoles(trx, by, held.filter((roleId) => !roleIds.has(roleId)), [user], context);
}

/**
 * Revoking a user also revokes its login tokens and cancels its unused reset
 * tokens (a token issued before the revocation must not undo it; one issued
 * after it still reinstates, which is what issuing it means). Un-revoking
 * clears the failed-attempt count so the user gets a full set of attempts.
 */
export async function setRevoked(trx: Executor, user: Pick<UserRecord, 'id' | 'login'>, revoked: boolean, context: Context): Promise<void> {
  assertNotApiUser(user.id);
  const now = Date.now();
  await users.setRevoked(trx, user.id, revoked, now);
  if (revoked) {
    await loginTokens.revokeAllOf(trx, user.id, now);
    await cancelResetTokens(trx, partyOf(user), 'account-revoked', context);
  }
  await recordEvent(trx, {
    type: revoked ? 'account-revoked' : 'account-unrevoked',
    actor: context.actor,
    subject: partyOf(user),
    sourceAddress: context.sourceAddress,
  });
}

/**
 * POST /command/users/revoke and reinstate: PUT's `is_revoked` on its own.
 * The same decision (users:disable on the user, nobody revokes themselves,
 * taken inside the transaction on the locked row) and the same effects
 * (setRevoked); users:disable is asked whether or not the state changes, so
 * a caller without it learns nothing from a 204. Already in the asked state:
 * nothing is written or recorded.
 */
export async function setUserRevoked(db: Db, by: Requester, id: string, revoked: boolean, context: Context): Promise<void> {
  await inTransaction(db, async (trx) => {
    const row = await lockUserCheckingRequester(trx, by, id);
    await assertMayEditUser(trx, by, id, row !== undefined, { edits: false, roles: false, revocation: true, revokes: revoked });
    if (!row) throw notFound('The user');
    assertNotApiUser(id);
    if (row.is_revoked !== revoked) await setRevoked(trx, row, revoked, context);
  });
}

/**
 * `rbac users unbind`: forgets the directory entry a remote user is bound to
 * (or every user bound to one directory), so that its next successful
 * directory login binds it to the entry its login finds then. For entries
 * the directory changed in a way the binding refuses — moved by a directory
 * that gives no stable entry id, re-created by a restore, carried to a new
 * server — when the operator knows they are still the same people. The
 * operator's alone: no route calls it, since re-pointing an account at
 * another directory entry is exactly what holders of users:edit must not do.
 */
export async function unbindFromDirectory(db: Db, target: { userId: string } | { directoryId: string }, context: Context): Promise<UnboundUser[]> {
  return inTransaction(db, async (trx) => {
    const unbound = await users.unbind(trx, 'userId' in target ? { id: target.userId } : target);
    await recordEvents(
      trx,
      unbound.map((user) => ({
        type: 'user-unbound' as const,
        actor: context.actor,
        subject: partyOf(user),
        sourceAddress: context.sourceAddress,
        details: { directory_id: user.directory_id, dn: user.directory_dn },
      })),
    );
    return unbound;
  });
}

/** DELETE /users/:sid: users:disable on the user, decided inside the transaction like every edit. */
export async function deleteUser(db: Db, by: Requester, id: string, context: Context): Promise<void> {
  await inTransaction(db, async (trx) => {
    const row = await lockUserCheckingRequester(trx, by, id);
    await assertMayDeleteUser(trx, by, id);
    if (!row) throw notFound('The user');
    assertNotApiUser(id);
    if (isBootstrapAdmin(row)) {
      throw new ServiceError('permission-denied', 'The bootstrap admin cannot be deleted: it is the way back in.');
    }
    if (context.actor?.id === id) throw new ServiceError('permission-denied', 'You cannot delete your own account.');
    await users.remove(trx, id);
    await recordEvent(trx, { type: 'user-deleted', actor: context.actor, subject: partyOf(row), sourceAddress: context.sourceAddress });
  });
}
