// The users and user_roles tables. Every read of a user, every change to one
// and every lockout counter update is one named operation here; flags come
// out as booleans and times as Dates. Conditional updates carry their rule in
// their WHERE, so they hold across instances on one database.

import { sql, type ExpressionBuilder, type Selectable } from 'kysely';
import { isPostgres } from './dialect.js';
import { inSlices } from '../event-loop.js';
import { ROWS_PER_STATEMENT, type Executor } from './transaction.js';
import type { Database, RevokedBy, UsersTable } from './schema.js';

export type { RevokedBy } from './schema.js';
import type { UserOrdering } from '../shapes.js';

export interface UserRecord extends PublicUserRecord {
  /** NFKC + lower-case login: identity ignores case. */
  login_key: string;
  /** argon2id PHC string; null for remote users and users without a password. */
  password_hash: string | null;
  /** When the password was last set (the password-age clock); null without one, or set before migration 019. */
  password_changed_at: Date | null;
  /** When the user was last reinstated; null if never (since migration 011). */
  reinstated_at: Date | null;
  created_at: Date;
  /** The directory entry a remote user is bound to; null for local users and remote users not yet bound (migration 013). */
  directory: DirectoryBinding | null;
}

/** The directory entry a remote user is bound to: recorded at its first successful directory login. */
export interface DirectoryBinding {
  directoryId: string;
  dn: string;
  /** The entry's stable id as `<attribute>:<value>`; null when the directory gives none. */
  entryId: string | null;
}

const date = (epochMs: number | null) => (epochMs === null ? null : new Date(epochMs));

/** The columns of a user the API may show, for reads that join users to another table. */
export const PUBLIC_COLUMNS = [
  'users.id',
  'users.login',
  'users.email',
  'users.display_name',
  'users.is_remote',
  'users.is_superuser',
  'users.is_revoked',
  'users.last_login',
  'users.failed_attempts',
  'users.locked_at',
  'users.revoked_by',
  'users.password_change_required',
] as const;
type PublicColumns = Pick<
  Selectable<UsersTable>,
  'id' | 'login' | 'email' | 'display_name' | 'is_remote' | 'is_superuser' | 'is_revoked' | 'last_login' | 'failed_attempts' | 'locked_at' | 'revoked_by' | 'password_change_required'
>;
export interface PublicUserRecord {
  id: string;
  login: string;
  email: string;
  display_name: string;
  is_remote: boolean;
  is_superuser: boolean;
  is_revoked: boolean;
  last_login: Date | null;
  /** Password checks begun since the last success. */
  failed_attempts: number;
  /** When failed logins revoked the user; null otherwise (an administrator's revocation has none). */
  locked_at: Date | null;
  /** What revoked the user; null when not revoked. */
  revoked_by: RevokedBy | null;
  /** The user must change its password before its tokens reach anything else. */
  password_change_required: boolean;
}

/** Flags to booleans, times to Dates: the one conversion of the columns every user read returns. */
export function toPublicRecord(row: PublicColumns): PublicUserRecord {
  return {
    id: row.id,
    login: row.login,
    email: row.email,
    display_name: row.display_name,
    is_remote: row.is_remote === 1,
    is_superuser: row.is_superuser === 1,
    is_revoked: row.is_revoked === 1,
    last_login: date(row.last_login),
    failed_attempts: row.failed_attempts,
    locked_at: date(row.locked_at),
    revoked_by: row.revoked_by,
    password_change_required: row.password_change_required === 1,
  };
}

export function toRecord(row: Selectable<UsersTable>): UserRecord {
  return {
    ...toPublicRecord(row),
    login_key: row.login_key,
    password_hash: row.password_hash,
    password_changed_at: date(row.password_changed_at),
    reinstated_at: date(row.reinstated_at),
    created_at: new Date(row.created_at),
    directory: row.directory_id === null || row.directory_dn === null ? null : { directoryId: row.directory_id, dn: row.directory_dn, entryId: row.directory_entry_id },
  };
}

// The two resets every path shares: a fresh set of attempts, and a
// reinstatement (which always comes with one, ends any lockout, and starts
// the account's idle time for account expiry again).
const freshAttempts = { failed_attempts: 0 } as const;
const reinstated = (now: number) => ({ ...freshAttempts, is_revoked: 0, locked_at: null, revoked_by: null, reinstated_at: now }) as const;

