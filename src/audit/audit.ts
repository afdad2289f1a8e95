// Security events (CONTRACT §8). Each is written with the same transaction
// (or query executor) as the change it records, so an event exists exactly
// when its change committed.

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

const MAX_TEXT = 255;
const clip = (value: string | null | undefined) => (value == null ? null : value.slice(0, MAX_TEXT));

export async function recordEvent(db: Executor, event: AuditEvent, at = Date.now()): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      at,
      type: event.type,
      actor_id: event.actor?.id ?? null,
      actor_login: clip(event.actor?.login),
      subject_id: event.subject?.id ?? null,
      subject_login: clip(event.subject?.login),
      source_address: clip(event.sourceAddress),
      details: JSON.stringify(event.details ?? {}),
    })
    .execute();
}
