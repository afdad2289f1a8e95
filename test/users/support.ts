// What the users tests share: one service per suite with its admin, and
// helpers to make roles and users holding given permissions.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { Config } from '../../src/config/config.js';
import type { DatabaseTarget } from '../kit/databases.js';
import { USER_PASSWORD, startTestService, type TestService } from '../kit/service.js';

export interface UserJson {
  id: string;
  login: string;
  email: string;
  display_name: string;
  role_ids: number[];
  is_group: boolean;
  is_remote: boolean;
  is_superuser: boolean;
  is_revoked: boolean;
  last_login: string | null;
}

export interface Permission {
  object_type: string;
  action: string;
  instance: string;
}


// PE's keys, and the account state beyond PE (CONTRACT §15).
const USER_KEYS = ['display_name', 'email', 'group_ids', 'id', 'inherited_role_ids', 'is_group', 'is_remote', 'is_revoked', 'is_superuser', 'last_login', 'login', 'role_ids', 'failed_attempts', 'locked_at', 'lockout_lifts_at', 'password_change_required', 'revoked_by'].sort();

/** The account state (beyond PE) of a user nothing happened to. */
export const UNTOUCHED_STATE = { failed_attempts: 0, locked_at: null, lockout_lifts_at: null, revoked_by: null, password_change_required: false } as const;

/** Words no user JSON may hold (password_change_required is a flag, not a password). */
export const SECRET_WORDS = /password(?!_change_required)|hash|argon/i;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

export const api = (path: string) => `/rbac-api/v1${path}`;

/** The user JSON has exactly the PE fields, with the right types, and nothing secret. */
export function assertUserShape(user: UserJson): void {
  assert.deepEqual(Object.keys(user).sort(), USER_KEYS);
  assert.match(user.id, UUID);
  assert.equal(typeof user.login, 'string');
  assert.equal(typeof user.email, 'string');
  assert.equal(typeof user.display_name, 'string');
  assert.ok(Array.isArray(user.role_ids) && user.role_ids.every((id) => Number.isInteger(id)));
  assert.equal(user.is_group, false);
  assert.equal(typeof user.is_remote, 'boolean');
  assert.equal(typeof user.is_superuser, 'boolean');
  assert.equal(typeof user.is_revoked, 'boolean');
  assert.ok(user.last_login === null || /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(user.last_login), `last_login ${user.last_login}`);
}

export interface UsersSuite {
  /** Set before the suite's first test. */
  service: TestService;
  /** The bootstrap admin's login token. */
  admin: string;
  adminId: string;
  /** A role holding these permissions, created by admin; returns its id. */
  createRole(permissions: Permission[]): Promise<number>;
  users(action: string, instance?: string): Permission;
  /** A local non-superuser holding the given permissions through a role, logged in (its password: the suite's). */
  actorWith(login: string, permissions: Permission[]): Promise<{ id: string; token: string }>;
  getUser(id: string, token: string): ReturnType<TestService['request']>;
  putUser(id: string, token: string, payload: unknown): ReturnType<TestService['request']>;
  userRow(id: string): ReturnType<typeof userRowOf>;
  fetchUser(id: string): Promise<UserJson>;
  userCount(): Promise<number>;
}

const userRowOf = (service: TestService, id: string) => service.store.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

/**
 * Starts a service for the enclosing suite (closed after it), with these
 * settings, and gives its admin and helpers; `password` is the one actorWith
 * gives its users (it must meet the settings' rules).
 */
export function usersSuite(target: DatabaseTarget, settings: Partial<Config> = {}, password = USER_PASSWORD): UsersSuite {
  let roleCounter = 0;
  const suite: UsersSuite = {
    service: undefined as unknown as TestService,
    admin: '',
    adminId: '',
    async createRole(permissions) {
      const response = await suite.service.request({
        method: 'POST',
        url: api('/roles'),
        token: suite.admin,
        payload: { display_name: `users-test role ${++roleCounter}`, permissions },
      });
      assert.equal(response.statusCode, 201, response.body);
      return (response.json() as { id: number }).id;
    },
    users: (action, instance = '*') => ({ object_type: 'users', action, instance }),
    async actorWith(login, permissions) {
      const role_ids = permissions.length > 0 ? [await suite.createRole(permissions)] : [];
      const id = await suite.service.createUser(login, { role_ids, password });
      return { id, token: await suite.service.login(login, password) };
    },
    getUser: (id, token) => suite.service.request({ method: 'GET', url: api(`/users/${id}`), token }),
    putUser: (id, token, payload) => suite.service.request({ method: 'PUT', url: api(`/users/${id}`), token, payload: payload as Record<string, unknown> }),
    userRow: (id) => userRowOf(suite.service, id),
    async fetchUser(id) {
      const response = await suite.getUser(id, suite.admin);
      assert.equal(response.statusCode, 200, response.body);
      return response.json() as UserJson;
    },
    userCount: async () => (await suite.service.store.db.selectFrom('users').select('id').execute()).length,
  };
  before(async () => {
    suite.service = await startTestService(target.dialect, settings);
    suite.admin = await suite.service.adminToken();
    suite.adminId = ((await suite.service.request({ method: 'GET', url: api('/users/current'), token: suite.admin })).json() as UserJson).id;
  });
  after(() => suite.service?.close());
  return suite;
}