const maybe = (row: Selectable<UsersTable> | undefined) => (row ? toRecord(row) : undefined);

export async function byId(db: Executor, id: string): Promise<UserRecord | undefined> {
  return maybe(await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst());
}

export async function byLoginKey(db: Executor, loginKey: string): Promise<UserRecord | undefined> {
  return maybe(await db.selectFrom('users').selectAll().where('login_key', '=', loginKey).executeTakeFirst());
}

/** The ids and login keys of the users with these login keys. */
export async function partiesByLoginKeys(db: Executor, loginKeys: readonly string[]): Promise<{ id: string; login_key: string }[]> {
  if (loginKeys.length === 0) return [];
  return db.selectFrom('users').select(['id', 'login_key']).where('login_key', 'in', [...loginKeys]).execute();
}

/** Whether a user other than `exceptId` has this login skeleton. */
export async function skeletonTaken(db: Executor, skeleton: string, exceptId?: string): Promise<boolean> {
  let query = db.selectFrom('users').select('id').where('login_skeleton', '=', skeleton);
  if (exceptId !== undefined) query = query.where('id', '<>', exceptId);
  return (await query.executeTakeFirst()) !== undefined;
}

/** Every user, or those of `ids` (none for an empty list), by login. */
export async function list(db: Executor, ids?: readonly string[]): Promise<UserRecord[]> {
  if (ids?.length === 0) return [];
  let query = db.selectFrom('users').selectAll();
  if (ids !== undefined) query = query.where('id', 'in', [...ids]);
  return (await query.orderBy('login_key').execute()).map(toRecord);
}

export interface UserPageQuery {
  offset: number;
  limit: number;
  order: 'asc' | 'desc';
  /** creation_date is created_at. */
  orderBy: UserOrdering;
  /** A case-insensitive substring of login, email or display name, matched as typed (no wildcards). */
  filter?: string | undefined;
}

/** LIKE's wildcards and its escape character, escaped: the text matches only itself. */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (character) => `\\${character}`);

/**
 * One page of users and how many match, for GET /v2/users. The order is
 * total: ties (equal emails, never-logged-in users) are broken by id in the
 * same direction, so pages neither repeat nor skip a user. Text sorts and
 * matches ignore case (lower(); on SQLite lower() folds ASCII only); a user
 * who never logged in counts as the oldest login on both databases.
 */
export async function page(db: Executor, query: UserPageQuery): Promise<{ rows: PublicUserRecord[]; total: number }> {
  let matching = db.selectFrom('users');
  if (query.filter !== undefined && query.filter !== '') {
    const pattern = `%${likeLiteral(query.filter.toLowerCase())}%`;
    const contains = (column: 'login' | 'email' | 'display_name') => sql<boolean>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;
    matching = matching.where((eb) => eb.or([contains('login'), contains('email'), contains('display_name')]));
  }
  const counted = await matching.select((eb) => eb.fn.countAll<number | string | bigint>().as('total')).executeTakeFirst();
  const direction = query.order;
  const key = {
    login: sql.ref('login_key'),
    email: sql`lower(${sql.ref('email')})`,
    display_name: sql`lower(${sql.ref('display_name')})`,
    last_login: sql.ref('last_login'),
    id: sql.ref('id'),
    creation_date: sql.ref('created_at'),
  }[query.orderBy];
  const rows = await matching
    .select(PUBLIC_COLUMNS)
    .orderBy(key, (ob) => (direction === 'asc' ? ob.asc().nullsFirst() : ob.desc().nullsLast()))
    .orderBy('id', direction)
    .limit(query.limit)
    .offset(query.offset)
    .execute();
  return { rows: rows.map(toPublicRecord), total: Number(counted?.total ?? 0) };
}

/** The ids and logins of those of `ids` that name a user. */
export async function partiesOf(db: Executor, ids: readonly string[]): Promise<{ id: string; login: string }[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('users').select(['id', 'login']).where('id', 'in', [...ids]).execute();
}

/** Whether the user is revoked; undefined when there is no such user. */
export async function isRevoked(db: Executor, id: string): Promise<boolean | undefined> {
  const row = await db.selectFrom('users').select('is_revoked').where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : row.is_revoked === 1;
}

