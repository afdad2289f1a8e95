// Reading a running PE RBAC service (or another instance of this one)
// through PE's own documented routes, into the portable document:
// GET /rbac-api/v1/users, /v1/roles, /v1/groups, /v2/ldap (PE's older
// /v1/ds where there is no v2), /v1/config/disclaimer. Everything is read
// before anything is written: a source that goes away mid-read fails the
// import with nothing changed.

import http from 'node:http';
import https from 'node:https';
import { ServiceError } from '../errors.js';
import { FORMAT_VERSION, type PortableDocument, type PortableGroup, type PortableRole, type PortableUser } from './document.js';
import { normalizedDirectory } from './normalize.js';

export interface PeSource {
  /** The service's base URL, e.g. https://pe.example.com:4433 (a trailing /rbac-api is accepted). */
  url: string;
  /** A token of a user who may read everything (PE's admin, or a superuser). */
  token: string;
  /** PEM CA certificates to trust for an https URL (PE's own CA); the system's otherwise. */
  ca?: string | undefined;
  /** Told what is being read, for a progress line. */
  progress?: (message: string) => void;
}

const TIMEOUT_MS = 60_000;
/** A body larger than this is not an RBAC answer (100,000 users of PE's shape are well below it). */
const MAX_BODY_BYTES = 512 * 1024 * 1024;

/** The base URL without a trailing slash or /rbac-api. */
export function sourceBase(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ServiceError('schema-violation', `--from-pe "${url}" is not a URL (https://host:4433).`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new ServiceError('schema-violation', `--from-pe "${url}" is not an http(s) URL.`);
  parsed.pathname = parsed.pathname.replace(/\/+$/, '').replace(/\/rbac-api$/, '');
  parsed.search = '';
  parsed.hash = '';
  return parsed;
}

interface Answer {
  status: number;
  body: string;
}

/** One GET, its whole body read; a connection that fails or closes early is an error naming the route. */
function get(source: PeSource, path: string): Promise<Answer> {
  const base = sourceBase(source.url);
  const url = new URL(`${base.pathname.replace(/\/+$/, '')}${path}`, base.origin);
  const headers = { accept: 'application/json', 'x-authentication': source.token };
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => reject(new ServiceError('service-unavailable', `Reading ${path} from ${base.origin} failed: ${error.message}. Nothing was imported.`));
    const onResponse = (response: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) response.destroy(new Error('the answer is too large'));
        else chunks.push(chunk);
      });
      response.on('end', () => {
        if (!response.complete) failed(new Error('the connection closed before the answer was complete'));
        else resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      response.on('aborted', () => failed(new Error('the connection closed before the answer was complete')));
      response.on('error', failed);
    };
    const request = url.protocol === 'https:' ? https.request(url, { headers, ...(source.ca ? { ca: source.ca } : {}) }, onResponse) : http.request(url, { headers }, onResponse);
    request.on('error', failed);
    request.setTimeout(TIMEOUT_MS, () => request.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
    request.end();
  });
}

/** The JSON of a 200 answer; any other status is an error with PE's message. */
async function getJson(source: PeSource, path: string): Promise<unknown> {
  const answer = await get(source, path);
  if (answer.status !== 200) throw refused(source, path, answer);
  try {
    return JSON.parse(answer.body) as unknown;
  } catch {
    throw new ServiceError('service-unavailable', `${path} from ${sourceBase(source.url).origin} did not answer JSON. Nothing was imported.`);
  }
}

function refused(source: PeSource, path: string, answer: Answer): ServiceError {
  let message = answer.body.slice(0, 200);
  try {
    message = (JSON.parse(answer.body) as { msg?: string }).msg ?? message;
  } catch {
    // not JSON: its first characters
  }
  const hint = answer.status === 401 || answer.status === 403 ? ' (the token must be one of a superuser, such as admin)' : '';
  return new ServiceError('service-unavailable', `${sourceBase(source.url).origin} answered ${path} with ${answer.status}${hint}: ${message}. Nothing was imported.`);
}

