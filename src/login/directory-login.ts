// POST /auth/token for a login the directory checks (CONTRACT §11): a login
// with no local user, or a remote user's, once a directory is set.
//
// 1. Each directory in turn is asked for the one user whose lookup attribute
//    is the login (an escaped filter value: never filter syntax).
// 2. Found: the remote user is created here if new, and the password is
//    checked by binding as the directory's entry — under the same lockout
//    rule as a local password (an attempt is claimed first; a wrong password
//    keeps it; the last one revokes the account).
// 3. Right: the user's email and display name are refreshed from the
//    directory, their imported groups set from the directory's groups (and
//    the groups of those, with search_nested_groups), and a login token issued.
//
// A remote user is bound to its directory entry (CONTRACT §11): the first
// successful login records the directory and the entry (DN, and its stable
// id where the directory gives one), a bound user is looked up in its own
// directory only, and a login that finds another entry is refused before any
// password is tried (isBoundEntry).
//
// Every failed answer spends a password hash's worth of work after the
// directory's (the same decoy an unknown local login spends), so a login the
// directory does not know answers no sooner than a wrong password; a
// successful login spends none. Connections to the directory are reused
// (src/directory/connection-pool.ts).
// A directory that cannot be asked answers 503 — for these logins only:
// local users never reach this file.

import { randomUUID } from 'node:crypto';
import { recordEvent } from '../audit/audit.js';
import { withPooledDirectory } from '../directory/connection-pool.js';
import { DirectoryUnavailable, type DirectoryAccess, type DirectorySession, type DirectoryUser } from '../directory/ldap.js';
import { ServiceError } from '../errors.js';
import { groupLoginKey } from '../groups/groups.js';
import { loginKey, loginSkeleton } from '../logins.js';
import { isUniqueViolation } from '../store/errors.js';
import * as groups from '../store/groups.js';
import { inTransaction, type Executor } from '../store/transaction.js';
import * as users from '../store/users.js';
import type { DirectoryBinding, UserRecord } from '../store/users.js';
import { issueLoginToken } from './login-tokens.js';
import type { LoginDeps, LoginRequest } from './login.js';
import { badCredentials, checkPassword, recordFailedCheck, releasingOnError, type PasswordCheckDeps } from './password-check.js';

const directoryUnavailable = () =>
  new ServiceError('directory-unavailable', 'The directory service cannot be reached; directory users cannot log in until it can. Local users are not affected.');

/** `known`: the remote user the login names here, if any (login's lookup read it). */
export async function loginWithDirectory(
  deps: LoginDeps,
  directories: readonly DirectoryAccess[],
  known: UserRecord | undefined,
  request: LoginRequest,
  lifetime: number | null,
  sourceAddress: string | null,
): Promise<string> {
  const checkDeps: PasswordCheckDeps = {
    db: deps.db,
    hasher: deps.hasher,
    failedAttemptsLockout: deps.config.failedAttemptsLockout,
    lockoutDurationSeconds: deps.config.failedAttemptsLockoutDurationSeconds,
  };
  // A bound user is asked of its own directory only: another directory's entry with the same login is someone else.
  const binding = known?.is_remote ? known.directory : null;
  const asked = binding ? directories.filter((access) => access.settings.id === binding.directoryId) : directories;
  const decoy = failureDecoy(deps, request.password);
  try {
    return await askDirectories(deps, checkDeps, asked, request, lifetime, sourceAddress, decoy);
  } catch (error) {
    await decoy.spend();
    throw error;
  }
}

/**
 * The decoy hash of a failed login: started as soon as the login is known to
 * fail (a wrong password, no entry), so it runs alongside the failure's
 * database writes as a local check's hash runs before them; spent at the
 * latest when the failure is answered. Never on success.
 */
interface FailureDecoy {
  start(): void;
  spend(): Promise<void>;
}

function failureDecoy(deps: LoginDeps, password: string): FailureDecoy {
  let running: Promise<void> | undefined;
  const start = () => (running ??= deps.hasher.verifyDummy(password).catch(() => {}));
  return {
    start: () => void start(),
    spend: () => start(),
  };
}

/** The attribute a stable entry id came from (`entryUUID` of `entryUUID:…`). */
const idAttribute = (entryId: string) => entryId.slice(0, entryId.indexOf(':'));