// A user's own writes and the changes made to that user take turns, on every
// instance. Each write of a requester holds a share lock on the requester's
// row to its commit (isRevokedLocked); a change to a user (lock: revoking,
// editing, deleting it) takes the row for update, so it waits for the
// user's writes in flight, and they for it. PostgreSQL lets a new share lock
// join those held without queueing behind a waiting update, so a user who
// kept writing could keep its own revocation waiting for as long as it
// wrote. Both therefore first take a transaction-level advisory lock on the
// user — shared for the user's writes, exclusive for a change — in the lock
// manager's queue, where a new shared request waits behind a waiting
// exclusive one. The gate is a join of the statement that takes the row
// lock, so it is taken before the row's (no deadlock between the two) and
// costs no round trip. SQLite needs neither: a write transaction begins
// IMMEDIATE and holds the database's one write lock (src/store/database.ts).

/** The advisory lock of the user with this id, for one statement's FROM: shared, or exclusive. */
function userGate(id: string, mode: 'shared' | 'exclusive') {
  const key = sql`hashtextextended(${`rbac-user:${id}`}, 0)`;
  return mode === 'shared' ? sql`(select pg_advisory_xact_lock_shared(${key})) as gate` : sql`(select pg_advisory_xact_lock(${key})) as gate`;
}

/**
 * The requester's row, locked for share until the transaction ends (with its
 * gate, above), as one statement for PostgreSQL's writing statements to
 * embed (src/store/reset-tokens.ts): no row for a user that does not exist.
 * Read after the lock is granted, so a revocation that committed meanwhile is
 * what it returns.
 */
export function requesterLockStatement(id: string) {
  return sql<{ id: string; is_revoked: number }>`select users.id, users.is_revoked from users, ${userGate(id, 'shared')} where users.id = ${id} for share of users`;
}

/**
 * Whether the requester is revoked (undefined: there is no such user), read
 * under a lock the transaction holds until it ends (see above): a revocation
 * of the user waits for this transaction, and one under way is waited for
 * and then read. Outside a transaction the lock would end with the
 * statement, so that is refused.
 */
export async function isRevokedLocked(trx: Executor, id: string): Promise<boolean | undefined> {
  if (!trx.isTransaction) throw new Error('isRevokedLocked needs a transaction: its lock must last until the write commits');
  const row = isPostgres(trx)
    ? (await requesterLockStatement(id).execute(trx)).rows[0]
    : await trx.selectFrom('users').select('is_revoked').where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : row.is_revoked === 1;
}

export async function isSuperuser(db: Executor, id: string): Promise<boolean> {
  return (await db.selectFrom('users').select('is_superuser').where('id', '=', id).executeTakeFirst())?.is_superuser === 1;
}

/**
 * Locks the user's row until the transaction ends and returns it, to change
 * the user. A no-op UPDATE takes the row lock on PostgreSQL, after the
 * user's gate (exclusive: the user's own writes in flight end first, and
 * new ones wait; see isRevokedLocked). SQLite's write transactions hold the
 * database lock already.
 */
export async function lock(trx: Executor, id: string): Promise<UserRecord | undefined> {
  if (isPostgres(trx)) {
    const result = await sql<Selectable<UsersTable>>`update users set id = users.id from ${userGate(id, 'exclusive')} where users.id = ${id} returning users.*`.execute(trx);
    return maybe(result.rows[0]);
  }
  return maybe(
    await trx
      .updateTable('users')
      .set((eb) => ({ id: eb.ref('id') }))
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst(),
  );
}

export interface NewUserRecord {
  id: string;
  login: string;
  login_key: string;
  login_skeleton: string | null;
  email: string;
  display_name: string;
  is_remote: boolean;
  is_superuser: boolean;
  password_hash: string | null;
  created_at: number;
  /** The user must change the password it is given before its tokens reach anything else. */
  password_change_required?: boolean;
}