const list = (value: unknown, path: string): Record<string, unknown>[] => {
  if (!Array.isArray(value)) throw new ServiceError('service-unavailable', `${path} did not answer a list. Nothing was imported.`);
  return value as Record<string, unknown>[];
};
const ids = (value: unknown): number[] => (Array.isArray(value) ? value.filter((id): id is number => Number.isInteger(id)) : []);
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** Reads everything, in PE's shapes, into a portable document. */
export async function readFromPe(source: PeSource): Promise<PortableDocument> {
  const progress = source.progress ?? (() => {});
  const origin = sourceBase(source.url);
  progress(`reading users from ${origin.origin}`);
  const users = list(await getJson(source, '/rbac-api/v1/users'), '/rbac-api/v1/users').map(
    (user): PortableUser => ({
      id: text(user.id),
      login: text(user.login),
      email: text(user.email),
      display_name: text(user.display_name),
      role_ids: ids(user.role_ids),
      is_remote: user.is_remote === true,
      is_superuser: user.is_superuser === true,
      is_revoked: user.is_revoked === true,
      last_login: typeof user.last_login === 'string' ? user.last_login : null,
      group_ids: Array.isArray(user.group_ids) ? user.group_ids.filter((id): id is string => typeof id === 'string') : [],
    }),
  );
  progress(`read ${users.length} users; reading roles`);
  const roles = list(await getJson(source, '/rbac-api/v1/roles'), '/rbac-api/v1/roles').map(
    (role): PortableRole => ({
      id: Number(role.id),
      display_name: text(role.display_name),
      description: text(role.description),
      permissions: (Array.isArray(role.permissions) ? (role.permissions as Record<string, unknown>[]) : []).map((permission) => ({
        object_type: text(permission.object_type),
        action: text(permission.action),
        instance: text(permission.instance),
      })),
    }),
  );
  progress(`read ${roles.length} roles; reading groups`);
  const groups = list(await getJson(source, '/rbac-api/v1/groups'), '/rbac-api/v1/groups').map(
    (group): PortableGroup => ({
      id: text(group.id),
      login: text(group.login),
      display_name: text(group.display_name),
      role_ids: ids(group.role_ids),
      identity_provider_id: typeof group.identity_provider_id === 'string' ? group.identity_provider_id : null,
    }),
  );
  progress(`read ${groups.length} groups; reading directory settings and the disclaimer`);
  const directories = (await readDirectories(source)).map((settings) => normalizedDirectory(settings, `the directory settings from ${origin.origin}`));
  const disclaimerAnswer = await get(source, '/rbac-api/v1/config/disclaimer');
  if (disclaimerAnswer.status !== 200 && disclaimerAnswer.status !== 404) throw refused(source, '/rbac-api/v1/config/disclaimer', disclaimerAnswer);
  const disclaimer = disclaimerAnswer.status === 404 ? null : readDisclaimer(disclaimerAnswer.body);
  return { format_version: FORMAT_VERSION, source: origin.origin + origin.pathname, exported_at: new Date().toISOString(), users, roles, groups, directories, disclaimer };
}

/** PE's v2 list of directories; PE releases without it have /v1/ds, one directory or {}. */
async function readDirectories(source: PeSource): Promise<Record<string, unknown>[]> {
  const v2 = await get(source, '/rbac-api/v2/ldap');
  if (v2.status === 200) return list(JSON.parse(v2.body), '/rbac-api/v2/ldap');
  if (v2.status !== 404) throw refused(source, '/rbac-api/v2/ldap', v2);
  const v1 = (await getJson(source, '/rbac-api/v1/ds')) as Record<string, unknown> | null;
  return v1 && typeof v1 === 'object' && Object.keys(v1).length > 0 ? [v1] : [];
}

/** PE answers {"disclaimer": "…"}; older releases the text itself. */
function readDisclaimer(body: string): string | null {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (typeof parsed === 'string') return parsed;
    if (parsed && typeof parsed === 'object' && typeof (parsed as { disclaimer?: unknown }).disclaimer === 'string') return (parsed as { disclaimer: string }).disclaimer;
  } catch {
    // plain text
  }
  return body;
}
