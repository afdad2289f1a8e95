// PE's activity service over the audit trail: the events src/audit/ records,
// read with PE's filters and shown in PE's shapes (v1, v2, CSV). One event is
// one commit. Superusers (api_user among them) read every event; any other
// user reads the events about themselves, as PE's console shows a user their
// own activity.

import type { AuditEventType } from '../audit/audit.js';
import { mapInSlices } from '../event-loop.js';
import type { Actor } from '../permissions/permissions.js';
import * as eventStore from '../store/events.js';
import type { EventCondition, StoredEvent } from '../store/events.js';
import * as groups from '../store/groups.js';
import * as roles from '../store/roles.js';
import type { Executor } from '../store/transaction.js';
import type { ActivityCommitV1, ActivityCommitV2, ActivityEvent, ActivityPageV1, ActivityPageV2, ActivityQueryV1, ActivityQueryV2 } from '../shapes.js';
import { ACTIVITY_CATALOGUE, OBJECT_KINDS, descriptionOf, typesAbout, type MessageFacts, type ObjectKind } from './catalogue.js';
import { activityCsv } from './csv.js';
import { RBAC_SERVICE_ID, filterFromV1, filterFromV2, type ActivityFilter } from './filters.js';

/** GET /activity-api/v1/events. */
export async function activityV1(db: Executor, actor: Actor, query: ActivityQueryV1): Promise<ActivityPageV1> {
  const { commits, total, window } = await readActivity(db, actor, filterFromV1(query));
  return { commits: await mapInSlices(commits, commitV1), offset: window.offset, limit: window.limit, 'total-rows': total };
}

/** GET /activity-api/v2/events. */
export async function activityV2(db: Executor, actor: Actor, query: ActivityQueryV2): Promise<ActivityPageV2> {
  const { commits, total, window } = await readActivity(db, actor, filterFromV2(query));
  return { commits: await mapInSlices(commits, commitV2), pagination: { total, limit: window.limit, offset: window.offset } };
}

/** GET /activity-api/v1/events.csv: v1's page as CSV. */
export async function activityV1Csv(db: Executor, actor: Actor, query: ActivityQueryV1): Promise<string> {
  return await activityCsv((await readActivity(db, actor, filterFromV1(query))).commits, { address: false });
}

/** GET /activity-api/v2/events.csv: v2's page as CSV, with the address. */
export async function activityV2Csv(db: Executor, actor: Actor, query: ActivityQueryV2): Promise<string> {
  return await activityCsv((await readActivity(db, actor, filterFromV2(query))).commits, { address: true });
}

/** One event as both versions show it. */
export interface Commit {
  objects: { id: string | null; name: string | null; type: string }[];
  subject: { id: string | null; name: string | null };
  timestamp: Date;
  address: string | null;
  event: ActivityEvent;
}

async function readActivity(db: Executor, actor: Actor, filter: ActivityFilter) {
  const { window } = filter;
  if (filter.otherService) return { commits: [], total: 0, window };
  const { events, total } = await eventStore.query(db, { where: [...conditionsOf(filter), ...visibleTo(actor)], ...window });
  const names = await namesFor(db, events);
  return { commits: await mapInSlices(events, (event) => commitOf(event, names)), total, window };
}

/**
 * Who reads what: superusers (api_user is one) every event; anyone else the
 * events about themselves. The one rule of who may read the activity.
 */
function visibleTo(actor: Actor): EventCondition[][] {
  if (actor.is_superuser) return [];
  return [[{ kind: 'typed', types: typesAbout('user'), field: OBJECT_KINDS.user.field, ids: [actor.id] }]];
}

/** The filter as the store's conditions: one group per kind of filter given. */
function conditionsOf(filter: ActivityFilter): EventCondition[][] {
  const groups: EventCondition[][] = [];
  if (filter.subjects) groups.push(filter.subjects.map(({ ids }): EventCondition => (ids ? { kind: 'actor', ids } : { kind: 'actor' })));
  if (filter.objects) groups.push(filter.objects.flatMap(({ kind, ids }) => objectCondition(kind, ids)));
  if (filter.addresses) groups.push(filter.addresses.map((contains): EventCondition => ({ kind: 'address', contains })));
  if (filter.times) groups.push(filter.times.map((time): EventCondition => ({ kind: 'time', ...time })));
  return groups;
}

function objectCondition(kind: ObjectKind, ids: string[] | undefined): EventCondition[] {
  const definition = OBJECT_KINDS[kind];
  const types = typesAbout(kind);
  if (ids === undefined) return [{ kind: 'typed', types }];
  // The one disclaimer: its id matches or nothing does.
  if (definition.field === null) return ids.includes(definition.fixedId) ? [{ kind: 'typed', types }] : [];
  return [{ kind: 'typed', types, field: definition.field, ids }];
}

/**
 * The names of the roles, groups and directories the events name only by
 * id (a name recorded with the event wins): a role's or group's current
 * name, or for one since deleted the name its creation or deletion
 * recorded; a directory's host as its last change recorded it.
 */
