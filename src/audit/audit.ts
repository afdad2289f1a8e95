// Security events. Each is written with the same transaction (or executor)
// as the change it records, so an event exists exactly when its change
// committed; the store hands committed events to its listener (the metrics).

import { permissionDenied } from '../errors.js';
import * as eventStore from '../store/events.js';
import type { Party } from '../store/events.js';
import type { Executor } from '../store/transaction.js';

export type { ListedEvent, Party } from '../store/events.js';

/** A user as an event names it (actor or subject). */
export function partyOf(user: { id: string; login: string; certname?: string | undefined }): Party & { id: string; login: string } {
  return { id: user.id, login: user.login, ...(user.certname ? { certname: user.certname } : {}) };
}

/**
 * Every security event, by type, with the facts it carries. A discriminated
 * union: recording an event with the wrong details does not compile, and
 * whoever reads events (the metrics) gets typed details.
 */
export type AuditEvent = { actor?: Party | null; subject?: Party | null; sourceAddress?: string | null } & (
  | { type: 'login-succeeded'; details: { label: string | null; client: string | null; password_expired?: true } }
  | { type: 'login-failed'; details: LoginFailedDetails }
  | { type: 'logout'; details?: undefined }
  | { type: 'login-token-issued'; details: { label: string | null; client: string | null; expires_at: string | null } }
  | { type: 'tokens-revoked'; details: { count: number; token_ids: readonly string[]; via: TokenRevocationRoute } }
  | { type: 'account-locked'; details: { failed_attempts: number; locked_at: string; lockout_lifts_at: string | null; revoked_by: 'lockout' } }
  | { type: 'account-revoked'; details?: undefined }
  | { type: 'account-unrevoked'; details?: { via: 'reset-token' | 'lockout-expired' } }
  | { type: 'account-expired'; details: { idle_days: number; idle_since: string; last_login: string | null } }
  | { type: 'user-created'; details: { is_remote: boolean; role_ids: readonly number[] } | { bootstrap: true } }
  | { type: 'user-edited'; details: { fields: readonly string[]; previous_login?: string } }
  | { type: 'user-deleted'; details?: { directory_id: string } }
  | { type: 'user-bound'; details: { directory_id: string; dn: string; previous_dn?: string } }
  | { type: 'user-unbound'; details: { directory_id: string; dn: string | null } }
  | { type: 'role-created'; details: { role_id: number; display_name: string; permissions: readonly string[] } }
  | { type: 'role-edited'; details: { role_id: number; fields: readonly string[]; permissions_added?: readonly string[]; permissions_removed?: readonly string[] } }
  | { type: 'role-deleted'; details: { role_id: number; display_name: string } }
  | { type: 'role-assigned' | 'role-removed'; details: { role_id: number } }
  | { type: 'reset-token-issued'; details: { jti: string; expires_at: string; superseded: number } }
  | { type: 'reset-token-used'; details: { jti: string } }
  | { type: 'reset-rejected'; details: { reason: ResetRejection; jti?: string } }
  | { type: 'reset-tokens-cancelled'; details: { reason: string; count: number } }
  | { type: 'password-changed'; details: { via: 'reset-token' | 'change-own-password' } }
  | { type: 'admin-password-reset-by-script'; details: { operator: string; created: boolean } }
  | { type: 'signing-key-rotated'; details: { kid: string } }
  | { type: 'signing-key-retired'; details: { kid: string; reset_tokens_cancelled: number } }
  | { type: 'disclaimer-set'; details: { disclaimer: string } }
  | { type: 'disclaimer-removed'; details?: undefined }
  | { type: 'directory-created' | 'directory-updated'; details: { directory_id: string; hostname: string; fields: readonly string[] } }
  | { type: 'directory-deleted'; details: { directory_id: string; users_removed: number; groups_removed: number } }
  | { type: 'directory-unavailable'; details: { directory_id: string; stage: string } }
  | { type: 'directory-tested'; details: { directory_id: string | null; hostname: string; port: number; outcome: DirectoryTestOutcome; stage: string | null } }
  | { type: 'group-created'; details: { group_id: string; login: string; role_ids: readonly number[] } }
  | { type: 'group-roles-changed'; details: { group_id: string; added: readonly number[]; removed: readonly number[] } }
  | { type: 'group-deleted'; details: { group_id: string; login: string; directory_id?: string } }
  | { type: 'imported'; details: ImportedDetails }
);

