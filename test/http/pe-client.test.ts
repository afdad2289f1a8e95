// The vendor's Ruby client (puppetlabs/pe_client.rb 0.3.0, its RBACV1,
// RBACV2, ActivityV1 and ActivityV2 resources) against this service: every method it has, called the way
// it calls it, answered as PE documents. The client below mimics its
// conventions, read from its source (lib/pe_client/client.rb, Faraday with the
// json request and response middleware), not copied:
//   - every request: X-Authentication when it has a key, User-Agent
//     "PEClient/<version> Ruby/<version>", Net::HTTP's Accept: */* and
//     Accept-Encoding; query parameters flat-encoded (Faraday's
//     FlatParamsEncoder: an array is the parameter repeated);
//   - a body (a Hash) is JSON with Content-Type: application/json; a POST or
//     PUT without one sends {}; a DELETE sends a body only when the method has
//     one (v2 tokens' revoke lists), and no body otherwise;
//   - the answer is parsed as JSON only when its media type ends in "json";
//     204 is {}, 303 is {location}, 2xx is the body, anything else raises.
// Its LDAP and group methods run against a real directory (test/kit/slapd.ts);
// its SAML methods, which this service does not have, get a clear 404 not-found.

import assert from 'node:assert/strict';
import { before, after, describe, test } from 'node:test';
import { describeEachDatabase } from '../kit/databases.js';
import { ADMIN_PASSWORD, USER_PASSWORD, startServiceWithAdmin, type TestService } from '../kit/service.js';
import { DIRECTORY_USERS, directorySettingsFor, startSlapd, type Slapd } from '../kit/slapd.js';

let slapd: Slapd;
before(async () => {
  slapd = await startSlapd();
});
after(() => slapd?.stop());

const VENDOR_VERSION = '0.3.0';
const HEADERS = {
  'user-agent': `PEClient/${VENDOR_VERSION} Ruby/3.3.6`,
  accept: '*/*',
  'accept-encoding': 'gzip;q=1.0,deflate;q=0.6,identity;q=0.3',
};
const V1 = '/rbac-api/v1';
const V2 = '/rbac-api/v2';
const NO_USER = '00000000-0000-4000-8000-000000000000';

/** What the vendor's client raises for a status outside 2xx and 303 (BadRequestError, ForbiddenError, NotFoundError, …). */
class PEClientError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`${status} ${typeof body === 'string' ? body : JSON.stringify(body)}`);
  }
}

type Params = Record<string, string | number | boolean | undefined | null | readonly string[]>;
type Json = Record<string, unknown>;

/** Ruby's Hash#compact: nil values left out (JSON.stringify would keep null). */
const compact = (hash: Json): Json => Object.fromEntries(Object.entries(hash).filter(([, value]) => value !== undefined && value !== null));

/** The vendor's PEClient::Client: get, post, put, delete and handle_response. */
function peClient(service: TestService, apiKey?: string) {
  const call = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, params: Params, body?: unknown): Promise<unknown> => {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value === undefined || value === null) continue;
      for (const one of Array.isArray(value) ? value : [value]) query.append(key, String(one));
    }
    const headers: Record<string, string> = { ...HEADERS };
    if (apiKey !== undefined) headers['x-authentication'] = apiKey;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await service.request({
      method,
      url: query.size > 0 ? `${path}?${query}` : path,
      headers,
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
    // Faraday's json response middleware: the media type (before ";") must end in "json"; an empty body parses to nil.
    const mediaType = String(response.headers['content-type'] ?? '').split(';')[0]!.trim();
    const parsed = /\bjson$/.test(mediaType) ? (response.body.trim() === '' ? null : JSON.parse(response.body)) : response.body;
    if (response.statusCode === 204) return {};
    if (response.statusCode >= 200 && response.statusCode < 300) return parsed;
    if (response.statusCode === 303) return { location: response.headers.location };
    throw new PEClientError(response.statusCode, parsed);
  };
  return {
    get: (path: string, params: Params = {}) => call('GET', path, params),
    post: (path: string, body: unknown = {}, params: Params = {}) => call('POST', path, params, body),
    put: (path: string, body: unknown = {}, params: Params = {}) => call('PUT', path, params, body),
    delete: (path: string, body?: unknown, params: Params = {}) => call('DELETE', path, params, body),
  };
}
type Client = ReturnType<typeof peClient>;

/** Every vendor method driven, by its Ruby name: the last test checks none was left out. */
const called = new Set<string>();
const vendor =
  <A extends unknown[]>(name: string, method: (...args: A) => Promise<unknown>) =>
  (...args: A) => (called.add(name), method(...args));

