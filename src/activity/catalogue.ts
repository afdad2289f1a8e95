// How PE's activity service shows each security event: the one declared
// table of what an event is about (PE's object types), PE's `type` and `what`
// for it, and its message in plain words. Every event type of src/audit/ has
// an entry (the table does not compile without one), so every event the
// audit trail records is in the activity service too.

import type { AuditEvent, AuditEventType } from '../audit/audit.js';
import type { EventField } from '../store/events.js';

/** The shape of the ids of one kind of object: what a filter's values must look like. */
export type IdShape = 'uuid' | 'role-id' | 'key-id' | 'fixed';

interface ObjectKindDefinition {
  /** PE's object type (`object_type` in filters and answers). */
  object_type: string;
  /** Where an event row names the object's id; null: there is one such object, named `fixedId`. */
  field: EventField | null;
  idShape: IdShape;
  fixedId?: string;
}

/**
 * The kinds of object RBAC's events are about. PE's activity service names
 * users, roles, user_groups and directory_server_settings; this service's
 * signing keys and its disclaimer have types of their own.
 */
export const OBJECT_KINDS = {
  user: { object_type: 'users', field: 'subject_id', idShape: 'uuid' },
  role: { object_type: 'roles', field: { detail: 'role_id' }, idShape: 'role-id' },
  group: { object_type: 'user_groups', field: { detail: 'group_id' }, idShape: 'uuid' },
  directory: { object_type: 'directory_server_settings', field: { detail: 'directory_id' }, idShape: 'uuid' },
  signingKey: { object_type: 'signing_keys', field: { detail: 'kid' }, idShape: 'key-id' },
  disclaimer: { object_type: 'disclaimer', field: null, idShape: 'fixed', fixedId: 'disclaimer' },
} as const satisfies Record<string, ObjectKindDefinition>;

export type ObjectKind = keyof typeof OBJECT_KINDS;

/** The members of the AuditEvent union an event of type T can be (some members share several types). */
type EventOf<T extends AuditEventType> = AuditEvent extends infer E ? (E extends { type: infer U } ? (T extends U ? E : never) : never) : never;
/** Details as an event of type T carries them (older rows may lack a key: every one is optional). */
type DetailsOf<T extends AuditEventType> = Partial<NonNullable<EventOf<T>['details']>>;

/** What a message is written from: the parties as names, the event's details, the names of its objects. */
export interface MessageFacts<T extends AuditEventType = AuditEventType> {
  /** Who acted: `alice (id)`, or "The service" for what no user did. */
  actor: string;
  /** The user the event is about: `alice (id)`, `"alice"` for a login no user has, "a user" when unknown. */
  subject: string;
  details: DetailsOf<T>;
  /** The name of the event's object of that kind (a role's name, a group's login, …). */
  nameOf(kind: ObjectKind): string;
}

interface CatalogueEntry<T extends AuditEventType> {
  /** What the event is about; the first is v1's `object`, all are v2's `objects` (and filters by object match any). */
  objects: readonly [ObjectKind, ...ObjectKind[]];
  /** For an event that may be about any of several kinds (`imported`): the one this event is about, shown as its object. */
  objectOf?: (details: DetailsOf<T>) => ObjectKind;
  /** PE's `type`: the kind of change. */
  type: 'create' | 'edit' | 'delete' | 'authenticate' | 'revoke' | 'reinstate' | 'reject' | 'fail' | 'test';
  /** PE's `what`: the thing changed. */
  what: string;
  message(facts: MessageFacts<T>): string;
}

const count = (n: number | undefined, one: string, many = `${one}s`) => `${n ?? 0} ${n === 1 ? one : many}`;
const list = (items: readonly (string | number)[] | undefined) => (items && items.length > 0 ? items.join(', ') : 'nothing');

const LOGIN_FAILURES: Record<NonNullable<DetailsOf<'login-failed'>['reason']>, string> = {
  'wrong-password': 'the password was wrong',
  'unknown-login': 'no user has that login',
  'remote-user': 'a directory user cannot use a local password',
  'no-password': 'the user has no password yet',
  'directory-wrong-password': 'the directory refused the password',
  'directory-unknown-login': 'the directory has no such user',
  'directory-entry-mismatch': 'the login found another directory entry than the one the user is bound to',
};