/** What `rbac import` recorded for one object it created or changed (CONTRACT §16): which object, and where it came from. */
export type ImportedDetails = {
  object: ImportedObject;
  change: 'created' | 'updated';
  /** The PE service's URL, or the file, the object was read from. */
  source: string;
  /** The fields an update changed. */
  fields?: readonly string[];
  role_id?: number;
  display_name?: string;
  group_id?: string;
  login?: string;
  directory_id?: string;
  hostname?: string;
};
/** The kinds of object an import writes. */
export type ImportedObject = 'user' | 'role' | 'group' | 'directory' | 'disclaimer';

export type AuditEventType = AuditEvent['type'];

/** Where login tokens were revoked by name (logging out is `logout`). */
/** Where a revocation came from: a route, or the command line at the server. */
export type TokenRevocationRoute = 'DELETE /rbac-api/v2/tokens' | 'DELETE /rbac-api/v2/tokens/:token' | 'rbac tokens revoke';
/** How a directory connection test ended: `refused` is one not run because it would have sent the stored password to a new place. */
export type DirectoryTestOutcome = 'succeeded' | 'failed' | 'refused';
/** Why a password check failed. */
export type LoginFailure =
  | 'wrong-password'
  | 'unknown-login'
  | 'remote-user'
  | 'no-password'
  | 'directory-wrong-password'
  | 'directory-unknown-login'
  // The login found another directory entry than the one the account is bound to.
  | 'directory-entry-mismatch';
/** What a failed check records: why, and for directory-entry-mismatch which entries (DNs, and directory ids when those differ). */
export type LoginFailedDetails = {
  reason: LoginFailure;
  purpose: CheckPurpose;
  bound_dn?: string;
  found_dn?: string;
  bound_directory_id?: string;
  found_directory_id?: string;
};
/** What the check was for. */
export type CheckPurpose = 'login' | 'password-change';
/** Why a reset by token was refused (never told to the client). */
export type ResetRejection = 'bad-signature-or-expired' | 'remote-user' | 'unknown-user' | 'spent-superseded-or-expired' | 'spent-concurrently';

// Every type once, for the metrics' label sets (checked against the union both ways).
const EVENT_TYPES = {
  'login-succeeded': true,
  'login-failed': true,
  logout: true,
  'login-token-issued': true,
  'tokens-revoked': true,
  'account-locked': true,
  'account-revoked': true,
  'account-unrevoked': true,
  'account-expired': true,
  'user-created': true,
  'user-edited': true,
  'user-deleted': true,
  'user-bound': true,
  'user-unbound': true,
  'role-created': true,
  'role-edited': true,
  'role-deleted': true,
  'role-assigned': true,
  'role-removed': true,
  'reset-token-issued': true,
  'reset-token-used': true,
  'reset-rejected': true,
  'reset-tokens-cancelled': true,
  'password-changed': true,
  'admin-password-reset-by-script': true,
  'signing-key-rotated': true,
  'signing-key-retired': true,
  'disclaimer-set': true,
  'disclaimer-removed': true,
  'directory-created': true,
  'directory-updated': true,
  'directory-deleted': true,
  'directory-unavailable': true,
  'directory-tested': true,
  'group-created': true,
  'group-roles-changed': true,
  'group-deleted': true,
  imported: true,
} as const satisfies Record<AuditEventType, true>;
export const AUDIT_EVENT_TYPES = Object.keys(EVENT_TYPES) as AuditEventType[];

export async function recordEvent(db: Executor, event: AuditEvent, at = Date.now()): Promise<void> {
  await eventStore.record(db, [event], at);
}

/** Several events of one change in one statement (one round trip), in order. */
export async function recordEvents(db: Executor, events: readonly AuditEvent[], at = Date.now()): Promise<void> {
  await eventStore.record(db, events, at);
}

/** GET /events: newest first, for superusers only (the trail records what administrators did). */
export async function listEvents(db: Executor, by: { is_superuser: boolean } | null, window: { limit: number; offset: number }) {
  if (by && !by.is_superuser) throw permissionDenied('Only superusers can read security events.');
  return eventStore.page(db, window);
}
