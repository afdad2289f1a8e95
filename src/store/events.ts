// The audit_events table: security events, written with the change they
// record (same executor), listed newest first.

import { sql, type Expression, type ExpressionBuilder, type RawBuilder, type SqlBool } from 'kysely';
import type { ListedEvent } from '../shapes.js';
import { isPostgres } from './dialect.js';
import type { Database } from './schema.js';
import { eventsWritten, type Executor } from './transaction.js';

export type { ListedEvent } from '../shapes.js';

export interface Party {
  id: string | null;
  login: string | null;
  /** For an actor: the allowlisted certname its client certificate carried (api_user, CONTRACT §12). */
  certname?: string | undefined;
}

export type EventDetails = Record<string, string | number | boolean | null | readonly (string | number)[]>;

/** One security event as the domain records it; `type` is one of src/audit/audit.ts's AUDIT_EVENT_TYPES. */
export interface SecurityEvent {
  type: string;
  actor?: Party | null;
  subject?: Party | null;
  sourceAddress?: string | null;
  details?: EventDetails;
}


const MAX_TEXT = 255;
const clip = (value: string | null | undefined) => (value == null ? null : value.slice(0, MAX_TEXT));
const party = (id: string | null, login: string | null, certname: string | null = null): Party | null =>
  id === null && login === null ? null : { id, login, ...(certname === null ? {} : { certname }) };

/** An event as its audit_events row stores it (for statements that write one among other changes). */
export function rowOf(event: SecurityEvent, at: number) {
  return {
    at,
    type: event.type,
    actor_id: event.actor?.id ?? null,
    actor_login: clip(event.actor?.login),
    actor_certname: clip(event.actor?.certname),
    subject_id: event.subject?.id ?? null,
    subject_login: clip(event.subject?.login),
    source_address: clip(event.sourceAddress),
    details: JSON.stringify(event.details ?? {}),
  };
}

/** Writes events in one statement, in order, all at `at`. */
export async function record(db: Executor, events: readonly SecurityEvent[], at: number): Promise<void> {
  if (events.length === 0) return;
  await db
    .insertInto('audit_events')
    .values(events.map((event) => rowOf(event, at)))
    .execute();
  eventsWritten(db, events);
}

/** A page of events, newest first, and how many there are in all. */
export async function page(db: Executor, window: { limit: number; offset: number }): Promise<{ events: ListedEvent[]; total: number }> {
  const rows = await db.selectFrom('audit_events').selectAll().orderBy('at', 'desc').orderBy('id', 'desc').limit(window.limit).offset(window.offset).execute();
  const { total } = await db.selectFrom('audit_events').select((eb) => eb.fn.countAll<number | string>().as('total')).executeTakeFirstOrThrow();
  return {
    total: Number(total),
    events: rows.map((row) => ({
      id: row.id,
      time: new Date(row.at).toISOString(),
      type: row.type,
      actor: party(row.actor_id, row.actor_login, row.actor_certname),
      subject: party(row.subject_id, row.subject_login),
      source_address: row.source_address,
      details: JSON.parse(row.details) as Record<string, unknown>,
    })),
  };
}

// --- The activity service's reads (src/activity/ says what PE's filters mean).

/** Where an event names an object's id: one of the row's columns, or a key of its details. */
export type EventField = 'actor_id' | 'subject_id' | { detail: string };

/**
 * One condition on an event. A query is a list of groups: an event is listed
 * when, in every group, at least one condition holds (an empty group holds
 * for none).
 */
export type EventCondition =
  /** An actor is named (and, with ids, is one of them). */
  | { kind: 'actor'; ids?: readonly string[] }
  /** The event is of one of these types (and, with ids, its field holds one of them). */
  | { kind: 'typed'; types: readonly string[]; field?: EventField; ids?: readonly string[] }
  /** The source address contains this text. */
  | { kind: 'address'; contains: string }
  /** Recorded after `after` (exclusive), at or after `from`, at or before `to` (epoch ms; each optional). */
  | { kind: 'time'; after?: number; from?: number; to?: number };

export interface EventQuery {
  where: readonly (readonly EventCondition[])[];
  order: 'asc' | 'desc';
  limit: number;
  offset: number;
}

/** An event row as the activity service reads it. */
export interface StoredEvent {
  id: number;
  at: number;
  type: string;
  actor: Party | null;
  subject: Party | null;
  source_address: string | null;
  details: Record<string, unknown>;
}

