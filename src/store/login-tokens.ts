// The login_tokens table: only each token's SHA-256 is stored. Looked up by
// that hash (the primary key) on every authenticated request and every
// introspection; named in listings and revocations by its public id.

import { sql, type ExpressionBuilder } from 'kysely';
import { isPostgres } from './dialect.js';
import * as events from './events.js';
import type { SecurityEvent } from './events.js';
import { prepared } from './prepared.js';
import type { Database } from './schema.js';
import { eventsWritten, inTransaction, type Db, type Executor } from './transaction.js';
import { PUBLIC_COLUMNS, recordLogin, recordLoginStatement, toPublicRecord, type PublicUserRecord } from './users.js';

export interface NewLoginToken {
  token_hash: string;
  /** The public id: a random UUID. */
  id: string;
  user_id: string;
  created_at: number;
  /** null: never expires (only when token-maximum-lifetime is 0). */
  expires_at: number | null;
  label: string | null;
  description: string | null;
  client: string | null;
}

export async function insert(db: Executor, token: NewLoginToken): Promise<void> {
  await db.insertInto('login_tokens').values({ ...token, revoked_at: null, last_active: token.created_at }).execute();
}

/**
 * A successful login's writes, atomically: the login recorded on its user
 * (failed attempts cleared, last_login set) unless the account was revoked
 * meanwhile, the token stored, the event written. False, with nothing
 * written, when the account is revoked.
 *
 * PostgreSQL: one statement (data-modifying CTEs), so one round trip and no
 * BEGIN/COMMIT. SQLite, which has no writing CTEs: one transaction of the
 * three statements, in process.
 */
export async function insertRecordingLogin(db: Db, token: NewLoginToken, event: SecurityEvent): Promise<boolean> {
  const at = token.created_at;
  if (!isPostgres(db)) {
    return inTransaction(db, async (trx) => {
      if (!(await recordLogin(trx, token.user_id, at))) return false;
      await insert(trx, token);
      await events.record(trx, [event], at);
      return true;
    });
  }
  const row = events.rowOf(event, at);
  // The token and the event are written only for the user row the update
  // matched: a revoked account gets neither.
  const result = await sql<{ written: number }>`
    with recorded as (
      ${recordLoginStatement(db, token.user_id, at)}
    ), inserted as (
      insert into login_tokens (token_hash, id, user_id, created_at, expires_at, label, description, client, revoked_at, last_active)
      select ${token.token_hash}, ${token.id}, recorded.id, ${at}, ${token.expires_at}, ${token.label}, ${token.description}, ${token.client}, null, ${at}
      from recorded
      returning user_id
    )
    insert into audit_events (at, type, actor_id, actor_login, actor_certname, subject_id, subject_login, source_address, details)
    select ${row.at}, ${row.type}, ${row.actor_id}, ${row.actor_login}, ${row.actor_certname}, ${row.subject_id}, ${row.subject_login}, ${row.source_address}, ${row.details}
    from inserted
    returning 1 as written`.execute(db);
  if (result.rows.length === 0) return false;
  eventsWritten(db, [event]);
  return true;
}

/** A token and the public fields of its user, as the token check reads them. */
export interface TokenHolder extends PublicUserRecord {
  token_expires_at: number | null;
  token_revoked: boolean;
  token_last_active: number;
}

/** What the token check reads: the token's facts, its user's public fields and role ids. */
export interface CheckedToken extends TokenHolder {
  token_id: string;
  token_created_at: number;
  label: string | null;
  description: string | null;
  client: string | null;
  /** Ascending. */
  role_ids: number[];
}

// The user's role ids as one comma-separated text, from a correlated subquery
// on user_roles' primary key (user_id, role_id): no second round trip.
function roleIdsText(db: Executor) {
  return isPostgres(db)
    ? sql<string | null>`(select string_agg(user_roles.role_id::text, ',') from user_roles where user_roles.user_id = users.id)`
    : sql<string | null>`(select group_concat(user_roles.role_id, ',') from user_roles where user_roles.user_id = users.id)`;
}

