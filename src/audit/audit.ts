// Security events. Each is written with the same transaction (or executor)
// as the change it records, so an event exists exactly when its change
// committed; the store hands committed events to its listener (the metrics).

import * as eventStore from '../store/events.js';
import type { Party, SecurityEvent } from '../store/events.js';
import type { Executor } from '../store/transaction.js';

export type { ListedEvent, Party } from '../store/events.js';

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

export interface AuditEvent extends SecurityEvent {
  type: AuditEventType;
  actor?: Party | null;
  subject?: Party | null;
}

export async function recordEvent(db: Executor, event: AuditEvent, at = Date.now()): Promise<void> {
  await eventStore.record(db, [event], at);
}

/** Several events of one change in one statement (one round trip), in order. */
export async function recordEvents(db: Executor, events: readonly AuditEvent[], at = Date.now()): Promise<void> {
  await eventStore.record(db, events, at);
}

/** Newest first. */
export const listEvents = eventStore.page;