/**
 * Whether the entry a login found is the one the user is bound to: the same
 * directory, and the same entry — by its stable id when the binding and the
 * directory's answer have one from the same attribute (it survives a move; an
 * entry deleted and created again has a new one), else by DN (compared
 * without case, as LDAP compares the usual naming attributes). A user not
 * yet bound (created through the API, or before bindings were recorded)
 * takes the entry: it is bound to it at this login.
 */
export function isBoundEntry(binding: DirectoryBinding | null, directoryId: string, found: Pick<DirectoryUser, 'dn' | 'entryId'>): boolean {
  if (binding === null) return true;
  if (binding.directoryId !== directoryId) return false;
  // Ids from different attributes (a directory that started giving entryUUID besides nsUniqueId) say nothing about each other.
  if (binding.entryId !== null && found.entryId !== null && idAttribute(binding.entryId) === idAttribute(found.entryId)) return binding.entryId === found.entryId;
  return binding.dn.toLowerCase() === found.dn.toLowerCase();
}

/** The account was bound to another entry between the check and the login's write. */
class BoundMeanwhile extends Error {}

/**
 * A login that found another entry than the account's: recorded with both
 * DNs and refused like a wrong password. No attempt was claimed, so it does
 * not count toward lockout: no password was tried, and counting would let
 * anyone lock the account's owner out with a login that can never succeed.
 */
async function refuseOtherEntry(checkDeps: PasswordCheckDeps, user: UserRecord, directoryId: string, found: DirectoryUser, sourceAddress: string | null): Promise<never> {
  const bound = user.directory;
  await recordFailedCheck(
    checkDeps,
    { id: user.id, login: user.login },
    {
      reason: 'directory-entry-mismatch',
      purpose: 'login',
      ...(bound ? { bound_dn: bound.dn } : {}),
      found_dn: found.dn,
      ...(bound && bound.directoryId !== directoryId ? { bound_directory_id: bound.directoryId, found_directory_id: directoryId } : {}),
    },
    { actor: null, sourceAddress },
  );
  throw badCredentials();
}

async function askDirectories(
  deps: LoginDeps,
  checkDeps: PasswordCheckDeps,
  directories: readonly DirectoryAccess[],
  request: LoginRequest,
  lifetime: number | null,
  sourceAddress: string | null,
  decoy: FailureDecoy,
): Promise<string> {
  const unavailable: { access: DirectoryAccess; error: DirectoryUnavailable }[] = [];
  for (const access of directories) {
    try {
      const token = await withPooledDirectory(access, async (session) => {
        const found = await session.findUser(request.login);
        return found ? logInFound(deps, checkDeps, session, access, found, request, lifetime, sourceAddress, decoy) : undefined;
      });
      if (token !== undefined) return token;
    } catch (error) {
      if (!(error instanceof DirectoryUnavailable)) throw error;
      unavailable.push({ access, error });
    }
  }

  if (unavailable.length > 0) {
    await inTransaction(deps.db, async (trx) => {
      for (const { access, error } of unavailable) {
        await recordEvent(trx, { type: 'directory-unavailable', actor: null, sourceAddress, details: { directory_id: access.settings.id, stage: error.stage } });
      }
    });
    throw directoryUnavailable();
  }
  // No directory has the login: the same answer as a wrong directory password,
  // after the same statements — the user's lookup, and the decoy write where
  // that claims an attempt — with the decoy hash alongside the same record.
  const known = await users.byLoginKey(deps.db, loginKey(request.login));
  await users.decoyWrite(deps.db);
  decoy.start();
  await recordFailedCheck(checkDeps, { id: known?.id ?? null, login: known?.login ?? request.login }, { reason: 'directory-unknown-login', purpose: 'login' }, { actor: null, sourceAddress });
  throw badCredentials();
}