/** client.rbac_v1 and client.rbac_v2, method by method as lib/pe_client/resources/rbac.v{1,2}/*.rb call them. */
function rbac(c: Client) {
  const v1 = {
    users: {
      get: vendor('v1.users.get', (sid?: string) => c.get(sid ? `${V1}/users/${sid}` : `${V1}/users`)),
      current: vendor('v1.users.current', () => c.get(`${V1}/users/current`)),
      tokens: vendor('v1.users.tokens', (sid: string, page: { limit?: number; offset?: number; order_by?: string; order?: string } = {}) => c.get(`${V1}/users/${sid}/tokens`, page)),
      // role_ids defaults to [], password to nil — and the body always has both keys.
      create: vendor('v1.users.create', (user: { email: string; display_name: string; login: string; role_ids?: number[]; password?: string | null }) =>
        c.post(`${V1}/users`, { email: user.email, display_name: user.display_name, login: user.login, role_ids: user.role_ids ?? [], password: user.password ?? null }),
      ),
      edit: vendor('v1.users.edit', (sid: string, attributes: Json) => c.put(`${V1}/users/${sid}`, attributes)),
      delete: vendor('v1.users.delete', (sid: string) => c.delete(`${V1}/users/${sid}`)),
      add_roles: vendor('v1.users.add_roles', (user_id: string, role_ids: number[]) => c.post(`${V1}/command/users/add-roles`, { user_id, role_ids })),
      remove_roles: vendor('v1.users.remove_roles', (user_id: string, role_ids: number[]) => c.post(`${V1}/command/users/remove-roles`, { user_id, role_ids })),
      revoke: vendor('v1.users.revoke', (user_id: string) => c.post(`${V1}/command/users/revoke`, { user_id })),
      reinstate: vendor('v1.users.reinstate', (user_id: string) => c.post(`${V1}/command/users/reinstate`, { user_id })),
    },
    groups: {
      get: vendor('v1.groups.get', (sid?: string) => c.get(sid ? `${V1}/groups/${sid}` : `${V1}/groups`)),
      create: vendor('v1.groups.create', (group: { login: string; role_ids: number[]; identity_provider_id: string; display_name?: string }) =>
        c.post(`${V1}/command/groups/create`, compact(group)),
      ),
      edit: vendor('v1.groups.edit', (sid: string, attributes: Json) => c.put(`${V1}/groups/${sid}`, attributes)),
      delete: vendor('v1.groups.delete', (sid: string) => c.delete(`${V1}/groups/${sid}`)),
      create_deprecated: vendor('v1.groups.create_deprecated', (login: string, role_ids: number[]) => c.post(`${V1}/groups`, { login, role_ids })),
    },
    roles: {
      get: vendor('v1.roles.get', (rid?: number) => c.get(rid ? `${V1}/roles/${rid}` : `${V1}/roles`)),
      // permissions, group_ids, user_ids and display_name are required keywords; description is compacted away when nil.
      create: vendor('v1.roles.create', (role: { permissions: Json[]; group_ids: string[]; user_ids: string[]; display_name: string; description?: string }) =>
        c.post(`${V1}/roles`, compact(role)),
      ),
      edit: vendor('v1.roles.edit', (rid: number, attributes: Json) => c.put(`${V1}/roles/${rid}`, attributes)),
      delete: vendor('v1.roles.delete', (rid: number) => c.delete(`${V1}/roles/${rid}`)),
      add_users: vendor('v1.roles.add_users', (role_id: number, user_ids: string[]) => c.post(`${V1}/command/roles/add-users`, { role_id, user_ids })),
      remove_users: vendor('v1.roles.remove_users', (role_id: number, user_ids: string[]) => c.post(`${V1}/command/roles/remove-users`, { role_id, user_ids })),
      add_groups: vendor('v1.roles.add_groups', (role_id: number, group_ids: string[]) => c.post(`${V1}/command/roles/add-groups`, { role_id, group_ids })),
      remove_groups: vendor('v1.roles.remove_groups', (role_id: number, group_ids: string[]) => c.post(`${V1}/command/roles/remove-groups`, { role_id, group_ids })),
      add_permissions: vendor('v1.roles.add_permissions', (role_id: number, permissions: Json[]) => c.post(`${V1}/command/roles/add-permissions`, { role_id, permissions })),
      remove_permissions: vendor('v1.roles.remove_permissions', (role_id: number, permissions: Json[]) =>
        c.post(`${V1}/command/roles/remove-permissions`, { role_id, permissions }),
      ),
    },
    permissions: {
      // The vendor's client asks for /types at the root of the host, not under /rbac-api/v1 (its own spec stubs that URL).
      types: vendor('v1.permissions.types', () => c.get('/types')),
      permitted: vendor('v1.permissions.permitted', (token: string, permissions: Json[]) => c.post(`${V1}/permitted`, { token, permissions })),
      instances: vendor('v1.permissions.instances', (object_type: string, action: string) => c.get(`${V1}/permitted/${object_type}/${action}`)),
      user_instances: vendor('v1.permissions.user_instances', (object_type: string, action: string, uuid: string) => c.get(`${V1}/permitted/${object_type}/${action}/${uuid}`)),
    },
    tokens: {
      generate: vendor('v1.tokens.generate', (body: { login: string; password: string; lifetime?: string; label?: string }) => c.post(`${V1}/auth/token`, compact(body))),
      create: vendor('v1.tokens.create', (lifetime: string | null, description: string | null, client: string | null = `PEClient/${VENDOR_VERSION}`) =>
        c.post(`${V1}/tokens`, compact({ lifetime, description, client })),
      ),
    },
    ldap: {
      create: vendor('v1.ldap.create', (attributes: Json) => c.post(`${V1}/command/ldap/create`, attributes)),
      update: vendor('v1.ldap.update', (attributes: Json) => c.post(`${V1}/command/ldap/update`, attributes)),
      delete: vendor('v1.ldap.delete', (id: string) => c.post(`${V1}/command/ldap/delete`, { id })),
      test: vendor('v1.ldap.test', (attributes: Json) => c.post(`${V1}/command/ldap/test`, attributes)),
      ds_test: vendor('v1.ldap.ds_test', (attributes?: Json) => (attributes === undefined ? c.get(`${V1}/ds/test`) : c.put(`${V1}/ds/test`, attributes))),
      ds: vendor('v1.ldap.ds', (attributes: Json) => c.put(`${V1}/ds`, attributes)),
    },
    saml: {
      configure: vendor('v1.saml.configure', (attributes: Json) => c.put(`${V1}/saml`, attributes)),
      get: vendor('v1.saml.get', () => c.get(`${V1}/saml`)),
      delete: vendor('v1.saml.delete', () => c.delete(`${V1}/saml`)),
      meta: vendor('v1.saml.meta', () => c.get(`${V1}/saml/meta`)),
    },
    passwords: {
      // A POST without a body: the client sends {}.
      generate_reset_token: vendor('v1.passwords.generate_reset_token', (uuid: string) => c.post(`${V1}/users/${uuid}/password/reset`)),
      reset: vendor('v1.passwords.reset', (token: string, password: string) => c.post(`${V1}/auth/reset`, { token, password })),
      change: vendor('v1.passwords.change', (current_password: string, password: string) => c.put(`${V1}/users/current/password`, { current_password, password })),
      validate_password: vendor('v1.passwords.validate_password', (password: string, reset_token?: string) =>
        c.post(`${V1}/command/validate-password`, compact({ password, reset_token })),
      ),
      validate_login: vendor('v1.passwords.validate_login', (login: string) => c.post(`${V1}/command/validate-login`, { login })),
    },
    disclaimer: {
      get: vendor('v1.disclaimer.get', () => c.get(`${V1}/config/disclaimer`)),
      set: vendor('v1.disclaimer.set', (disclaimer: string) => c.post(`${V1}/command/config/set-disclaimer`, { disclaimer })),
      remove: vendor('v1.disclaimer.remove', () => c.post(`${V1}/command/config/remove-disclaimer`)),
    },
  };
  const v2 = {
    users: {
      get: vendor('v2.users.get', (page: { offset?: number; limit?: number; order?: string; order_by?: string; filter?: string; include_roles?: boolean } = {}) => c.get(`${V2}/users`, page)),
    },
    groups: {
      create: vendor('v2.groups.create', (group: { login: string; role_ids: number[]; display_name?: string; identity_provider_id?: string; validate?: boolean }) =>
        c.post(`${V2}/groups`, compact(group)),
      ),
    },
    tokens: {
      // With token: DELETE /v2/tokens/<token>, no body. Otherwise the non-empty lists as a JSON body ({} when all are empty).
      delete: vendor('v2.tokens.delete', (options: { token?: string; revoke_tokens?: string[]; revoke_tokens_by_usernames?: string[]; revoke_tokens_by_labels?: string[]; revoke_tokens_by_ids?: string[] }) => {
        const { token, ...lists } = options;
        if (token) return c.delete(`${V2}/tokens/${token}`);
        return c.delete(`${V2}/tokens`, Object.fromEntries(Object.entries(lists).filter(([, names]) => names.length > 0)));
      }),
      authenticate: vendor('v2.tokens.authenticate', (token: string, update_last_activity = false) =>
        c.post(`${V2}/auth/token/authenticate`, { token, 'update_last_activity?': update_last_activity }),
      ),
    },
    ldap: {
      get: vendor('v2.ldap.get', (uuid?: string) => c.get(uuid ? `${V2}/ldap/${uuid}` : `${V2}/ldap`)),
      ds: vendor('v2.ldap.ds', () => c.get(`${V2}/ds`)),
    },
  };
  return { v1, v2 };
}

