// The audit_events table: security events, written with the change they
// record (same executor), listed newest first.

import type { ListedEvent } from '../shapes.js';
import { eventsWritten, type Executor } from './transaction.js';

export type { ListedEvent } from '../shapes.js';

export interface Party {
  id: string | null;
  login: string | null;
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
const party = (id: string | null, login: string | null): Party | null => (id === null && login === null ? null : { id, login });

/** An event as its audit_events row stores it (for statements that write one among other changes). */
export function rowOf(event: SecurityEvent, at: number) {
  return {
    at,
    type: event.type,
    actor_id: event.actor?.id ?? null,
    actor_login: clip(event.actor?.login),
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
      actor: party(row.actor_id, row.actor_login),
      subject: party(row.subject_id, row.subject_login),
      source_address: row.source_address,
      details: JSON.parse(row.details) as Record<string, unknown>,
    })),
  };
}