export async function insert(db: Executor, user: NewUserRecord): Promise<void> {
  await db
    .insertInto('users')
    .values({
      ...user,
      password_changed_at: user.password_hash === null ? null : user.created_at,
      password_change_required: user.password_change_required ? 1 : 0,
      is_remote: user.is_remote ? 1 : 0,
      is_superuser: user.is_superuser ? 1 : 0,
      is_revoked: 0,
      last_login: null,
      locked_at: null,
      reinstated_at: null,
    })
    .execute();
}

/**
 * A user carried over from another RBAC service (src/transfer/): its id kept,
 * no password (PE never gives out hashes), revoked as it was there (an
 * administrator's revocation: no lockout time).
 */
export async function insertImported(db: Executor, user: Omit<NewUserRecord, 'password_hash' | 'password_change_required'> & { is_revoked: boolean }): Promise<void> {
  const { is_revoked: revoked, ...rest } = user;
  await insert(db, { ...rest, password_hash: null });
  if (revoked) await setRevoked(db, user.id, true, user.created_at);
}

export interface ProfileChanges {
  login?: string;
  login_key?: string;
  login_skeleton?: string | null;
  email?: string;
  display_name?: string;
  password_change_required?: boolean;
}

export async function updateProfile(db: Executor, id: string, changes: ProfileChanges): Promise<void> {
  const { password_change_required: required, ...rest } = changes;
  const values = { ...rest, ...(required === undefined ? {} : { password_change_required: required ? (1 as const) : (0 as const) }) };
  if (Object.keys(values).length > 0) await db.updateTable('users').set(values).where('id', '=', id).execute();
}

export async function remove(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('users').where('id', '=', id).execute();
}

/**
 * Binds a remote user to a directory entry, only if its binding is still
 * `expected` (what the caller read and judged): of two logins that would
 * bind one account to different entries at once, one writes. False when the
 * binding changed meanwhile, or the user is gone.
 */
export async function bindToEntry(db: Executor, id: string, expected: DirectoryBinding | null, binding: DirectoryBinding): Promise<boolean> {
  const still = (eb: ExpressionBuilder<Database, 'users'>, column: 'directory_id' | 'directory_dn' | 'directory_entry_id', value: string | null) =>
    value === null ? eb(column, 'is', null) : eb(column, '=', value);
  const bound = await db
    .updateTable('users')
    .set({ directory_id: binding.directoryId, directory_dn: binding.dn, directory_entry_id: binding.entryId })
    .where('id', '=', id)
    .where('is_remote', '=', 1)
    .where((eb) =>
      eb.and([still(eb, 'directory_id', expected?.directoryId ?? null), still(eb, 'directory_dn', expected?.dn ?? null), still(eb, 'directory_entry_id', expected?.entryId ?? null)]),
    )
    .returning('id')
    .executeTakeFirst();
  return bound !== undefined;
}

/** A user's binding as `unbind` found it. */
export interface UnboundUser {
  id: string;
  login: string;
  directory_id: string;
  directory_dn: string | null;
}

/**
 * Forgets the binding of the user `id`, or of every user bound to the
 * directory `directoryId`, and returns what each was bound to. Their next
 * successful directory login binds them again.
 */
export async function unbind(db: Executor, target: { id: string } | { directoryId: string }): Promise<UnboundUser[]> {
  const bound = await db
    .selectFrom('users')
    .select(['id', 'login', 'directory_id', 'directory_dn'])
    .where('directory_id', 'is not', null)
    .where((eb) => ('id' in target ? eb('id', '=', target.id) : eb('directory_id', '=', target.directoryId)))
    .orderBy('login_key')
    .execute();
  if (bound.length > 0) {
    await db
      .updateTable('users')
      .set({ directory_id: null, directory_dn: null, directory_entry_id: null })
      .where(
        'id',
        'in',
        bound.map((user) => user.id),
      )
      .execute();
  }
  return bound.map((user) => ({ ...user, directory_id: user.directory_id as string }));
}

/** Deletes the users bound to a directory (their tokens, roles and groups go with them) and returns who they were. */
export async function removeBoundTo(db: Executor, directoryId: string): Promise<{ id: string; login: string }[]> {
  return db.deleteFrom('users').where('directory_id', '=', directoryId).returning(['id', 'login']).execute();
}

/**
 * An administrator's decision, either way: revoking, or reinstating with a
 * fresh set of attempts. Neither leaves a lockout time, so no lockout
 * duration lifts an administrator's revocation.
 */