async function namesFor(db: Executor, events: readonly StoredEvent[]) {
  const roleIds = new Set<number>();
  const groupIds = new Set<string>();
  const directoryIds = new Set<string>();
  for (const event of events) {
    const { role_id, display_name, group_id, login, directory_id, hostname } = event.details;
    if (typeof role_id === 'number' && typeof display_name !== 'string') roleIds.add(role_id);
    if (typeof group_id === 'string' && typeof login !== 'string') groupIds.add(group_id);
    if (typeof directory_id === 'string' && typeof hostname !== 'string') directoryIds.add(directory_id);
  }
  const [roleRows, groupLogins] = await Promise.all([roles.byIds(db, [...roleIds]), groups.loginsByIds(db, [...groupIds])]);
  const roleNames = new Map(roleRows.map((role) => [String(role.id), role.display_name]));
  const goneRoles = [...roleIds].map(String).filter((id) => !roleNames.has(id));
  const goneGroups = [...groupIds].filter((id) => !groupLogins.has(id));
  const [formerRoles, formerGroups, directories] = await Promise.all([
    eventStore.namesRecorded(db, { types: ROLE_NAMING, idKey: 'role_id', nameKey: 'display_name', ids: goneRoles }),
    eventStore.namesRecorded(db, { types: GROUP_NAMING, idKey: 'group_id', nameKey: 'login', ids: goneGroups }),
    eventStore.namesRecorded(db, { types: DIRECTORY_NAMING, idKey: 'directory_id', nameKey: 'hostname', ids: [...directoryIds] }),
  ]);
  return { roles: new Map([...formerRoles, ...roleNames]), groups: new Map([...formerGroups, ...groupLogins]), directories };
}

// The events that record a role's or a group's name, or a directory's host, with its id.
const ROLE_NAMING: AuditEventType[] = ['role-created', 'role-deleted', 'imported'];
const GROUP_NAMING: AuditEventType[] = ['group-created', 'group-deleted', 'imported'];
const DIRECTORY_NAMING: AuditEventType[] = ['directory-created', 'directory-updated', 'imported'];

type Names = Awaited<ReturnType<typeof namesFor>>;
const text = (value: unknown): string | null => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : null);

/** The id and name of the event's object of that kind. */
function objectOf(kind: ObjectKind, event: StoredEvent, names: Names): { id: string | null; name: string | null } {
  const { details } = event;
  switch (kind) {
    case 'user':
      return { id: event.subject?.id ?? null, name: event.subject?.login ?? null };
    case 'role': {
      const id = text(details.role_id);
      return { id, name: text(details.display_name) ?? (id !== null ? names.roles.get(id) : undefined) ?? (id && `role ${id}`) };
    }
    case 'group': {
      const id = text(details.group_id);
      return { id, name: text(details.login) ?? (id !== null ? names.groups.get(id) : undefined) ?? (id && `group ${id}`) };
    }
    case 'directory': {
      const id = text(details.directory_id);
      return { id, name: text(details.hostname) ?? (id !== null ? names.directories.get(id) : undefined) ?? id };
    }
    case 'signingKey':
      return { id: text(details.kid), name: text(details.kid) };
    case 'disclaimer':
      return { id: OBJECT_KINDS.disclaimer.fixedId, name: 'Disclaimer' };
  }
}

/** A user in a message: `alice (id)`, a login no user has in quotes. */
function userText(party: StoredEvent['actor'], nobody: string): string {
  if (!party || (party.id === null && party.login === null)) return nobody;
  if (party.id === null) return `"${party.login}"`;
  return `${party.login ?? 'a deleted user'} (${party.id})`;
}

function commitOf(event: StoredEvent, names: Names): Commit {
  const entry = ACTIVITY_CATALOGUE[event.type as AuditEventType] as (typeof ACTIVITY_CATALOGUE)[AuditEventType] | undefined;
  // A type no entry names cannot be written (src/audit/'s union and the table are checked against each other);
  // a row from a newer version of the service, read by an older one, is shown by its type alone.
  if (!entry) {
    return {
      objects: [{ ...objectOf('user', event, names), type: OBJECT_KINDS.user.object_type }],
      subject: { id: event.actor?.id ?? null, name: event.actor?.login ?? null },
      timestamp: new Date(event.at),
      address: event.source_address,
      event: { type: 'edit', what: 'unknown', description: event.type.replaceAll('-', '_'), message: `Security event ${event.type}.` },
    };
  }
  const kinds = entry.objectOf ? [(entry.objectOf as (details: unknown) => ObjectKind)(event.details)] : entry.objects;
  const objects = kinds.map((kind) => ({ ...objectOf(kind, event, names), type: OBJECT_KINDS[kind].object_type }));
  const message = (entry.message as (facts: MessageFacts) => string)({
    actor: userText(event.actor, 'the service'),
    subject: userText(event.subject, 'a user'),
    details: event.details as never,
    nameOf: (kind) => objectOf(kind, event, names).name ?? kind,
  });
  return {
    objects,
    subject: { id: event.actor?.id ?? null, name: event.actor?.login ?? null },
    timestamp: new Date(event.at),
    address: event.source_address,
    event: { type: entry.type, what: entry.what, description: descriptionOf(event.type as AuditEventType), message },
  };
}

function commitV1(commit: Commit): ActivityCommitV1 {
  const [object] = commit.objects;
  return { object: { id: object?.id ?? null, name: object?.name ?? null }, subject: commit.subject, timestamp: commit.timestamp.toISOString(), events: [commit.event] };
}

function commitV2(commit: Commit): ActivityCommitV2 {
  return {
    objects: commit.objects,
    subject: { ...commit.subject, type: commit.subject.id === null ? null : 'users' },
    timestamp: commit.timestamp.toISOString(),
    ip_address: commit.address,
    service: { id: RBAC_SERVICE_ID },
    events: [commit.event],
  };
}