const RESET_REJECTIONS: Record<NonNullable<DetailsOf<'reset-rejected'>['reason']>, string> = {
  'bad-signature-or-expired': 'the token was forged, malformed or expired',
  'remote-user': 'the user is a directory user',
  'unknown-user': 'the user no longer exists',
  'spent-superseded-or-expired': 'the token was used, superseded or cancelled already',
  'spent-concurrently': 'the token was used by another request at the same time',
};

// src/passwords/credentials.ts's CancelReason (recorded as text).
const CANCELLED_BECAUSE: Record<string, string> = {
  superseded: 'a newer token was issued',
  'password-changed': 'the password changed',
  'account-revoked': 'the user was revoked',
  'user-deleted': 'the user was deleted',
  'admin-password-reset-by-script': 'the reset script set the password',
};

const UNREVOKED_BY: Record<NonNullable<DetailsOf<'account-unrevoked'>['via']>, string> = {
  'reset-token': 'by a password reset',
  'lockout-expired': 'when the lockout duration passed',
};

export const ACTIVITY_CATALOGUE: { [T in AuditEventType]: CatalogueEntry<T> } = {
  'login-succeeded': { objects: ['user'], type: 'authenticate', what: 'user', message: (e) => `User ${e.subject} logged in.` },
  'login-failed': {
    objects: ['user'],
    type: 'fail',
    what: 'user',
    message: (e) =>
      e.details.purpose === 'password-change'
        ? `A password change by ${e.subject} was refused: the current password was wrong.`
        : `A login as ${e.subject} failed: ${LOGIN_FAILURES[e.details.reason ?? 'wrong-password'] ?? e.details.reason}.`,
  },
  logout: { objects: ['user'], type: 'revoke', what: 'authentication_token', message: (e) => `User ${e.subject} logged out.` },
  'login-token-issued': { objects: ['user'], type: 'create', what: 'authentication_token', message: (e) => `User ${e.subject} generated an authentication token.` },
  'tokens-revoked': {
    objects: ['user'],
    type: 'revoke',
    what: 'authentication_token',
    message: (e) => `Revoked ${count(e.details.count, 'authentication token')} of user ${e.subject}; revoked by ${e.actor}.`,
  },
  'account-locked': {
    objects: ['user'],
    type: 'revoke',
    what: 'user',
    message: (e) => `User ${e.subject} revoked after ${count(e.details.failed_attempts, 'failed login attempt')}.`,
  },
  'account-revoked': { objects: ['user'], type: 'revoke', what: 'user', message: (e) => `User ${e.subject} revoked by ${e.actor}.` },
  'account-unrevoked': {
    objects: ['user'],
    type: 'reinstate',
    what: 'user',
    message: (e) => `User ${e.subject} reinstated ${e.details.via ? UNREVOKED_BY[e.details.via] : `by ${e.actor}`}.`,
  },
  'account-expired': {
    objects: ['user'],
    type: 'revoke',
    what: 'user',
    message: (e) => `User ${e.subject} revoked: no login for ${count(e.details.idle_days, 'day')}.`,
  },
  'user-created': {
    objects: ['user'],
    type: 'create',
    what: 'user',
    message: (e) => {
      const details: { bootstrap?: true; is_remote?: boolean; role_ids?: readonly number[] } = e.details;
      if (details.bootstrap) return `Created the built-in administrator ${e.subject}.`;
      const roles = (details.role_ids?.length ?? 0) > 0 ? ` with roles ${list(details.role_ids)}` : '';
      return `Created ${details.is_remote ? 'remote' : 'local'} user ${e.subject}${roles}.`;
    },
  },
  'user-edited': {
    objects: ['user'],
    type: 'edit',
    what: 'user',
    message: (e) =>
      `Changed ${list(e.details.fields)} of user ${e.subject}${e.details.previous_login === undefined ? '' : ` (login was "${e.details.previous_login}")`}.`,
  },
  'user-deleted': { objects: ['user'], type: 'delete', what: 'user', message: (e) => `Deleted user ${e.subject}.` },
  'user-bound': {
    objects: ['user', 'directory'],
    type: 'edit',
    what: 'directory_binding',
    message: (e) => `User ${e.subject} bound to the directory entry ${e.details.dn ?? '(unknown)'}${e.details.previous_dn === undefined ? '' : ` (was ${e.details.previous_dn})`}.`,
  },
  'user-unbound': {
    objects: ['user', 'directory'],
    type: 'edit',
    what: 'directory_binding',
    message: (e) => `User ${e.subject} unbound from the directory entry ${e.details.dn ?? '(none)'} by ${e.actor}.`,
  },
  'role-created': {
    objects: ['role'],
    type: 'create',
    what: 'role',
    message: (e) => `Created role ${e.nameOf('role')} with ${(e.details.permissions?.length ?? 0) > 0 ? `permissions ${list(e.details.permissions)}` : 'no permissions'}.`,
  },
  'role-edited': {
    objects: ['role'],
    type: 'edit',
    what: 'role',
    message: (e) => {
      const parts = [
        ...(e.details.fields ?? []).filter((field) => field !== 'permissions').map((field) => `${field} changed`),
        ...((e.details.permissions_added?.length ?? 0) > 0 ? [`permissions ${list(e.details.permissions_added)} added`] : []),
        ...((e.details.permissions_removed?.length ?? 0) > 0 ? [`permissions ${list(e.details.permissions_removed)} removed`] : []),
      ];
      return `Role ${e.nameOf('role')} edited: ${parts.length > 0 ? parts.join('; ') : 'no change'}.`;
    },
  },
  'role-deleted': { objects: ['role'], type: 'delete', what: 'role', message: (e) => `Deleted role ${e.nameOf('role')}.` },
  'role-assigned': { objects: ['user', 'role'], type: 'edit', what: 'role_membership', message: (e) => `User ${e.subject} added to role ${e.nameOf('role')}.` },
  'role-removed': { objects: ['user', 'role'], type: 'edit', what: 'role_membership', message: (e) => `User ${e.subject} removed from role ${e.nameOf('role')}.` },
  'reset-token-issued': {
    objects: ['user'],
    type: 'create',
    what: 'password_reset_token',
    message: (e) => `A password reset token was generated for user ${e.subject}${(e.details.superseded ?? 0) > 0 ? ` (replacing ${count(e.details.superseded, 'unused token')})` : ''}.`,
  },
  'reset-token-used': { objects: ['user'], type: 'edit', what: 'password_reset_token', message: (e) => `A password reset token of user ${e.subject} was used.` },
  'reset-rejected': {
    objects: ['user'],
    type: 'reject',
    what: 'password_reset_token',
    message: (e) => `A password reset was refused: ${RESET_REJECTIONS[e.details.reason ?? 'bad-signature-or-expired'] ?? e.details.reason}.`,
  },
  'reset-tokens-cancelled': {
    objects: ['user'],
    type: 'revoke',
    what: 'password_reset_token',
    message: (e) => `Cancelled ${count(e.details.count, 'unused password reset token')} of user ${e.subject}: ${CANCELLED_BECAUSE[e.details.reason ?? ''] ?? e.details.reason ?? 'no reason recorded'}.`,
  },
  'password-changed': {
    objects: ['user'],
    type: 'edit',
    what: 'password',
    message: (e) => (e.details.via === 'change-own-password' ? `User ${e.subject} changed their password.` : `Password reset for user ${e.subject}.`),
  },
  'admin-password-reset-by-script': {
    objects: ['user'],
    type: 'edit',
    what: 'password',
    message: (e) => `The password of ${e.subject} was ${e.details.created ? 'set (the user was created)' : 'reset'} by the reset script, run by ${e.details.operator ?? 'an operator'} on the server.`,
  },
  'signing-key-rotated': {
    objects: ['signingKey'],
    type: 'create',
    what: 'signing_key',
    message: (e) => `Signing key ${e.nameOf('signingKey')} created; new password reset tokens are signed with it.`,
  },
  'signing-key-retired': {
    objects: ['signingKey'],
    type: 'revoke',
    what: 'signing_key',
    message: (e) => `Signing key ${e.nameOf('signingKey')} retired; ${count(e.details.reset_tokens_cancelled, 'unused reset token')} it signed cancelled.`,
  },
  'disclaimer-set': { objects: ['disclaimer'], type: 'edit', what: 'disclaimer', message: () => 'Disclaimer set.' },
  'disclaimer-removed': { objects: ['disclaimer'], type: 'delete', what: 'disclaimer', message: () => 'Disclaimer removed.' },
  'directory-created': {
    objects: ['directory'],
    type: 'create',
    what: 'directory_service_settings',
    message: (e) => `Directory service ${e.nameOf('directory')} added.`,
  },
  'directory-updated': {
    objects: ['directory'],
    type: 'edit',
    what: 'directory_service_settings',
    message: (e) => `Directory service ${e.nameOf('directory')} settings changed: ${list(e.details.fields)}.`,
  },
  'directory-deleted': { objects: ['directory'], type: 'delete', what: 'directory_service_settings', message: (e) => `Directory service ${e.nameOf('directory')} removed.` },
  'directory-unavailable': {
    objects: ['directory'],
    type: 'fail',
    what: 'directory_service',
    message: (e) => `Directory service ${e.nameOf('directory')} could not be reached (${e.details.stage ?? 'connect'} failed).`,
  },
  'directory-tested': {
    objects: ['directory'],
    type: 'test',
    what: 'directory_service',
    message: (e) => {
      const outcome = e.details.outcome === 'succeeded' ? 'succeeded' : e.details.outcome === 'refused' ? 'was refused (the stored password may not go to a new place)' : `failed at ${e.details.stage ?? 'connect'}`;
      return `Connection test of directory service ${e.nameOf('directory')} (port ${e.details.port ?? 'unknown'}) by ${e.actor} ${outcome}.`;
    },
  },
  'group-created': {
    objects: ['group'],
    type: 'create',
    what: 'user_group',
    message: (e) => `Imported directory group ${e.nameOf('group')}${(e.details.role_ids?.length ?? 0) > 0 ? ` with roles ${list(e.details.role_ids)}` : ''}.`,
  },
  'group-roles-changed': {
    objects: ['group'],
    type: 'edit',
    what: 'role_membership',
    message: (e) => {
      const parts = [
        ...((e.details.added?.length ?? 0) > 0 ? [`roles ${list(e.details.added)} added`] : []),
        ...((e.details.removed?.length ?? 0) > 0 ? [`roles ${list(e.details.removed)} removed`] : []),
      ];
      return `Roles of group ${e.nameOf('group')} changed: ${parts.length > 0 ? parts.join('; ') : 'no change'}.`;
    },
  },
  'group-deleted': { objects: ['group'], type: 'delete', what: 'user_group', message: (e) => `Deleted directory group ${e.nameOf('group')}.` },
  imported: {
    objects: ['user', 'role', 'group', 'directory', 'disclaimer'],
    objectOf: (details) => importedKind(details.object),
    type: 'create',
    what: 'import',
    message: (e) => {
      const kind = importedKind(e.details.object);
      const named = kind === 'user' ? `user ${e.subject}` : kind === 'disclaimer' ? 'the disclaimer' : `${IMPORTED_NOUNS[kind]} ${e.nameOf(kind)}`;
      const change = e.details.change === 'updated' ? `Updated ${named} (${list(e.details.fields)})` : `Imported ${named}`;
      return `${change} from ${e.details.source ?? 'an unnamed source'}.`;
    },
  },
};

