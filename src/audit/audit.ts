// Security events (CONTRACT §8). Each is written with the same transaction
// (or query executor) as the change it records, so an event exists exactly
// when its change committed.

import { channel } from 'node:diagnostics_channel';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../store/schema.js';

export type Executor = Kysely<Database> | Transaction<Database>;

export const AUDIT_EVENT_TYPES = [
  'login-failed',
  'account-locked',
  'account-unrevoked',
  'account-revoked',
  'user-created',
  'user-deleted',
  'reset-token-issued',
  'reset-token-used',
  'reset-rejected',
  'password-changed',
  'admin-password-reset-by-script',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export interface Party {
  id: string | null;
  login: string | null;
}

export interface AuditEvent {
  type: AuditEventType;
  actor?: Party | null;
  subject?: Party | null;
  sourceAddress?: string | null;
  details?: Record<string, string | number | boolean | null>;
}

/** Each recorded event is published here (the metrics count them); its transaction may still roll back. */
export const AUDIT_EVENT_CHANNEL = 'rbac:audit-event';
const recorded = channel(AUDIT_EVENT_CHANNEL);

const MAX_TEXT = 255;
const clip = (value: string | null | undefined) => (value == null ? null : value.slice(0, MAX_TEXT));

export async function recordEvent(db: Executor, event: AuditEvent, at = Date.now()): Promise<void> {
  await recordEvents(db, [event], at);
}

/** Several events of one change in one statement (one round trip), in order. */
export async function recordEvents(db: Executor, events: AuditEvent[], at = Date.now()): Promise<void> {
  if (events.length === 0) return;
  await db
    .insertInto('audit_events')
    .values(
      events.map((event) => ({
        at,
        type: event.type,
        actor_id: event.actor?.id ?? null,
        actor_login: clip(event.actor?.login),
        subject_id: event.subject?.id ?? null,
        subject_login: clip(event.subject?.login),
        source_address: clip(event.sourceAddress),
        details: JSON.stringify(event.details ?? {}),
      })),
    )
    .execute();
  if (recorded.hasSubscribers) for (const event of events) recorded.publish(event);
}

export interface ListedEvent {
  id: number;
  time: string;
  type: string;
  actor: Party | null;
  subject: Party | null;
  source_address: string | null;
  details: Record<string, unknown>;
}

/** Newest first. */
export async function listEvents(db: Executor, page: { limit: number; offset: number }): Promise<{ events: ListedEvent[]; total: number }> {
  const rows = await db.selectFrom('audit_events').selectAll().orderBy('at', 'desc').orderBy('id', 'desc').limit(page.limit).offset(page.offset).execute();
  const { total } = await db.selectFrom('audit_events').select((eb) => eb.fn.countAll<number | string>().as('total')).executeTakeFirstOrThrow();
  const party = (id: string | null, login: string | null): Party | null => (id === null && login === null ? null : { id, login });
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
