// PE's activity filters, read from a request: v1's query parameters and v2's
// `query` array both become one ActivityFilter. A filter is never ignored: a
// parameter this service cannot apply, a value of the wrong shape, an id
// without its type, is 400 and nothing is listed.

import { ServiceError } from '../errors.js';
import { parseUuid } from '../permissions/user-ids.js';
import { MAX_ACTIVITY_PAGE, MAX_LIST_ITEMS, type ActivityQueryV1, type ActivityQueryV2 } from '../shapes.js';
import { OBJECT_KINDS, kindOfObjectType, type IdShape, type ObjectKind } from './catalogue.js';

/** The service whose events this service records: PE's id for RBAC. */
export const RBAC_SERVICE_ID = 'rbac';
/** PE's only subject type: the users who acted. */
const SUBJECT_TYPE = 'users';
/** At most this many ids in one request, over all its filters (CONTRACT §7). */
const MAX_IDS = MAX_LIST_ITEMS;
/** At most this many filters in a v2 `query` array. */
const MAX_QUERY_FILTERS = 100;

export interface ActivityWindow {
  offset: number;
  limit: number;
  order: 'asc' | 'desc';
}

/**
 * What a request asks for. Each list is one kind of filter: an event matches
 * it when it matches any entry; absent, the kind does not filter. An event is
 * listed when it matches every kind given.
 */
export interface ActivityFilter {
  /** Events of another service than rbac: there are none here. */
  otherService: boolean;
  /** Who acted (PE's subject, always users): any user, or one of these ids. */
  subjects?: { ids?: string[] }[];
  /** What the events are about: any object of the kind, or one of these ids. */
  objects?: { kind: ObjectKind; ids?: string[] }[];
  /** Parts of the source address. */
  addresses?: string[];
  /** Times recorded (epoch ms): after `after`, from `from` to `to`. */
  times?: { after?: number; from?: number; to?: number }[];
  window: ActivityWindow;
}

const refuse = (message: string) => new ServiceError('schema-violation', message);

/** GET /activity-api/v1/events (and events.csv): PE's parameters. */
export function filterFromV1(query: ActivityQueryV1): ActivityFilter {
  const window = windowOf(query);
  const ids = new IdBudget();
  const filter: ActivityFilter = { otherService: query.service_id !== RBAC_SERVICE_ID, window };
  if (query.after_service_commit_time !== undefined) filter.times = [{ after: parseTime(query.after_service_commit_time, 'after_service_commit_time') }];
  // Another service's subjects and objects are its own to judge; none of its events are here.
  if (filter.otherService) return filter;

  const subjectIds = query.subject_id === undefined ? undefined : ids.take(splitList(query.subject_id, 'subject_id'), 'uuid', 'subject_id');
  if (query.subject_type !== undefined) {
    subjectType(query.subject_type);
    filter.subjects = [subjectIds ? { ids: subjectIds } : {}];
  } else if (subjectIds) throw refuse('subject_id needs subject_type (users).');

  if (query.object_type !== undefined) {
    const kind = objectKind(query.object_type);
    const objectIds = query.object_id === undefined ? undefined : ids.take(splitList(query.object_id, 'object_id'), OBJECT_KINDS[kind].idShape, 'object_id');
    filter.objects = [objectIds ? { kind, ids: objectIds } : { kind }];
  } else if (query.object_id !== undefined) throw refuse('object_id needs object_type.');
  return filter;
}

type QueryItem = Record<string, string>;

/** GET /activity-api/v2/events (and events.csv): PE's parameters and its `query` array. */
export function filterFromV2(query: ActivityQueryV2): ActivityFilter {
  const window = windowOf(query);
  const filter: ActivityFilter = { otherService: query.service_id !== undefined && query.service_id !== RBAC_SERVICE_ID, window };
  if (query.query === undefined) return filter;
  const items = parseQueryArray(query.query);
  const ids = new IdBudget();
  for (const [index, item] of items.entries()) {
    const where = `query[${index}]`;
    const keys = Object.keys(item);
    const only = (allowed: readonly string[]) => {
      const stray = keys.filter((key) => !allowed.includes(key));
      if (stray.length > 0) throw refuse(`${where} mixes ${allowed.join('/')} with ${stray.join(', ')}: give each kind of filter an object of its own.`);
    };
    if (keys.includes('subject_id') || keys.includes('subject_type')) {
      only(['subject_id', 'subject_type']);
      if (item.subject_type !== undefined) subjectType(item.subject_type, `${where}.subject_type`);
      if (filter.otherService) continue;
      const subjectIds = item.subject_id === undefined ? undefined : ids.take([item.subject_id], 'uuid', `${where}.subject_id`);
      (filter.subjects ??= []).push(subjectIds ? { ids: subjectIds } : {});
    } else if (keys.includes('object_type') || keys.includes('object_id')) {
      only(['object_type', 'object_id']);
      if (item.object_type === undefined) throw refuse(`${where}: object_id needs object_type.`);
      if (filter.otherService) continue;
      const kind = objectKind(item.object_type, `${where}.object_type`);
      const objectIds = item.object_id === undefined ? undefined : ids.take([item.object_id], OBJECT_KINDS[kind].idShape, `${where}.object_id`);
      (filter.objects ??= []).push(objectIds ? { kind, ids: objectIds } : { kind });
    } else if (keys.includes('ip_address')) {
      only(['ip_address']);
      const part = (item.ip_address ?? '').trim();
      if (part === '' || part.length > 64) throw refuse(`${where}.ip_address must be part of an address (1 to 64 characters).`);
      (filter.addresses ??= []).push(part);
    } else if (keys.includes('start') || keys.includes('end')) {
      only(['start', 'end']);
      if (item.start === undefined || item.end === undefined) throw refuse(`${where}: start and end go together.`);
      const from = parseTime(item.start, `${where}.start`);
      const to = parseTime(item.end, `${where}.end`);
      if (from > to) throw refuse(`${where}: start is after end.`);
      (filter.times ??= []).push({ from, to });
    } else {
      throw refuse(`${where} is not a filter: use subject_id, subject_type, object_type, object_id, ip_address, or start and end.`);
    }
  }
  return filter;
}