/**
 * client.activity_v1 and client.activity_v2, as lib/pe_client/resources/activity.v{1,2}.rb
 * call them: GET with the keyword arguments as parameters, nil ones left out
 * (Hash#compact), subject_id and object_id as arrays; v2's query array as JSON.
 */
function activity(c: Client) {
  type V1Args = { service_id: string; subject_type?: string; subject_id?: string[]; object_type?: string; object_id?: string[]; offset?: number; order?: string; limit?: number; after_service_commit_time?: string };
  type V2Args = { service_id?: string; offset?: number; order?: string; limit?: number; query?: Record<string, string>[] };
  return {
    v1: { events: vendor('activity_v1.events', (args: V1Args) => c.get('/activity-api/v1/events', args)) },
    v2: { events: vendor('activity_v2.events', ({ query, ...args }: V2Args = {}) => c.get('/activity-api/v2/events', { ...args, query: query && JSON.stringify(query) })) },
  };
}

/** Every public method of the vendor's RBACV1, RBACV2, ActivityV1 and ActivityV2 resources (0.3.0). */
const VENDOR_METHODS = [
  ...['get', 'current', 'tokens', 'create', 'edit', 'delete', 'add_roles', 'remove_roles', 'revoke', 'reinstate'].map((m) => `v1.users.${m}`),
  ...['get', 'create', 'edit', 'delete', 'create_deprecated'].map((m) => `v1.groups.${m}`),
  ...['get', 'create', 'edit', 'delete', 'add_users', 'remove_users', 'add_groups', 'remove_groups', 'add_permissions', 'remove_permissions'].map((m) => `v1.roles.${m}`),
  ...['types', 'permitted', 'instances', 'user_instances'].map((m) => `v1.permissions.${m}`),
  ...['generate', 'create'].map((m) => `v1.tokens.${m}`),
  ...['create', 'update', 'delete', 'test', 'ds_test', 'ds'].map((m) => `v1.ldap.${m}`),
  ...['configure', 'get', 'delete', 'meta'].map((m) => `v1.saml.${m}`),
  ...['generate_reset_token', 'reset', 'change', 'validate_password', 'validate_login'].map((m) => `v1.passwords.${m}`),
  ...['get', 'set', 'remove'].map((m) => `v1.disclaimer.${m}`),
  'v2.users.get',
  'v2.groups.create',
  ...['delete', 'authenticate'].map((m) => `v2.tokens.${m}`),
  ...['get', 'ds'].map((m) => `v2.ldap.${m}`),
  'activity_v1.events',
  'activity_v2.events',
];