const DETAIL_KEY = /^[a-z_]{1,64}$/;

/** The text of a details key (a number as its digits), on either database. */
function detailText(db: Executor, key: string): RawBuilder<string | null> {
  // Keys come from src/activity/'s table, never from a request; checked all the same.
  if (!DETAIL_KEY.test(key)) throw new Error(`not a details key: ${key}`);
  return isPostgres(db) ? sql<string | null>`(details::jsonb ->> ${key})` : sql<string | null>`cast(json_extract(details, ${`$.${key}`}) as text)`;
}

function conditionOf(db: Executor, eb: ExpressionBuilder<Database, 'audit_events'>, condition: EventCondition): Expression<SqlBool> {
  switch (condition.kind) {
    case 'actor':
      return condition.ids ? inList(eb, eb.ref('actor_id'), condition.ids) : eb('actor_id', 'is not', null);
    case 'typed': {
      const typed = inList(eb, eb.ref('type'), condition.types);
      if (!condition.ids) return typed;
      const { field } = condition;
      if (field === undefined) throw new Error('ids without the field that holds them');
      const column = typeof field === 'string' ? eb.ref(field) : detailText(db, field.detail);
      return eb.and([typed, inList(eb, column, condition.ids)]);
    }
    case 'address':
      // A substring, not a LIKE pattern: % and _ in it are plain characters.
      return isPostgres(db) ? sql<SqlBool>`strpos(source_address, ${condition.contains}) > 0` : sql<SqlBool>`instr(source_address, ${condition.contains}) > 0`;
    case 'time': {
      const bounds: Expression<SqlBool>[] = [];
      if (condition.after !== undefined) bounds.push(eb('at', '>', condition.after));
      if (condition.from !== undefined) bounds.push(eb('at', '>=', condition.from));
      if (condition.to !== undefined) bounds.push(eb('at', '<=', condition.to));
      return eb.and(bounds);
    }
  }
}

function inList(eb: ExpressionBuilder<Database, 'audit_events'>, value: Expression<string | null>, values: readonly string[]): Expression<SqlBool> {
  return values.length === 0 ? sql<SqlBool>`1 = 0` : eb(value, 'in', [...values]);
}

function whereOf(db: Executor, query: EventQuery) {
  return (eb: ExpressionBuilder<Database, 'audit_events'>) => eb.and(query.where.map((group) => eb.or(group.map((condition) => conditionOf(db, eb, condition)))));
}

/** The events a query selects, in its order and window, and how many it selects in all. */
export async function query(db: Executor, query: EventQuery): Promise<{ events: StoredEvent[]; total: number }> {
  const where = whereOf(db, query);
  const rows = await db
    .selectFrom('audit_events')
    .selectAll()
    .where(where)
    .orderBy('at', query.order)
    .orderBy('id', query.order)
    .limit(query.limit)
    .offset(query.offset)
    .execute();
  const { total } = await db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<number | string>().as('total'))
    .where(where)
    .executeTakeFirstOrThrow();
  return {
    total: Number(total),
    events: rows.map((row) => ({
      id: Number(row.id),
      at: Number(row.at),
      type: row.type,
      actor: party(row.actor_id, row.actor_login, row.actor_certname),
      subject: party(row.subject_id, row.subject_login),
      source_address: row.source_address,
      details: JSON.parse(row.details) as Record<string, unknown>,
    })),
  };
}

/**
 * For each of `ids`, the `nameKey` detail of the newest event of these types
 * whose `idKey` detail is that id: the name a deleted role or group had.
 */
export async function namesRecorded(db: Executor, of: { types: readonly string[]; idKey: string; nameKey: string; ids: readonly string[] }): Promise<Map<string, string>> {
  if (of.ids.length === 0 || of.types.length === 0) return new Map();
  const rows = await db
    .selectFrom('audit_events')
    .select([detailText(db, of.idKey).as('object_id'), detailText(db, of.nameKey).as('name')])
    .where('type', 'in', [...of.types])
    .where(detailText(db, of.idKey), 'in', [...of.ids])
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  const names = new Map<string, string>();
  for (const row of rows) if (row.object_id !== null && row.name !== null && !names.has(row.object_id)) names.set(row.object_id, row.name);
  return names;
}
