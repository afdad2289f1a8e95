// The reset_tokens table: each reset token's jti, user, signing key and
// state. The token itself is never stored; whether it can still be used is
// decided here, by conditions on its row, on every instance alike.

import { sql, type ExpressionBuilder } from 'kysely';
import { isPostgres } from './dialect.js';
import * as events from './events.js';
import * as signingKeys from './signing-keys.js';
import * as users from './users.js';
import type { SecurityEvent } from './events.js';
import { eventsWritten, inTransaction, type Db, type Executor } from './transaction.js';
import type { Database } from './schema.js';

export interface NewResetToken {
  jti: string;
  user_id: string;
  kid: string;
  issued_at: number;
  expires_at: number;
  /** Who issued it; null for the operator at the server. */
  issued_by: string | null;
}

/** The claims that name a token's row. */
export interface TokenIdentity {
  jti: string;
  sub: string;
  kid: string;
}

type Where = ExpressionBuilder<Database, 'reset_tokens'>;

/** A token neither spent nor cancelled (superseded, or cancelled by a change to its user or key). */
const isLive = (eb: Where) => eb.and([eb('spent_at', 'is', null), eb('superseded_at', 'is', null)]);

/**
 * The one rule for a reset token that can be used now: its row names this
 * jti, user and signing key, it is live and unexpired, and the key that
 * signed it is not retired. Binding the row to its kid means a retired (say,
 * leaked) key cannot sign a working copy of a live token's claims.
 */
const isUsable = (token: TokenIdentity, now: number) => (eb: Where) =>
  eb.and([
    eb('jti', '=', token.jti),
    eb('user_id', '=', token.sub),
    eb('kid', '=', token.kid),
    isLive(eb),
    eb('expires_at', '>', now),
    eb('kid', 'in', eb.selectFrom('signing_keys').select('signing_keys.kid').where('signing_keys.retired_at', 'is', null)),
  ]);

export async function insert(db: Executor, token: NewResetToken): Promise<void> {
  await db.insertInto('reset_tokens').values({ ...token, spent_at: null, superseded_at: null }).execute();
}

export async function isUsableNow(db: Executor, token: TokenIdentity, now: number): Promise<boolean> {
  return (await db.selectFrom('reset_tokens').select('jti').where(isUsable(token, now)).executeTakeFirst()) !== undefined;
}

/** Whether the user has a token that is live and unexpired (a link sent earlier that still works, unless its key was retired). */
export async function hasLiveToken(db: Executor, userId: string, now: number): Promise<boolean> {
  const row = await db.selectFrom('reset_tokens').select('jti').where('user_id', '=', userId).where(isLive).where('expires_at', '>', now).executeTakeFirst();
  return row !== undefined;
}

/** Spends the token if it is usable: of any number of concurrent calls, one gets true. */
export async function spend(db: Executor, token: TokenIdentity, now: number): Promise<boolean> {
  return (await db.updateTable('reset_tokens').set({ spent_at: now }).where(isUsable(token, now)).returning('jti').executeTakeFirst()) !== undefined;
}