// The token check of every authenticated request and every introspection:
// one statement, one round trip (the token by its hash, the primary key,
// joined to its user, the role ids in a subquery), compiled once per dialect
// and prepared on PostgreSQL (src/store/prepared.ts). The caller decides on
// the revoked flags and the expiry; nothing here is cached.
const checkStatement = prepared('rbac_token_check', (db) =>
  db
    .selectFrom('login_tokens')
    .innerJoin('users', 'users.id', 'login_tokens.user_id')
    .select([
      ...PUBLIC_COLUMNS,
      'login_tokens.id as token_id',
      'login_tokens.created_at',
      'login_tokens.expires_at',
      'login_tokens.revoked_at',
      'login_tokens.last_active',
      'login_tokens.label',
      'login_tokens.description',
      'login_tokens.client',
      roleIdsText(db).as('role_ids'),
    ])
    .where('login_tokens.token_hash', '=', '$token_hash'),
);

export async function check(db: Executor, tokenHash: string): Promise<CheckedToken | undefined> {
  const row = await checkStatement.first(db, [tokenHash]);
  if (!row) return undefined;
  // Object.assign onto the user's record, not `{ ...toPublicRecord(row), … }`:
  // V8 (Node 20) makes the spread of a 12-field object followed by nine more
  // keys some 15 µs a call, on every authenticated request (measured); this, under 1 µs.
  return Object.assign(toPublicRecord(row), {
    token_id: row.token_id,
    token_created_at: row.created_at,
    token_expires_at: row.expires_at,
    token_revoked: row.revoked_at !== null,
    token_last_active: row.last_active,
    label: row.label,
    description: row.description,
    client: row.client,
    role_ids: row.role_ids ? row.role_ids.split(',').map(Number).sort((a, b) => a - b) : [],
  });
}

/**
 * Records that the token was used at `now`, unless it was already recorded
 * at or after `staleBefore`: a conditional UPDATE, so however many requests
 * and instances race, the row is written at most once per interval. True
 * when this call wrote.
 */
export async function touch(db: Executor, tokenHash: string, now: number, staleBefore: number): Promise<boolean> {
  const result = await db
    .updateTable('login_tokens')
    .set({ last_active: now })
    .where('token_hash', '=', tokenHash)
    .where('last_active', '<', staleBefore)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** A token as GET /users/:sid/tokens lists it: never the token or its hash. */
export interface TokenMetadata {
  id: string;
  created_at: number;
  expires_at: number | null;
  last_active: number;
  label: string | null;
  description: string | null;
  client: string | null;
}

export type TokenOrder = 'created_at' | 'expires_at' | 'last_active' | 'client';

const live = (userId: string, now: number) => (eb: ExpressionBuilder<Database, 'login_tokens'>) =>
  eb.and([eb('user_id', '=', userId), eb('revoked_at', 'is', null), eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)])]);

/** A page of the user's live tokens (neither revoked nor expired), and how many there are in all. A null sorts as the greatest value in both dialects. */
export async function pageOfLive(
  db: Executor,
  userId: string,
  now: number,
  page: { limit: number | undefined; offset: number; orderBy: TokenOrder; order: 'asc' | 'desc' },
): Promise<{ tokens: TokenMetadata[]; total: number }> {
  const query = db
    .selectFrom('login_tokens')
    .select(['id', 'created_at', 'expires_at', 'last_active', 'label', 'description', 'client'])
    .where(live(userId, now))
    .orderBy(sql`case when ${sql.ref(page.orderBy)} is null then 1 else 0 end`, page.order)
    .orderBy(page.orderBy, page.order)
    .orderBy('id', page.order)
    // No limit is all of them; SQLite takes OFFSET only after a LIMIT.
    .limit(page.limit ?? Number.MAX_SAFE_INTEGER)
    .offset(page.offset);
  const rows = await query.execute();
  const { total } = await db.selectFrom('login_tokens').select((eb) => eb.fn.countAll<number | string>().as('total')).where(live(userId, now)).executeTakeFirstOrThrow();
  return { total: Number(total), tokens: rows };
}