export async function setRevoked(db: Executor, id: string, revoked: boolean, now = Date.now()): Promise<void> {
  await db
    .updateTable('users')
    .set(revoked ? { is_revoked: 1, locked_at: null, revoked_by: 'administrator' } : reinstated(now))
    .where('id', '=', id)
    .execute();
}

export interface SetPasswordOptions {
  /** Also un-revoke (clearing any lockout). */
  reinstate?: boolean;
  /** Only while the user is not revoked (it may have been, while the hash was computed). */
  onlyIfActive?: boolean;
  /** Make the user the local superuser it must be (the admin reset script). */
  asLocalSuperuser?: boolean;
  /** When the new password's age clock starts; `now` otherwise. */
  passwordChangedAt?: number;
}

/**
 * Replaces the password hash and starts the failed-attempt count again from
 * zero. False when `onlyIfActive` and the user is revoked (or gone).
 */
export async function setPassword(db: Executor, id: string, passwordHash: string, now: number, options: SetPasswordOptions = {}): Promise<boolean> {
  let query = db
    .updateTable('users')
    .set({
      password_hash: passwordHash,
      // A new password starts the age clock again and ends any forced change.
      password_changed_at: options.passwordChangedAt ?? now,
      password_change_required: 0,
      ...(options.reinstate ? reinstated(now) : freshAttempts),
      ...(options.asLocalSuperuser ? { is_remote: 0, is_superuser: 1 } : {}),
    })
    .where('id', '=', id);
  if (options.onlyIfActive) query = query.where('is_revoked', '=', 0);
  return (await query.returning('id').executeTakeFirst()) !== undefined;
}

/** Marks the user for a forced change, only if its password is still `checkedHash` (a change meanwhile ends the need). */
export async function requirePasswordChange(db: Executor, id: string, checkedHash: string): Promise<void> {
  await db.updateTable('users').set({ password_change_required: 1 }).where('id', '=', id).where('password_hash', '=', checkedHash).execute();
}

/** A hash made with older parameters, replaced only if nobody changed the password meanwhile. */
export async function upgradeHash(db: Executor, id: string, previousHash: string, upgradedHash: string): Promise<void> {
  await db.updateTable('users').set({ password_hash: upgradedHash }).where('id', '=', id).where('password_hash', '=', previousHash).execute();
}

/** A successful login: the count starts again, last_login is now. False when the user was revoked meanwhile. */
export async function recordLogin(db: Executor, id: string, now: number): Promise<boolean> {
  return (await recordLoginStatement(db, id, now).executeTakeFirst()) !== undefined;
}

/** recordLogin's UPDATE, returning the id when it wrote, for statements that write beside it (src/store/login-tokens.ts). */
export function recordLoginStatement(db: Executor, id: string, now: number) {
  return db.updateTable('users').set({ ...freshAttempts, last_login: now }).where('id', '=', id).where('is_revoked', '=', 0).returning('id');
}

// Lockout counters. A password check first claims one of the account's
// remaining attempts with one conditional UPDATE, so however many checks run
// at once, on however many instances, at most `limit` run before the account
// is revoked (src/login/password-check.ts; docs/decisions.md says why claims and not results).

/** Claims one attempt; false when none is left (revoked, or as many checks as attempts are in flight). */
export async function claimAttempt(db: Executor, id: string, limit: number): Promise<boolean> {
  const claimed = await db
    .updateTable('users')
    .set({ failed_attempts: sql<number>`failed_attempts + 1` })
    .where('id', '=', id)
    .where('is_revoked', '=', 0)
    .where('failed_attempts', '<', limit)
    .returning('id')
    .executeTakeFirst();
  return claimed !== undefined;
}

/** A login's user, and whether one of its attempts was claimed for the password check about to run. */
export interface LoginLookup {
  user: UserRecord | undefined;
  /** True: an attempt is claimed. False: none could be (revoked, or none left), or the login has no password to check. */
  claimed: boolean;
}

/** Whether a user has a password this service checks (a local user with one). */
const checksPassword = (user: Pick<UserRecord, 'is_remote' | 'password_hash'>) => !user.is_remote && user.password_hash !== null;

