// What the roles tests share: the users suite (a service, its admin, actors
// holding given permissions) plus calls of the role routes and commands, and
// the security events they record.

import assert from 'node:assert/strict';
import type { Config } from '../../src/config/config.js';
import type { DatabaseTarget } from '../kit/databases.js';
import { api, usersSuite, type Permission, type UsersSuite } from '../users/support.js';

export { UNKNOWN_ID, api, type Permission } from '../users/support.js';

export interface RoleJson {
  id: number;
  display_name: string;
  description: string;
  permissions: Permission[];
  user_ids: string[];
  group_ids: string[];
}

export interface EventJson {
  type: string;
  actor: { id: string | null; login: string | null } | null;
  subject: { id: string | null; login: string | null } | null;
  details: Record<string, unknown>;
}

export const ADMINISTRATORS = 1;

type Response = ReturnType<UsersSuite['service']['request']>;

export interface RolesSuite extends UsersSuite {
  permission(objectType: string, action: string, instance?: string): Permission;
  /** POST /command/<path> with a JSON body. */
  command(path: string, token: string, body: unknown): Response;
  putRole(id: number | string, token: string, body: unknown): Response;
  deleteRole(id: number | string, token: string): Response;
  postRole(token: string, body: unknown): Response;
  /** GET /roles/:rid as admin, which must succeed. */
  fetchRole(id: number): Promise<RoleJson>;
  /** The role ids of the user, read from the store. */
  roleIdsOf(userId: string): Promise<number[]>;
  /** Events of these types recorded after `since` (an event id; 0 for all), oldest first. */
  eventsSince(since: number, ...types: string[]): Promise<EventJson[]>;
  /** The id of the newest event, to look for what a request records. */
  lastEventId(): Promise<number>;
}

export function rolesSuite(target: DatabaseTarget, settings: Partial<Config> = {}): RolesSuite {
  const base = usersSuite(target, settings);
  const request = (method: 'POST' | 'PUT' | 'DELETE', url: string, token: string, body?: unknown) =>
    base.service.request({ method, url: api(url), token, ...(body === undefined ? {} : { payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  const suite: RolesSuite = Object.assign(base, {
    permission: (object_type: string, action: string, instance = '*') => ({ object_type, action, instance }),
    command: (path: string, token: string, body: unknown) => request('POST', `/command/${path}`, token, body),
    putRole: (id: number | string, token: string, body: unknown) => request('PUT', `/roles/${id}`, token, body),
    deleteRole: (id: number | string, token: string) => request('DELETE', `/roles/${id}`, token),
    postRole: (token: string, body: unknown) => request('POST', '/roles', token, body),
    async fetchRole(id: number) {
      const response = await base.service.request({ method: 'GET', url: api(`/roles/${id}`), token: base.admin });
      assert.equal(response.statusCode, 200, response.body);
      return response.json() as RoleJson;
    },
    async roleIdsOf(userId: string) {
      const rows = await base.service.store.db.selectFrom('user_roles').select('role_id').where('user_id', '=', userId).orderBy('role_id').execute();
      return rows.map((row) => row.role_id);
    },
    async eventsSince(since: number, ...types: string[]) {
      const rows = await base.service.store.db.selectFrom('audit_events').selectAll().where('id', '>', since).where('type', 'in', types).orderBy('id').execute();
      return rows.map((row) => ({
        type: row.type,
        actor: row.actor_id === null && row.actor_login === null ? null : { id: row.actor_id, login: row.actor_login },
        subject: row.subject_id === null && row.subject_login === null ? null : { id: row.subject_id, login: row.subject_login },
        details: JSON.parse(row.details) as Record<string, unknown>,
      }));
    },
    async lastEventId() {
      const row = await base.service.store.db.selectFrom('audit_events').select('id').orderBy('id', 'desc').executeTakeFirst();
      return Number(row?.id ?? 0);
    },
  });
  return suite;
}