async function logInFound(
  deps: LoginDeps,
  checkDeps: PasswordCheckDeps,
  session: DirectorySession,
  access: DirectoryAccess,
  found: DirectoryUser,
  request: LoginRequest,
  lifetime: number | null,
  sourceAddress: string | null,
  decoy: FailureDecoy,
): Promise<string> {
  const user = await remoteUserFor(deps.db, found, sourceAddress);
  // The directory's login is a local user's here (the directory spells it so that it matches one): never the directory's to check.
  if (!user || !user.is_remote) {
    await recordFailedCheck(checkDeps, { id: user?.id ?? null, login: found.login }, { reason: 'no-password', purpose: 'login' }, { actor: null, sourceAddress });
    throw badCredentials();
  }
  const directoryId = access.settings.id;
  if (!isBoundEntry(user.directory, directoryId, found)) return refuseOtherEntry(checkDeps, user, directoryId, found, sourceAddress);
  const context = { actor: null, sourceAddress, purpose: 'login' as const };
  const bindAsEntry = async () => {
    const right = await session.checkPassword(found.dn, request.password);
    if (!right) decoy.start();
    return right;
  };
  if (!(await checkPassword(checkDeps, user, bindAsEntry, context, 'directory-wrong-password'))) {
    throw badCredentials();
  }
  try {
    return await releasingOnError(deps, user.id, async () => {
      const directoryGroups = await session.groupsOf(found.dn);
      const imported = (await groups.byLoginKeys(deps.db, directoryGroups.map((group) => groupLoginKey(group.lookup)))).filter(
        (group) => group.directory_id === null || group.directory_id === directoryId,
      );
      return issueLoginToken(deps.db, user, request, lifetime, sourceAddress, async (trx) => {
        await recordBinding(trx, user, directoryId, found, sourceAddress);
        await refreshProfile(trx, user, found);
        await groups.replaceMemberships(
          trx,
          user.id,
          imported.map((group) => group.id),
        );
      });
    });
  } catch (error) {
    if (!(error instanceof BoundMeanwhile)) throw error;
    return refuseOtherEntry(checkDeps, (await users.byId(deps.db, user.id)) ?? user, directoryId, found, sourceAddress);
  }
}

/**
 * Records the entry a successful login proved: at the user's first directory
 * login, after a move (a new DN for the same stable id), or when the
 * directory first gives the entry's stable id. Written only if the binding is
 * still the one judged (BoundMeanwhile otherwise).
 */
async function recordBinding(trx: Executor, user: UserRecord, directoryId: string, found: DirectoryUser, sourceAddress: string | null): Promise<void> {
  const previous = user.directory;
  // An answer without a stable id keeps the one recorded: the DN decided this time.
  const binding: DirectoryBinding = { directoryId, dn: found.dn, entryId: found.entryId ?? previous?.entryId ?? null };
  if (previous && previous.directoryId === binding.directoryId && previous.dn === binding.dn && previous.entryId === binding.entryId) return;
  if (!(await users.bindToEntry(trx, user.id, previous, binding))) throw new BoundMeanwhile();
  await recordEvent(trx, {
    type: 'user-bound',
    actor: null,
    subject: { id: user.id, login: user.login },
    sourceAddress,
    details: { directory_id: directoryId, dn: found.dn, ...(previous && previous.dn !== found.dn ? { previous_dn: previous.dn } : {}) },
  });
}

/** The directory keeps a remote user's email and display name: each login copies them. */
async function refreshProfile(trx: Executor, user: UserRecord, found: DirectoryUser): Promise<void> {
  const changes = {
    ...(found.email !== user.email ? { email: found.email } : {}),
    ...(found.displayName !== user.display_name ? { display_name: found.displayName } : {}),
  };
  await users.updateProfile(trx, user.id, changes);
}

/**
 * The user the directory's entry is here: the existing one with its login,
 * or a new remote user. A login that looks like another user's (TR39
 * skeleton) is not created: undefined.
 */
async function remoteUserFor(db: LoginDeps['db'], found: DirectoryUser, sourceAddress: string | null): Promise<UserRecord | undefined> {
  const key = loginKey(found.login);
  const existing = await users.byLoginKey(db, key);
  if (existing) return existing;
  const id = randomUUID();
  try {
    await inTransaction(db, async (trx) => {
      await users.insert(trx, {
        id,
        login: found.login,
        login_key: key,
        login_skeleton: loginSkeleton(found.login),
        email: found.email,
        display_name: found.displayName,
        is_remote: true,
        is_superuser: false,
        password_hash: null,
        created_at: Date.now(),
      });
      await recordEvent(trx, { type: 'user-created', actor: null, subject: { id, login: found.login }, sourceAddress, details: { is_remote: true, role_ids: [] } });
    });
  } catch (error) {
    // Another login of the same user created it first; or the login looks like another user's.
    if (!isUniqueViolation(error, 'users', 'login_key') && !isUniqueViolation(error, 'users', 'login_skeleton')) throw error;
  }
  return users.byLoginKey(db, key);
}