/** Cancels the user's live tokens; how many. */
export async function cancelLiveOf(db: Executor, userId: string, now: number): Promise<number> {
  const result = await db.updateTable('reset_tokens').set({ superseded_at: now }).where('user_id', '=', userId).where(isLive).executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Cancels the live, unexpired tokens a key signed; how many. */
export async function cancelSignedBy(db: Executor, kid: string, now: number): Promise<number> {
  const result = await db.updateTable('reset_tokens').set({ superseded_at: now }).where('kid', '=', kid).where(isLive).where('expires_at', '>', now).executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** What an issue did: wrote the token (superseding how many), or nothing, and why. */
export type IssueOutcome =
  | { written: true; superseded: number }
  | { written: false; reason: 'requester-revoked' | 'no-user' | 'remote-user' | 'key-not-signing' };

/**
 * Issuing, deciding and writing in one step: while its issuer
 * (`token.issued_by`, null for the operator at the server) is an active user
 * — checked under the lock every write of a requester takes
 * (users.isRevokedLocked), so a revocation of the issuer that has answered
 * wins — for the user `token.user_id`
 * if it exists and is local, and only while `token.kid` is the key that
 * signs (the newest not retired), the user's live tokens superseded, the new
 * token inserted and the issue recorded — its subject is the user as the row
 * names it, and its details get `superseded` (how many) as their last key.
 * Otherwise nothing is written, and the outcome says why.
 *
 * PostgreSQL: one statement (data-modifying CTEs), so one round trip and no
 * BEGIN/COMMIT. SQLite, which has no writing CTEs: one transaction, in process.
 */
export async function issueSuperseding(db: Db, token: NewResetToken, event: Omit<SecurityEvent, 'subject'>, at: number): Promise<IssueOutcome> {
  const recorded = (subject: { id: string; login: string }, superseded: number): SecurityEvent => ({ ...event, subject, details: { ...event.details, superseded } });
  if (!isPostgres(db)) {
    return inTransaction(db, async (trx): Promise<IssueOutcome> => {
      if (token.issued_by !== null && (await users.isRevokedLocked(trx, token.issued_by)) !== false) return { written: false, reason: 'requester-revoked' };
      const user = await users.byId(trx, token.user_id);
      if (!user) return { written: false, reason: 'no-user' };
      if (user.is_remote) return { written: false, reason: 'remote-user' };
      if ((await signingKeys.signing(trx))?.kid !== token.kid) return { written: false, reason: 'key-not-signing' };
      const superseded = await cancelLiveOf(trx, token.user_id, at);
      await insert(trx, token);
      await events.record(trx, [recorded({ id: user.id, login: user.login }, superseded)], at);
      return { written: true, superseded };
    });
  }
  const row = events.rowOf(event, at);
  // The details JSON with the count appended in SQL: '{"jti":…,"expires_at":…' || n || '}'.
  const head = row.details === '{}' ? '{"superseded":' : `${row.details.slice(0, -1)},"superseded":`;
  // Every part sees the snapshot the statement started with: the update
  // supersedes only the earlier tokens, never the one inserted beside it.
  // The writes happen only for the row `allowed` finds.
  const result = await sql<{ requester_active: boolean; user_found: boolean; is_remote: number | null; signing_kid: string | null; superseded: number | string; login: string | null }>`
    with requester as (
      ${token.issued_by === null ? sql`select null as id, 0 as is_revoked` : users.requesterLockStatement(token.issued_by)}
    ), target as (
      select id, login, is_remote from users where id = ${token.user_id}
    ), allowed as (
      select target.id, target.login from target
      where target.is_remote = 0
        and ${token.kid} = ${signingKeys.signingKid(db)}
        and exists (select 1 from requester where requester.is_revoked = 0)
    ), superseded as (
      update reset_tokens set superseded_at = ${at}
      where user_id in (select id from allowed) and spent_at is null and superseded_at is null
      returning 1
    ), inserted as (
      insert into reset_tokens (jti, user_id, kid, issued_at, expires_at, issued_by, spent_at, superseded_at)
      select ${token.jti}, allowed.id, ${token.kid}, ${token.issued_at}, ${token.expires_at}, ${token.issued_by}, null, null
      from allowed
      returning jti
    ), counted as (
      select count(*) as n from superseded
    ), recorded as (
      insert into audit_events (at, type, actor_id, actor_login, actor_certname, subject_id, subject_login, source_address, details)
      select ${row.at}, ${row.type}, ${row.actor_id}, ${row.actor_login}, ${row.actor_certname}, allowed.id, left(allowed.login, 255), ${row.source_address}, ${head} || counted.n::text || '}'
      from allowed, counted, inserted
      returning 1
    )
    select exists (select 1 from requester where requester.is_revoked = 0) as requester_active, exists (select 1 from target) as user_found, (select is_remote from target) as is_remote,
      ${signingKeys.signingKid(db)} as signing_kid,
      (select n from counted) as superseded, (select login from allowed) as login`.execute(db);
  const outcome = result.rows[0];
  if (outcome?.requester_active === false) return { written: false, reason: 'requester-revoked' };
  if (!outcome?.user_found) return { written: false, reason: 'no-user' };
  if (outcome.is_remote === 1) return { written: false, reason: 'remote-user' };
  if (outcome.signing_kid !== token.kid || outcome.login === null) return { written: false, reason: 'key-not-signing' };
  const superseded = Number(outcome.superseded);
  eventsWritten(db, [recorded({ id: token.user_id, login: outcome.login }, superseded)]);
  return { written: true, superseded };
}