/** The v2 `query` parameter: a JSON array of objects whose values are strings (or whole numbers, for ids). */
function parseQueryArray(text: string): QueryItem[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw refuse('query is not JSON: it must be a JSON array of filter objects.');
  }
  if (!Array.isArray(parsed)) throw refuse('query must be a JSON array of filter objects.');
  if (parsed.length > MAX_QUERY_FILTERS) throw refuse(`query holds at most ${MAX_QUERY_FILTERS} filters.`);
  return parsed.map((item: unknown, index) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item) || Object.keys(item).length === 0) throw refuse(`query[${index}] must be an object with a filter.`);
    return Object.fromEntries(
      Object.entries(item).map(([key, value]) => {
        if (typeof value === 'string') return [key, value];
        if (Number.isSafeInteger(value)) return [key, String(value)];
        throw refuse(`query[${index}].${key} must be a string.`);
      }),
    ) as QueryItem;
  });
}

function windowOf(query: { offset?: string | undefined; limit?: string | undefined; order?: string | undefined }): ActivityWindow {
  const limit = query.limit === undefined ? MAX_ACTIVITY_PAGE : Number(query.limit);
  if (limit < 1) throw refuse('limit must be a positive number.');
  const order = query.order ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw refuse('order must be asc or desc.');
  return { offset: Number(query.offset ?? 0), limit: Math.min(limit, MAX_ACTIVITY_PAGE), order };
}

function subjectType(value: string, name = 'subject_type'): void {
  if (value !== SUBJECT_TYPE) throw refuse(`${name} must be ${SUBJECT_TYPE}: only users act on this service.`);
}

function objectKind(value: string, name = 'object_type'): ObjectKind {
  const kind = kindOfObjectType(value);
  if (!kind) throw refuse(`${name} must be one of ${Object.values(OBJECT_KINDS).map((definition) => definition.object_type).join(', ')}: the objects RBAC's events are about.`);
  return kind;
}

/** v1's lists: comma-separated, or the parameter repeated (the vendor's client repeats it). */
function splitList(value: string | string[], name: string): string[] {
  const parts = (Array.isArray(value) ? value : [value]).flatMap((part) => part.split(',')).map((part) => part.trim());
  if (parts.some((part) => part === '')) throw refuse(`${name} has an empty entry.`);
  return parts;
}

const ROLE_ID = /^[1-9][0-9]{0,9}$/;
const KEY_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Counts the ids a request names (at most MAX_IDS) and checks each has its type's shape. */
class IdBudget {
  private named = 0;

  take(values: readonly string[], shape: IdShape, name: string): string[] {
    this.named += values.length;
    if (this.named > MAX_IDS) throw refuse(`A request names at most ${MAX_IDS} ids.`);
    return values.map((value) => idOfShape(value, shape, name));
  }
}

function idOfShape(value: string, shape: IdShape, name: string): string {
  switch (shape) {
    case 'uuid':
      return parseUuid(value, name);
    case 'role-id':
      if (!ROLE_ID.test(value) || Number(value) > 2_147_483_647) throw refuse(`${name} must hold role ids (whole numbers).`);
      return value;
    case 'key-id':
      if (!KEY_ID.test(value)) throw refuse(`${name} must hold signing key ids (see rbac keys list).`);
      return value;
    case 'fixed':
      if (value.length > 64) throw refuse(`${name} is too long.`);
      return value;
  }
}

// ISO-8601: a date, or a date and time with optional seconds, fraction and offset.
const ISO_TIME = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** Epoch ms of an ISO-8601 time; a time without an offset is UTC (PE's examples all are). */
function parseTime(text: string, name: string): number {
  const match = ISO_TIME.exec(text.trim());
  const at = match ? Date.parse(`${match[1]}T${match[2] ?? '00:00'}${normalizedOffset(match[3])}`) : Number.NaN;
  if (Number.isNaN(at)) throw refuse(`${name} must be an ISO-8601 time, such as 2026-12-02T09:30:00Z.`);
  return at;
}

const normalizedOffset = (offset: string | undefined) => {
  if (offset === undefined || offset.toUpperCase() === 'Z') return 'Z';
  return offset.includes(':') ? offset : `${offset.slice(0, 3)}:${offset.slice(3)}`;
};
