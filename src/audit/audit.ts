// Security events (CONTRACT §8). Each is written with the same transaction
// (or query executor) as the change it records, so an event exists exactly
// when its change committed.

import { channel } from 'node:diagnostics_channel';
import type { Kysely, Transaction } from 'kysely';
import { isTransientConflict } from '../store/errors.js';
import type { Database } from '../store/schema.js';

export type Executor = Kysely<Database> | Transaction<Database>;

export const AUDIT_EVENT_TYPES = [
  'login-succeeded',
  'login-failed',
  'logout',
  'account-locked',
  'account-unrevoked',
  'account-revoked',
  'user-created',
  'user-edited',
  'user-deleted',
  'role-created',
  'role-assigned',
  'role-removed',
  'reset-token-issued',
  'reset-token-used',
  'reset-rejected',
  'reset-tokens-cancelled',
  'password-changed',
  'admin-password-reset-by-script',
  'signing-key-rotated',
  'signing-key-retired',
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
  details?: Record<string, string | number | boolean | null | readonly (string | number)[]>;
}

/** Events are published here once written for good, with the store they were written to (the metrics count them). */
export const AUDIT_EVENT_CHANNEL = 'rbac:audit-events';
export interface PublishedEvents {
  /** The store (root Kysely instance) that holds them. */
  db: Kysely<Database>;
  events: AuditEvent[];
}
const published = channel(AUDIT_EVENT_CHANNEL);

function publish(message: PublishedEvents): void {
  if (message.events.length > 0 && published.hasSubscribers) published.publish(message);
}

// Events written inside a transaction wait here until it commits: a rolled
// back change has no event in the table, and must not be counted either.
const uncommitted = new WeakMap<Transaction<Database>, PublishedEvents>();

const TRANSACTION_ATTEMPTS = 3;

/**
 * A write transaction: the events it records are published once it commits,
 * and not at all if it rolls back. One that PostgreSQL aborts for a deadlock
 * or serialization failure with a concurrent transaction is run again (its
 * work reads what it decides on inside the transaction, so a rerun decides
 * afresh).
 */
export async function inTransaction<T>(db: Kysely<Database>, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const pending: PublishedEvents = { db, events: [] };
    try {
      const result = await db.transaction().execute((trx) => {
        uncommitted.set(trx, pending);
        return work(trx);
      });
      publish(pending);
      return result;
    } catch (error) {
      if (attempt >= TRANSACTION_ATTEMPTS || !isTransientConflict(error)) throw error;
    }
  }
}

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
  if (!db.isTransaction) return publish({ db: db as Kysely<Database>, events });
  const pending = uncommitted.get(db as Transaction<Database>);
  // A programming error, caught by the tests of every flow that records events.
  if (!pending) throw new Error('security events were recorded in a transaction not opened with inTransaction()');
  pending.events.push(...events);
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