/** The call raised what the vendor's client raises for `status`, with the service's error body of `kind`. */
async function rejects(call: Promise<unknown>, status: number, kind: string): Promise<void> {
  await assert.rejects(call, (error: unknown) => {
    assert.ok(error instanceof PEClientError, String(error));
    assert.equal(error.status, status, error.message);
    assert.equal((error.body as { kind?: unknown }).kind, kind, error.message);
    return true;
  });
}

interface User {
  id: string;
  login: string;
  email: string;
  display_name: string;
  role_ids: number[];
  is_revoked: boolean;
  is_superuser: boolean;
}
interface Role {
  id: number;
  display_name: string;
  description: string;
  permissions: Json[];
  user_ids: string[];
  group_ids: string[];
}

// PE's keys, and the read-only lockout-state keys this service adds (CONTRACT §15), which PE's client passes through.
const USER_KEYS = [
  'display_name',
  'email',
  'failed_attempts',
  'group_ids',
  'id',
  'inherited_role_ids',
  'is_group',
  'is_remote',
  'is_revoked',
  'is_superuser',
  'last_login',
  'locked_at',
  'lockout_lifts_at',
  'login',
  'password_change_required',
  'revoked_by',
  'role_ids',
];
const assertUser = (value: unknown): User => {
  assert.deepEqual(Object.keys(value as Json).sort(), USER_KEYS);
  return value as User;
};
const tokenOf = (value: unknown): string => {
  assert.deepEqual(Object.keys(value as Json), ['token']);
  const { token } = value as { token: string };
  assert.ok(token.length > 20);
  return token;
};
const users = (action: string, instance = '*') => ({ object_type: 'users', action, instance });