/**
 * A login's user and, for a user whose password is checked here, the claim
 * of one attempt (as claimAttempt); for a login with no password to check
 * (unknown, remote, none set), the decoy write instead (as decoyWrite), so
 * both cost the same writes. PostgreSQL: one statement, one round trip (the
 * claim's WHERE is re-checked on the row's latest version, as claimAttempt's
 * is, so the count stays exact under concurrency). SQLite: the same
 * statements one after the other, in process.
 */
export async function byLoginKeyClaiming(db: Executor, loginKey: string, limit: number): Promise<LoginLookup> {
  if (!isPostgres(db)) {
    const user = await byLoginKey(db, loginKey);
    if (!user || !checksPassword(user)) {
      await decoyWrite(db);
      return { user, claimed: false };
    }
    return { user, claimed: !user.is_revoked && (await claimAttempt(db, user.id, limit)) };
  }
  const result = await sql<Selectable<UsersTable> & { claimed: boolean }>`
    with found as (
      select * from users where login_key = ${loginKey}
    ), claim as (
      update users set failed_attempts = users.failed_attempts + 1
      from found
      where users.id = found.id and not (found.is_remote = 1 or found.password_hash is null)
        and users.is_revoked = 0 and users.failed_attempts < ${limit}
      returning users.id
    ), decoy as (
      update decoy_attempts set attempts = attempts + 1
      where id = 1 and not exists (select 1 from found where not (found.is_remote = 1 or found.password_hash is null))
      returning id
    )
    select found.*, exists (select 1 from claim) as claimed
    from (select 1) as one left join found on true`.execute(db);
  const row = result.rows[0];
  if (!row || row.id === null) return { user: undefined, claimed: false };
  const { claimed, ...user } = row;
  return { user: toRecord(user), claimed };
}

/** Gives a claimed attempt back (its check could not finish). */
export async function releaseAttempt(db: Executor, id: string): Promise<void> {
  await db
    .updateTable('users')
    .set({ failed_attempts: sql<number>`failed_attempts - 1` })
    .where('id', '=', id)
    .where('failed_attempts', '>', 0)
    .execute();
}

/** Revokes the account, with the lock time, if its attempts are used up; true when this call did. */
export async function lockIfExhausted(db: Executor, id: string, limit: number, now: number): Promise<boolean> {
  const locked = await db
    .updateTable('users')
    .set({ is_revoked: 1, locked_at: now, revoked_by: 'lockout' })
    .where('id', '=', id)
    .where('is_revoked', '=', 0)
    .where('failed_attempts', '>=', limit)
    .returning('id')
    .executeTakeFirst();
  return locked !== undefined;
}

/**
 * The rule for "this lockout is over": the account was revoked by failed
 * logins (`locked_at` set; an administrator's revocation clears it) at least
 * `durationSeconds` before `now`.
 */
export function lockoutIsOver(eb: ExpressionBuilder<Database, 'users'>, durationSeconds: number, now: number) {
  return eb.and([eb('is_revoked', '=', 1), eb('locked_at', 'is not', null), eb('locked_at', '<=', now - durationSeconds * 1000)]);
}

/** Reinstates the user, with a fresh set of attempts, if its lockout is over; true only for the one call that did. */
export async function liftExpiredLockout(db: Executor, id: string, durationSeconds: number, now: number): Promise<boolean> {
  const lifted = await db
    .updateTable('users')
    .set(reinstated(now))
    .where('id', '=', id)
    .where((eb) => lockoutIsOver(eb, durationSeconds, now))
    .returning('id')
    .executeTakeFirst();
  return lifted !== undefined;
}

// Account expiry (account-expiry-days). A sweep revokes idle accounts with
// one conditional UPDATE per batch: its WHERE is the whole rule, so of any
// number of sweeps at once, on any number of instances, exactly one revokes
// each account (on PostgreSQL a second sweep waits for the first one's row
// locks and re-checks the WHERE on the committed row — `is_revoked = 0` no
// longer holds; on SQLite write transactions run one after the other).
//
// A login racing a sweep is never lost. A successful login writes last_login
// with `recordLogin`, a conditional UPDATE of the same row (`is_revoked = 0`)
// in the transaction that stores its login token, so the two writes are
// ordered by the row lock (PostgreSQL) or the database lock (SQLite):
// - login first: the sweep's WHERE is evaluated on the row with the new
//   last_login (PostgreSQL re-checks a row that changed while it waited), which
//   is not before the cutoff, so the account stays active and the token works;
// - sweep first: recordLogin's `is_revoked = 0` fails (or, earlier, the
//   attempt claim's), the login answers 401 user-revoked and stores no token
//   (and every request checks is_revoked anyway, so no token of a revoked
//   user works).
// So no account is ever revoked by expiry with a last_login after the
// sweep's cutoff.