// The activity service's kind of object for each kind an import writes, and its name in a message.
const IMPORTED_KINDS = { user: 'user', role: 'role', group: 'group', directory: 'directory', disclaimer: 'disclaimer' } as const satisfies Record<string, ObjectKind>;
/** The kind of object an `imported` event is about; a user for a row that names none or one this version does not know. */
const importedKind = (object: unknown): ObjectKind => (typeof object === 'string' && Object.hasOwn(IMPORTED_KINDS, object) ? IMPORTED_KINDS[object as keyof typeof IMPORTED_KINDS] : 'user');
const IMPORTED_NOUNS: Partial<Record<ObjectKind, string>> = { role: 'role', group: 'directory group', directory: 'directory service' };

/** PE's `description`: the event type in PE's snake_case (`reset_token_issued`). */
export const descriptionOf = (type: AuditEventType) => type.replaceAll('-', '_');

/** The event types whose objects include this kind. */
export function typesAbout(kind: ObjectKind): AuditEventType[] {
  return (Object.keys(ACTIVITY_CATALOGUE) as AuditEventType[]).filter((type) => (ACTIVITY_CATALOGUE[type].objects as readonly ObjectKind[]).includes(kind));
}

/** The kind of object PE's object_type names, if RBAC records any. */
export function kindOfObjectType(objectType: string): ObjectKind | undefined {
  return (Object.keys(OBJECT_KINDS) as ObjectKind[]).find((kind) => OBJECT_KINDS[kind].object_type === objectType);
}