/** A not yet revoked token, as revocation needs it: who holds it, and its public id. */
export interface RevocableToken {
  token_hash: string;
  id: string;
  user_id: string;
}

const REVOCABLE = ['token_hash', 'id', 'user_id'] as const;

/** The unrevoked tokens among these hashes. */
export async function unrevokedByHashes(db: Executor, hashes: readonly string[]): Promise<RevocableToken[]> {
  if (hashes.length === 0) return [];
  return db.selectFrom('login_tokens').select(REVOCABLE).where('token_hash', 'in', [...hashes]).where('revoked_at', 'is', null).execute();
}

/** Every token among these public ids, revoked or not (a revoked one is named, and needs nothing done). */
export async function byIds(db: Executor, ids: readonly string[]): Promise<(RevocableToken & { revoked: boolean })[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('login_tokens').select([...REVOCABLE, 'revoked_at']).where('id', 'in', [...ids]).execute();
  return rows.map(({ revoked_at, ...row }) => ({ ...row, revoked: revoked_at !== null }));
}

/** The unrevoked tokens of these users. */
export async function unrevokedOfUsers(db: Executor, userIds: readonly string[]): Promise<RevocableToken[]> {
  if (userIds.length === 0) return [];
  return db.selectFrom('login_tokens').select(REVOCABLE).where('user_id', 'in', [...userIds]).where('revoked_at', 'is', null).execute();
}

/** The user's unrevoked tokens that carry one of these labels. */
export async function unrevokedByLabels(db: Executor, userId: string, labels: readonly string[]): Promise<RevocableToken[]> {
  if (labels.length === 0) return [];
  return db
    .selectFrom('login_tokens')
    .select(REVOCABLE)
    .where('user_id', '=', userId)
    .where('label', 'in', [...labels])
    .where('revoked_at', 'is', null)
    .execute();
}

// A user may hold any number of tokens, and naming the user names them all:
// their hashes go to the database a bounded number at a time, within every
// driver's limit on a statement's parameters.
const HASHES_PER_STATEMENT = 1000;

/** Revokes these tokens where still live; returns those this call revoked. */
export async function revokeByHashes(db: Executor, hashes: readonly string[], now: number): Promise<RevocableToken[]> {
  const revoked: RevocableToken[] = [];
  for (let start = 0; start < hashes.length; start += HASHES_PER_STATEMENT) {
    const chunk = hashes.slice(start, start + HASHES_PER_STATEMENT);
    revoked.push(...(await db.updateTable('login_tokens').set({ revoked_at: now }).where('token_hash', 'in', chunk).where('revoked_at', 'is', null).returning(REVOCABLE).execute()));
  }
  return revoked;
}

/** Revokes one live token; true when it was live. */
export async function revoke(db: Executor, tokenHash: string, now: number): Promise<boolean> {
  const row = await db
    .updateTable('login_tokens')
    .set({ revoked_at: now })
    .where('token_hash', '=', tokenHash)
    .where('revoked_at', 'is', null)
    .returning('token_hash')
    .executeTakeFirst();
  return row !== undefined;
}

/** Revokes every live token of a user, except optionally the one in use. */
export async function revokeAllOf(db: Executor, userId: string, now: number, except?: string): Promise<void> {
  let query = db.updateTable('login_tokens').set({ revoked_at: now }).where('user_id', '=', userId).where('revoked_at', 'is', null);
  if (except !== undefined) query = query.where('token_hash', '!=', except);
  await query.execute();
}

/** Revokes every live token of each of these users, in one statement (accounts revoked together). */
export async function revokeAllOfUsers(db: Executor, userIds: readonly string[], now: number): Promise<void> {
  if (userIds.length === 0) return;
  await db.updateTable('login_tokens').set({ revoked_at: now }).where('user_id', 'in', [...userIds]).where('revoked_at', 'is', null).execute();
}