describeEachDatabase("the vendor's Ruby client (pe_client.rb)", (target) => {
  let service: TestService;
  let admin: { v1: ReturnType<typeof rbac>['v1']; v2: ReturnType<typeof rbac>['v2'] };
  let anonymous: ReturnType<typeof rbac>;
  let adminId: string;
  before(async () => {
    called.clear();
    const started = await startServiceWithAdmin(target.dialect);
    service = started.service;
    admin = rbac(peClient(service, started.admin));
    anonymous = rbac(peClient(service));
    adminId = assertUser(await admin.v1.users.current()).id;
  });
  after(() => service?.close());

  describe('users', () => {
    test('create (password null, role_ids []), get, get(sid), edit with the object as GET gave it, delete', async () => {
      const created = assertUser(await admin.v1.users.create({ email: 'kalo@example.com', display_name: 'Kalo Hill', login: 'kalo' }));
      assert.deepEqual([created.login, created.role_ids, created.is_revoked], ['kalo', [], false]);

      const listed = (await admin.v1.users.get()) as User[];
      assert.ok(Array.isArray(listed));
      assert.deepEqual(listed.map((user) => user.login).sort(), ['admin', 'api_user', 'kalo'], "PE's api_user is listed as PE lists it");
      const one = assertUser(await admin.v1.users.get(created.id));
      const edited = assertUser(await admin.v1.users.edit(created.id, { ...one, display_name: 'Kalo H.' }));
      assert.equal(edited.display_name, 'Kalo H.');

      // A user created without a password cannot log in.
      await rejects(anonymous.v1.tokens.generate({ login: 'kalo', password: USER_PASSWORD }), 401, 'user-unauthenticated');

      assert.deepEqual(await admin.v1.users.delete(created.id), {});
      await rejects(admin.v1.users.get(created.id), 404, 'not-found');
    });

    test('current, and the commands add_roles, remove_roles, revoke, reinstate answer {} (204)', async () => {
      const me = assertUser(await admin.v1.users.current());
      assert.deepEqual([me.login, me.is_superuser], ['admin', true]);

      const jean = assertUser(await admin.v1.users.create({ email: 'jean@example.com', display_name: 'Jean', login: 'jean', password: USER_PASSWORD }));
      assert.deepEqual(await admin.v1.users.add_roles(jean.id, [1]), {});
      assert.deepEqual(assertUser(await admin.v1.users.get(jean.id)).role_ids, [1]);
      assert.deepEqual(await admin.v1.users.remove_roles(jean.id, [1]), {});
      assert.deepEqual(assertUser(await admin.v1.users.get(jean.id)).role_ids, []);

      assert.deepEqual(await admin.v1.users.revoke(jean.id), {});
      await rejects(anonymous.v1.tokens.generate({ login: 'jean', password: USER_PASSWORD }), 401, 'user-revoked');
      assert.deepEqual(await admin.v1.users.reinstate(jean.id), {});
      tokenOf(await anonymous.v1.tokens.generate({ login: 'jean', password: USER_PASSWORD }));

      // Genuinely bad commands stay refused.
      await rejects(admin.v1.users.revoke('not-a-uuid'), 400, 'invalid-uuid');
      await rejects(admin.v1.users.add_roles(jean.id, [999]), 400, 'schema-violation');
    });

    test('v2 users.get: a page, its query as the client spells it (include_roles=true)', async () => {
      const page = (await admin.v2.users.get({ offset: 0, limit: 50, order: 'desc', order_by: 'login', filter: 'adm', include_roles: true })) as {
        users: User[];
        pagination: Json;
      };
      assert.deepEqual(
        page.users.map((user) => [user.login, user.role_ids]),
        [['admin', [1]]],
      );
      assert.deepEqual(page.pagination, { offset: 0, limit: 50, order: 'desc', order_by: 'login', filter: 'adm', total: 1 });
      const all = (await admin.v2.users.get()) as { users: User[]; pagination: { total: number } };
      assert.equal(all.users.length, all.pagination.total);
    });
  });

  describe('roles and permissions', () => {
    test('create (group_ids [], no description), get, get(rid), edit with the object as GET gave it, delete', async () => {
      const role = (await admin.v1.roles.create({ permissions: [users('reset_password')], group_ids: [], user_ids: [], display_name: 'Helpdesk' })) as Role;
      assert.deepEqual(Object.keys(role).sort(), ['description', 'display_name', 'group_ids', 'id', 'permissions', 'user_ids']);
      assert.deepEqual([role.display_name, role.permissions, role.group_ids], ['Helpdesk', [users('reset_password')], []]);

      const roles = (await admin.v1.roles.get()) as Role[];
      assert.deepEqual(roles.map((listed) => listed.display_name), ['Administrators', 'Operators', 'Viewers', 'Code Deployers', 'Project Deployers', 'Helpdesk']);
      const one = (await admin.v1.roles.get(role.id)) as Role;
      const edited = (await admin.v1.roles.edit(role.id, { ...one, description: 'Resets passwords' })) as Role;
      assert.equal(edited.description, 'Resets passwords');

      assert.deepEqual(await admin.v1.roles.delete(role.id), {});
      await rejects(admin.v1.roles.get(role.id), 404, 'not-found');
      await rejects(admin.v1.roles.delete(1), 403, 'default-roles-immutable');
    });

    test('the role commands answer {} (204): users, groups (none yet), permissions', async () => {
      const role = (await admin.v1.roles.create({ permissions: [], group_ids: [], user_ids: [], display_name: 'Night shift', description: 'ops' })) as Role;
      const ana = assertUser(await admin.v1.users.create({ email: 'ana@example.com', display_name: 'Ana', login: 'ana', password: USER_PASSWORD }));

      assert.deepEqual(await admin.v1.roles.add_users(role.id, [ana.id]), {});
      assert.deepEqual(((await admin.v1.roles.get(role.id)) as Role).user_ids, [ana.id]);
      assert.deepEqual(await admin.v1.roles.remove_users(role.id, [ana.id]), {});
      assert.deepEqual(((await admin.v1.roles.get(role.id)) as Role).user_ids, []);

      assert.deepEqual(await admin.v1.roles.add_permissions(role.id, [users('edit')]), {});
      assert.deepEqual(((await admin.v1.roles.get(role.id)) as Role).permissions, [users('edit')]);
      assert.deepEqual(await admin.v1.roles.remove_permissions(role.id, [users('edit')]), {});
      assert.deepEqual(((await admin.v1.roles.get(role.id)) as Role).permissions, []);

      assert.deepEqual(await admin.v1.roles.add_groups(role.id, []), {});
      assert.deepEqual(await admin.v1.roles.remove_groups(role.id, []), {});
      await rejects(admin.v1.roles.add_groups(role.id, [NO_USER]), 400, 'schema-violation');
    });

    test('types (the client asks for /types), permitted, instances, user_instances', async () => {
      const types = (await admin.v1.permissions.types()) as { object_type: string; actions: { name: string }[] }[];
      assert.deepEqual(
        types.map((type) => type.object_type),
        ['users', 'user_roles', 'user_groups', 'directory_service', 'configuration', 'tokens', 'cert_requests', 'console_page', 'orchestrator', 'node_groups', 'nodes', 'plans', 'puppet_agent', 'environment', 'puppetserver', 'tasks'],
      );
      assert.deepEqual(types[0]?.actions.map((action) => action.name), ['create', 'edit', 'disable', 'reset_password']);
      await rejects(anonymous.v1.permissions.types(), 401, 'user-unauthenticated');

      assert.deepEqual(await admin.v1.permissions.permitted(adminId, [users('edit'), { object_type: 'nodes', action: 'view', instance: '*' }]), [true, false]);
      assert.deepEqual(await admin.v1.permissions.instances('users', 'edit'), ['*']);
      const bo = assertUser(await admin.v1.users.create({ email: 'bo@example.com', display_name: 'Bo', login: 'bo', password: USER_PASSWORD }));
      assert.deepEqual(await admin.v1.permissions.user_instances('users', 'edit', bo.id), []);
      assert.deepEqual(await admin.v1.permissions.user_instances('users', 'edit', adminId), ['*']);
    });
  });

  describe('tokens', () => {
    test('generate (login), create (one more for the caller), the user\'s tokens, introspection, revocation by name and by token', async () => {
      const cy = assertUser(await admin.v1.users.create({ email: 'cy@example.com', display_name: 'Cy', login: 'cy', password: USER_PASSWORD }));
      const login = tokenOf(await anonymous.v1.tokens.generate({ login: 'cy', password: USER_PASSWORD, lifetime: '4h', label: 'laptop' }));
      const cyClient = rbac(peClient(service, login));
      const more = tokenOf(await cyClient.v1.tokens.create('1h', 'ci pipeline'));
      tokenOf(await cyClient.v1.tokens.create(null, null, null));

      const list = (await cyClient.v1.users.tokens(cy.id, { limit: 10, offset: 0, order_by: 'creation_date', order: 'desc' })) as {
        items: { label: string | null; description: string | null; client: string | null }[];
        pagination: Json;
      };
      assert.equal(list.items.length, 3);
      assert.deepEqual(list.items.map((item) => item.client).sort(), [`PEClient/${VENDOR_VERSION}`, null, null]);
      assert.deepEqual(list.pagination, { limit: 10, offset: 0, order_by: 'creation_date', order: 'desc', total: 3 });

      // The vendor's client sends its own key as X-Authentication here too; the route needs none.
      const facts = (await cyClient.v2.tokens.authenticate(more)) as Json;
      assert.deepEqual([facts.login, facts.user_id, facts.description, facts.client], ['cy', cy.id, 'ci pipeline', `PEClient/${VENDOR_VERSION}`]);
      assert.equal(((await anonymous.v2.tokens.authenticate(login, true)) as Json).label, 'laptop');

      // Revoke by name: the lists as a JSON body on a DELETE.
      assert.deepEqual(await admin.v2.tokens.delete({ revoke_tokens: [more] }), {});
      await rejects(anonymous.v2.tokens.authenticate(more), 403, 'token-revoked');
      assert.deepEqual(await admin.v2.tokens.delete({ token: login }), {});
      await rejects(cyClient.v1.users.current(), 401, 'user-unauthenticated');
      tokenOf(await anonymous.v1.tokens.generate({ login: 'cy', password: USER_PASSWORD }));
      assert.deepEqual(await admin.v2.tokens.delete({ revoke_tokens_by_usernames: ['cy'] }), {});
      assert.equal(((await admin.v1.users.tokens(cy.id)) as { items: unknown[] }).items.length, 0);

      // Naming nothing ({} as the body) is PE's 400, and revokes nothing.
      await rejects(admin.v2.tokens.delete({}), 400, 'schema-violation');
      await rejects(anonymous.v2.tokens.authenticate('not a token'), 400, 'invalid-token');
    });
  });

  describe('passwords', () => {
    test('generate_reset_token ({} as its body) gives the token as text; reset; change; validate_password; validate_login', async () => {
      const dee = assertUser(await admin.v1.users.create({ email: 'dee@example.com', display_name: 'Dee', login: 'dee', password: USER_PASSWORD }));
      const reset = await admin.v1.passwords.generate_reset_token(dee.id);
      assert.equal(typeof reset, 'string', 'text/plain is not parsed');
      assert.ok((reset as string).length > 20);

      const check = (await anonymous.v1.passwords.validate_password('lantern harbor morning tide', reset as string)) as Json;
      assert.deepEqual(check, { valid: true });
      const weak = (await admin.v1.passwords.validate_password('short')) as { valid: boolean; failures: { 'rule-identifier': string }[] };
      assert.equal(weak.valid, false);
      assert.ok(weak.failures.some((failure) => failure['rule-identifier'] === 'password-minimum-length'));

      // 200 with an empty body: the client gets the empty body back.
      assert.ok(['', null].includes((await anonymous.v1.passwords.reset(reset as string, 'lantern harbor morning tide')) as string | null));
      await rejects(anonymous.v1.passwords.reset(reset as string, 'another long passphrase'), 403, 'invalid-token');

      const deeClient = rbac(peClient(service, tokenOf(await anonymous.v1.tokens.generate({ login: 'dee', password: 'lantern harbor morning tide' }))));
      assert.ok(['', null].includes((await deeClient.v1.passwords.change('lantern harbor morning tide', 'quiet river stone garden')) as string | null));
      await rejects(deeClient.v1.passwords.change('wrong current password', 'amber meadow winter light'), 403, 'permission-denied');
      tokenOf(await anonymous.v1.tokens.generate({ login: 'dee', password: 'quiet river stone garden' }));

      assert.deepEqual(await admin.v1.passwords.validate_login('a-new-login'), { valid: true });
      assert.equal(((await admin.v1.passwords.validate_login('dee')) as Json).valid, false);
    });
  });

  describe('disclaimer', () => {
    test('get (404 while unset), set, get, remove ({} as its body)', async () => {
      await rejects(admin.v1.disclaimer.get(), 404, 'not-found');
      assert.deepEqual(await admin.v1.disclaimer.set('Authorized use only.'), {});
      assert.deepEqual(await admin.v1.disclaimer.get(), { disclaimer: 'Authorized use only.' });
      assert.deepEqual(await admin.v1.disclaimer.remove(), {});
      await rejects(admin.v1.disclaimer.get(), 404, 'not-found');
    });
  });

  describe('LDAP and groups, against a real directory', () => {
    // Over LDAPS with the test CA, nested groups on.
    const settings = () => directorySettingsFor(slapd, { display_name: 'Example LDAP', port: slapd.tlsPort, ssl: true, start_tls: undefined, cert_chain: slapd.caPem, search_nested_groups: true });
    let directoryId: string;

    test('ldap: test, create, update, get, ds; ds_test with and without settings; the bind password in no answer', async () => {
      const { v1, v2 } = admin;
      assert.equal(typeof ((await v1.ldap.test(settings())) as { elapsed: number }).elapsed, 'number');
      const created = (await v1.ldap.create(settings())) as Json & { id: string };
      directoryId = created.id;
      assert.equal(created.password, undefined);
      const updated = (await v1.ldap.update({ ...settings(), id: directoryId, display_name: 'Example directory' })) as Json;
      assert.equal(updated.display_name, 'Example directory');
      assert.deepEqual(await v2.ldap.get(), [updated]);
      assert.deepEqual(await v2.ldap.get(directoryId), updated);
      assert.deepEqual(await v2.ldap.ds(), [updated]);
      assert.equal(typeof ((await v1.ldap.ds_test()) as { elapsed: number }).elapsed, 'number');
      assert.equal(typeof ((await v1.ldap.ds_test(settings())) as { elapsed: number }).elapsed, 'number');
      const replaced = (await v1.ldap.ds({ ...settings(), display_name: 'Example LDAP' })) as Json;
      assert.equal(replaced.id, directoryId);
      for (const answer of [created, updated, replaced]) assert.doesNotMatch(JSON.stringify(answer), new RegExp(slapd.readerPassword));
    });

    test('groups: create, create_deprecated, v2 create with validate, get, edit (roles only), roles add_groups/remove_groups, delete; a member inherits the role at login', async () => {
      const { v1, v2 } = admin;
      const role = (await v1.roles.create({ permissions: [], group_ids: [], user_ids: [], display_name: 'Directory developers' })) as Role;
      const developers = (await v1.groups.create({ login: 'developers', role_ids: [role.id], identity_provider_id: directoryId })) as Json & { id: string };
      assert.deepEqual([developers.login, developers.role_ids, developers.is_group], ['developers', [role.id], true]);
      const operators = (await v1.groups.create_deprecated('operators', [])) as Json & { id: string };
      // 303 See Other: the vendor's client answers {location}, which GET follows.
      const seeOther = (await v2.groups.create({ login: 'leads', role_ids: [], validate: true })) as { location: string };
      assert.deepEqual(Object.keys(seeOther), ['location']);
      assert.match(seeOther.location, /^\/rbac-api\/v1\/groups\/[0-9a-f-]{36}$/);
      const leads = (await v1.groups.get(seeOther.location.split('/').pop())) as Json & { id: string };
      assert.equal(leads.display_name, 'Team Leads');
      assert.deepEqual(await v1.groups.get(developers.id), developers);
      assert.deepEqual(((await v1.groups.get()) as { id: string }[]).map((group) => group.id).sort(), [developers.id, leads.id, operators.id].sort());

      const alice = rbac(peClient(service));
      const token = tokenOf(await alice.v1.tokens.generate({ login: DIRECTORY_USERS.alice.login, password: DIRECTORY_USERS.alice.password }));
      const current = assertUser(await rbac(peClient(service, token)).v1.users.current()) as User & { inherited_role_ids: number[]; is_remote: boolean };
      assert.deepEqual([current.is_remote, current.inherited_role_ids], [true, [role.id]]);

      const edited = (await v1.groups.edit(operators.id, { ...operators, role_ids: [role.id] })) as Json;
      assert.deepEqual(edited.role_ids, [role.id]);
      assert.deepEqual(await v1.roles.remove_groups(role.id, [operators.id]), {});
      assert.deepEqual(await v1.roles.add_groups(role.id, [leads.id]), {});
      assert.deepEqual(((await v1.roles.get(role.id)) as Role).group_ids.sort(), [developers.id, leads.id].sort());
      for (const group of [developers, operators, leads]) assert.deepEqual(await v1.groups.delete(group.id), {});
      await rejects(v1.groups.get(developers.id), 404, 'not-found');
      assert.deepEqual(await v1.ldap.delete(directoryId), {});
      assert.deepEqual(await v2.ldap.get(), []);
    });
  });

  describe('activity', () => {
    test('activity_v1.events with every filter as the client sends it (ids as arrays), activity_v2.events with its query array; a user reads their own events', async () => {
      const lee = assertUser(await admin.v1.users.create({ email: 'lee@example.com', display_name: 'Lee', login: 'activity-lee', password: USER_PASSWORD }));
      const leeClient = peClient(service, tokenOf(await anonymous.v1.tokens.generate({ login: 'activity-lee', password: USER_PASSWORD })));
      await admin.v1.users.edit(lee.id, { ...lee, email: 'lee@example.org' });
      const adminActivity = activity(peClient(service, (await service.adminToken())));

      type Page = { commits: { object: { id: string }; subject: { id: string | null; name: string | null }; timestamp: string; events: { description: string; message: string }[] }[]; offset: number; limit: number; 'total-rows': number };
      const aboutLee = (await adminActivity.v1.events({ service_id: 'rbac', object_type: 'users', object_id: [lee.id] })) as Page;
      assert.deepEqual(aboutLee.commits.map((commit) => commit.events[0]?.description), ['user_edited', 'login_succeeded', 'user_created']);
      assert.equal(aboutLee['total-rows'], 3);

      const filtered = (await adminActivity.v1.events({
        service_id: 'rbac',
        subject_type: 'users',
        subject_id: [adminId],
        object_type: 'users',
        object_id: [lee.id, NO_USER],
        offset: 1,
        order: 'asc',
        limit: 1,
        after_service_commit_time: '2000-01-01T00:00:00Z',
      })) as Page;
      assert.deepEqual([filtered.offset, filtered.limit, filtered['total-rows']], [1, 1, 2]);
      assert.equal(filtered.commits[0]?.events[0]?.description, 'user_edited');
      assert.deepEqual(filtered.commits[0]?.subject, { id: adminId, name: 'admin' });

      const v2 = (await adminActivity.v2.events({
        service_id: 'rbac',
        offset: 0,
        order: 'desc',
        limit: 100,
        query: [{ subject_type: 'users', subject_id: lee.id }, { object_type: 'users', object_id: lee.id }, { ip_address: '127.0.0.1' }, { start: '2000-01-01T00:00:00Z', end: '2999-12-31T23:59:59Z' }],
      })) as { commits: { events: { description: string }[] }[]; pagination: { total: number; limit: number; offset: number } };
      assert.deepEqual(v2.commits.map((commit) => commit.events[0]?.description), ['login_succeeded']);
      assert.deepEqual(v2.pagination, { total: 1, limit: 100, offset: 0 });
      assert.ok(((await adminActivity.v2.events()) as { pagination: { total: number } }).pagination.total > 3, 'no arguments: every event');

      // Lee reads the events about Lee, and no others.
      const own = (await activity(leeClient).v1.events({ service_id: 'rbac' })) as Page;
      assert.ok(own['total-rows'] === 3 && own.commits.every((commit) => commit.object.id === lee.id));
      // A filter the service cannot apply raises, as the client raises for a 400.
      await rejects(adminActivity.v1.events({ service_id: 'rbac', subject_id: [lee.id] }), 400, 'schema-violation');
      await rejects(activity(peClient(service)).v1.events({ service_id: 'rbac' }), 401, 'user-unauthenticated');
    });
  });

  describe('what the service does not have: SAML', () => {
    test('every SAML method gets 404 not-found (docs/decisions.md)', async () => {
      const { v1 } = admin;
      const refused: [string, () => Promise<unknown>][] = [
        ['v1.saml.configure', () => v1.saml.configure({ idp_entity_id: 'https://idp.example.com' })],
        ['v1.saml.get', () => v1.saml.get()],
        ['v1.saml.delete', () => v1.saml.delete()],
        ['v1.saml.meta', () => v1.saml.meta()],
      ];
      for (const [name, call] of refused) {
        await assert.rejects(call(), (error: unknown) => {
          assert.ok(error instanceof PEClientError, `${name}: ${String(error)}`);
          assert.equal(error.status, 404, `${name}: ${error.message}`);
          assert.equal((error.body as { kind?: unknown }).kind, 'not-found', name);
          return true;
        });
      }
    });
  });

  test("every method of the vendor's RBAC and activity resources was driven", () => {
    assert.equal(VENDOR_METHODS.length, 57);
    assert.deepEqual(VENDOR_METHODS.filter((name) => !called.has(name)), []);
    assert.deepEqual([...called].filter((name) => !VENDOR_METHODS.includes(name)), []);
  });
});

// ADMIN_PASSWORD: the admin logs in through the vendor's generate as well.
describeEachDatabase("the vendor's Ruby client logs in", (target) => {
  let service: TestService;
  before(async () => {
    ({ service } = await startServiceWithAdmin(target.dialect));
  });
  after(() => service?.close());

  test('generate with a key already set (a client reused after its token expired) still logs in', async () => {
    const stale = rbac(peClient(service, 'expired-or-unknown-token'));
    const token = tokenOf(await stale.v1.tokens.generate({ login: 'admin', password: ADMIN_PASSWORD }));
    assert.equal(((await rbac(peClient(service, token)).v1.users.current()) as User).login, 'admin');
  });
});