/** A user the sweep revoked, with what its audit event says. */
export interface ExpiredUser {
  id: string;
  login: string;
  last_login: Date | null;
  /** Where its idle time began: the latest of last login (or creation) and reinstatement. */
  idle_since: Date;
}

/**
 * The rule for "idle since before `cutoff`": no login, creation or
 * reinstatement at or after it. Only local non-superusers who are not
 * revoked expire: superusers never, and remote users authenticate elsewhere,
 * so this service never sees them log in (docs/decisions.md).
 */
function expiresIdleBefore(eb: ExpressionBuilder<Database, 'users'>, cutoff: number) {
  return eb.and([
    eb('is_superuser', '=', 0),
    eb('is_remote', '=', 0),
    eb('is_revoked', '=', 0),
    eb(eb.fn.coalesce('last_login', 'created_at'), '<', cutoff),
    eb.or([eb('reinstated_at', 'is', null), eb('reinstated_at', '<', cutoff)]),
  ]);
}

/**
 * Revokes up to `limit` accounts idle since before `cutoff` (no lockout
 * time: no lockout duration lifts it) and returns the ones this statement
 * revoked: none when no account is idle, or when a concurrent sweep took
 * them. The subquery only picks candidates: the rule is the outer WHERE,
 * which PostgreSQL re-checks on a row that changed meanwhile.
 */
export async function expireIdle(db: Executor, options: { cutoff: Date; limit: number }): Promise<ExpiredUser[]> {
  const cutoff = options.cutoff.getTime();
  const rows = await db
    .updateTable('users')
    .set({ is_revoked: 1, locked_at: null, revoked_by: 'expiry' })
    .where((eb) => expiresIdleBefore(eb, cutoff))
    .where('id', 'in', (eb) => eb.selectFrom('users').select('id').where((inner) => expiresIdleBefore(inner, cutoff)).limit(options.limit))
    .returning(['id', 'login', 'last_login', 'created_at', 'reinstated_at'])
    .execute();
  return rows.map((row) => ({
    id: row.id,
    login: row.login,
    last_login: date(row.last_login),
    idle_since: new Date(Math.max(row.last_login ?? row.created_at, row.reinstated_at ?? 0)),
  }));
}

/** Where an unknown login's check writes instead of claiming an attempt, so both cost one committed write. */
export async function decoyWrite(db: Executor): Promise<void> {
  await db.updateTable('decoy_attempts').set({ attempts: sql<number>`attempts + 1` }).where('id', '=', 1).execute();
}

// user_roles: which roles each user holds.

/** The role ids of each user, ascending. */
export async function roleIdsOf(db: Executor, userIds: readonly string[]): Promise<Map<string, number[]>> {
  const byUser = new Map<string, number[]>(userIds.map((id) => [id, []]));
  if (userIds.length === 0) return byUser;
  const rows = await db.selectFrom('user_roles').select(['user_id', 'role_id']).where('user_id', 'in', [...userIds]).orderBy('role_id').execute();
  for (const row of rows) byUser.get(row.user_id)?.push(row.role_id);
  return byUser;
}

export async function addRoles(db: Executor, userId: string, roleIds: readonly number[]): Promise<void> {
  for await (const slice of inSlices(roleIds, ROWS_PER_STATEMENT)) await db.insertInto('user_roles').values(slice.map((role_id) => ({ user_id: userId, role_id }))).execute();
}

export async function removeRoles(db: Executor, userId: string, roleIds: readonly number[]): Promise<void> {
  for await (const slice of inSlices(roleIds, ROWS_PER_STATEMENT)) await db.deleteFrom('user_roles').where('user_id', '=', userId).where('role_id', 'in', slice).execute();
}
