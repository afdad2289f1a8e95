// No client input gets a 5xx: property-based requests against
// every JSON route (bodies, headers, path parameters), junk in every path
// parameter of every route the app registers (on SQLite and PostgreSQL), and
// hand-made raw socket cases against a real listening service.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { defaultConfig } from '../../src/config/config.js';
import { ERROR_STATUS } from '../../src/errors.js';
import { createLogger } from '../../src/http/logging.js';
import { startService, type RunningService } from '../../src/server.js';
import { describeEachDatabase, freshWorkspace, type Workspace } from '../kit/databases.js';
import { ADMIN_PASSWORD, USER_PASSWORD, startTestService, type TestService } from '../kit/service.js';
import { registeredRoutes } from './support.js';

const RUNS = 1200;

const ROUTES: { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; path: string; keys: string[] }[] = [
  { method: 'POST', path: '/rbac-api/v1/auth/token', keys: ['login', 'password', 'lifetime', 'label', 'description', 'client'] },
  { method: 'POST', path: '/rbac-api/v1/auth/reset', keys: ['token', 'password'] },
  { method: 'POST', path: '/rbac-api/v1/command/validate-password', keys: ['password', 'reset_token', 'reset-token'] },
  { method: 'PUT', path: '/rbac-api/v1/users/current/password', keys: ['current_password', 'password'] },
  { method: 'POST', path: '/rbac-api/v1/users', keys: ['login', 'email', 'display_name', 'role_ids', 'password', 'is_remote', 'is_group'] },
  { method: 'GET', path: '/rbac-api/v1/users/:sid', keys: [] },
  { method: 'PUT', path: '/rbac-api/v1/users/:sid', keys: ['id', 'login', 'email', 'display_name', 'role_ids', 'is_revoked', 'last_login'] },
  { method: 'DELETE', path: '/rbac-api/v1/users/:sid', keys: [] },
  { method: 'POST', path: '/rbac-api/v1/users/:sid/password/reset', keys: [] },
  { method: 'POST', path: '/rbac-api/v1/roles', keys: ['display_name', 'description', 'permissions', 'user_ids', 'group_ids'] },
  { method: 'GET', path: '/rbac-api/v1/roles/:rid', keys: [] },
  { method: 'PUT', path: '/rbac-api/v1/roles/:rid', keys: ['id', 'display_name', 'description', 'permissions', 'user_ids', 'group_ids'] },
  { method: 'DELETE', path: '/rbac-api/v1/roles/:rid', keys: [] },
  { method: 'POST', path: '/rbac-api/v1/command/roles/add-users', keys: ['role_id', 'user_ids'] },
  { method: 'POST', path: '/rbac-api/v1/command/roles/add-permissions', keys: ['role_id', 'permissions'] },
  { method: 'POST', path: '/rbac-api/v1/command/roles/add-groups', keys: ['role_id', 'group_ids'] },
  { method: 'POST', path: '/rbac-api/v1/command/users/add-roles', keys: ['user_id', 'role_ids'] },
  { method: 'POST', path: '/rbac-api/v1/permitted', keys: ['token', 'permissions'] },
  { method: 'GET', path: '/rbac-api/v1/permitted/users/:rid', keys: [] },
  { method: 'GET', path: '/rbac-api/v1/permitted/users/edit/:sid', keys: [] },
  { method: 'GET', path: '/rbac-api/v1/events', keys: [] },
  { method: 'DELETE', path: '/rbac-api/v1/tokens/current', keys: [] },
  { method: 'POST', path: '/rbac-api/v1/tokens', keys: ['lifetime', 'label', 'description', 'client'] },
  { method: 'GET', path: '/rbac-api/v1/users/:sid/tokens', keys: [] },
  { method: 'POST', path: '/rbac-api/v2/auth/token/authenticate', keys: ['token', 'update_last_activity?'] },
];

const KINDS = new Set(Object.keys(ERROR_STATUS));

describe('property-based requests to every JSON route', () => {
  let service: TestService;
  let admin: string;
  let existingUser: string;
  before(async () => {
    // A high lockout: generated wrong current_password values must not lock admin out mid-run.
    service = await startTestService('sqlite', { failedAttemptsLockout: 1_000_000 });
    admin = await service.adminToken();
    existingUser = await service.createUser('fuzz-target');
  });
  after(() => service?.close());

  test(`${RUNS} generated requests: no 5xx, every error in the contract's shape`, async () => {
    const anyValue = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 3 }));
    const body = (keys: string[]) =>
      fc.oneof(
        // The right keys with values of any type, some missing, sometimes an extra one.
        fc.record(Object.fromEntries(keys.map((key) => [key, anyValue])), { requiredKeys: [] }).chain((record) =>
          fc.oneof(fc.constant(JSON.stringify(record)), fc.tuple(fc.string({ maxLength: 8 }), anyValue).map(([key, value]) => JSON.stringify({ ...record, [key]: value }))),
        ),
        fc.json({ maxDepth: 4 }),
        fc.string({ maxLength: 200 }),
        fc.constant(''),
        fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
      );
    const pathParam = fc.oneof(fc.uuid(), fc.constant(existingUser), fc.string({ maxLength: 40 }), fc.integer().map(String), fc.constant('current'));
    const header = fc.oneof(fc.constant(undefined), fc.string({ maxLength: 60 }), fc.constantFrom('application/json', 'text/plain', '*/*', 'text/html', 'application/json; charset=latin1', 'multipart/form-data; boundary=x'));
    const request = fc.record({
      route: fc.constantFrom(...ROUTES),
      body: fc.constant(null),
      sid: pathParam,
      contentType: header,
      accept: header,
      auth: fc.constantFrom('admin', 'admin', 'none', 'junk'),
    }).chain((base) => body(base.route.keys).map((generatedBody) => ({ ...base, body: generatedBody })));

    let count = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async ({ route, body: payload, sid, contentType, accept, auth }) => {
        count++;
        const url = route.path.replace(':sid', encodeURIComponent(sid)).replace(':rid', encodeURIComponent(sid));
        const headers: Record<string, string> = {};
        // Header values must be valid HTTP header text; fast-check strings may not be.
        const safe = (value: string | undefined) => (value === undefined ? undefined : value.replace(/[^\t\x20-\x7e]/g, ''));
        if (safe(contentType) !== undefined) headers['content-type'] = safe(contentType) as string;
        if (safe(accept) !== undefined) headers.accept = safe(accept) as string;
        // Logging out gets a token of its own, so the shared admin token keeps working.
        if (auth === 'admin') headers['x-authentication'] = route.path.endsWith('/tokens/current') ? await service.login('admin', ADMIN_PASSWORD) : admin;
        if (auth === 'junk') headers['x-authentication'] = 'junk-token-value-0123456789';
        const response = await service.app.inject({
          method: route.method,
          url,
          headers,
          ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { payload }),
        });
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        assert.ok(response.statusCode < 500, `${route.method} ${url} → ${response.statusCode} ${response.body}`);
        if (response.statusCode >= 400 && String(response.headers['content-type']).startsWith('application/json')) {
          const error = response.json() as { kind: unknown; msg: unknown };
          assert.ok(typeof error.kind === 'string' && KINDS.has(error.kind), response.body);
          // The one kind with two statuses: PE's introspection answers invalid-token with 400, reset tokens get 403.
          const introspection = route.path.endsWith('/auth/token/authenticate') && error.kind === 'invalid-token';
          assert.equal(introspection ? 400 : ERROR_STATUS[error.kind as keyof typeof ERROR_STATUS], response.statusCode, response.body);
          assert.equal(typeof error.msg, 'string');
        }
      }),
      { numRuns: RUNS },
    );
    assert.equal(count, RUNS);
    // The generator reached past validation too, not only the 400s.
    for (const status of [200, 400, 401, 404]) assert.ok((statuses.get(status) ?? 0) > 0, `no ${status} among ${JSON.stringify([...statuses])}`);
    // Still healthy, and admin can still log in (the generated DELETE /tokens/current may have revoked the old token).
    assert.equal((await service.request({ method: 'GET', url: '/status/v1/simple' })).body, 'running');
    const fresh = await service.login('admin', ADMIN_PASSWORD);
    assert.equal((await service.request({ method: 'GET', url: '/rbac-api/v1/users/current', token: fresh })).statusCode, 200);
  });
});

/**
 * Path segments as a client can send them (already percent-encoded): a NUL,
 * over-long (at Fastify's maxParamLength and past it), not a UUID, not an
 * integer or too large for the column, and percent-encoded junk (invalid
 * UTF-8, a lone surrogate, an encoded slash, control characters).
 */
const JUNK_SEGMENTS = [
  '%00',
  'a%00b',
  `${'5e7f1c2a-8b4d-4f6e-9a1b-2c3d4e5f6a7b'}%00`,
  '%00'.repeat(33),
  'x'.repeat(100),
  'x'.repeat(101),
  '9'.repeat(100),
  '%41'.repeat(100),
  'not-a-uuid',
  '5e7f1c2a-8b4d-4f6e-9a1b-2c3d4e5f6a7b0',
  '5E7F1C2A-8B4D-4F6E-9A1B-2C3D4E5F6A7B',
  '5e7f1c2a8b4d4f6e9a1b2c3d4e5f6a7b',
  'current',
  '..',
  '0',
  '-1',
  '1.5',
  '1e3',
  '0x10',
  '2147483648',
  '999999999',
  '99999999999999999999',
  '%201',
  '%',
  '%zz',
  '%ff',
  '%c3%28',
  '%ed%a0%80',
  '%ef%bf%bf',
  '%f0%9f%92%a9',
  '%e2%80%ae',
  '%2f',
  '%5c',
  '%25',
  '%0a',
  '%0d%0a',
  '%22%27%3c%3e',
  // A login token's shape, where an id belongs.
  'Q2hhbmdlIHRoaXMgdG9rZW4gaXMgbm90IHJlYWwgYXQgYWxsIQ',
];

describeEachDatabase('junk in every path parameter of every registered route', (target) => {
  let service: TestService;
  let adminId: string;
  let document: { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { example?: unknown; schema?: { examples?: unknown[] } }> } }>> };
  const tokens: Record<'admin' | 'user', string> = { admin: '', user: '' };
  before(async () => {
    service = await startTestService(target.dialect);
    tokens.admin = await service.adminToken();
    adminId = (await service.request({ method: 'GET', url: '/rbac-api/v1/users/current', token: tokens.admin })).json<{ id: string }>().id;
    await service.createUser('path-fuzz-user');
    tokens.user = await service.login('path-fuzz-user', USER_PASSWORD);
    document = (await service.request({ method: 'GET', url: '/rbac-api/v1/openapi.json' })).json();
  });
  after(() => service?.close());

  test('NUL, over-long, non-UUID, non-integer and percent-encoded junk in any path parameter: no 5xx, every error in the contract\'s shape', async () => {
    const routes = registeredRoutes(service.app).filter((route) => route.params.length > 0);
    assert.ok(routes.some((route) => route.path === '/rbac-api/v2/ldap/:id'), 'the route list was read from the app');
    // A harmless real value for the parameters not under test (a GET of admin's own permissions).
    const plausible: Record<string, string> = { object_type: 'users', action: 'edit', uuid: adminId, sid: adminId };
    // The example body of the route's document entry, so that a POST or PUT reaches the handler with its junk parameter.
    const bodyOf = (method: string, path: string) => {
      const media = document.paths[path.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()]?.requestBody?.content['application/json'];
      return media?.example ?? media?.schema?.examples?.[0];
    };
    const failures: string[] = [];
    let sent = 0;
    for (const route of routes) {
      const body = bodyOf(route.method, route.path);
      for (const param of route.params) {
        for (const junk of JUNK_SEGMENTS) {
          const url = route.path.replace(/:(\w+)|\*/g, (whole, name: string | undefined) => ((name ?? '*') === param ? junk : (plausible[name ?? ''] ?? 'x')));
          for (const caller of ['admin', 'user'] as const) {
            sent++;
            const response = await service.app.inject({
              method: route.method as 'GET',
              url,
              headers: { 'x-authentication': tokens[caller] },
              ...(body === undefined ? {} : { payload: body as object }),
            });
            const where = `${route.method} ${url} as ${caller}`;
            if (response.statusCode >= 500) failures.push(`${where} → ${response.statusCode} ${response.body}`);
            else if (response.statusCode >= 400 && route.method !== 'HEAD') {
              const error = response.json<{ kind: string; msg: unknown }>();
              if (!KINDS.has(error.kind) || ERROR_STATUS[error.kind as keyof typeof ERROR_STATUS] !== response.statusCode || typeof error.msg !== 'string') {
                failures.push(`${where} → ${response.statusCode} ${response.body}`);
              }
            }
          }
        }
      }
    }
    assert.deepEqual(failures, [], `${failures.length} of ${sent} requests`);
    // The junk changed nothing: both callers still work, and the service still answers.
    assert.equal((await service.request({ method: 'GET', url: '/status/v1/simple' })).body, 'running');
    for (const token of Object.values(tokens)) assert.equal((await service.request({ method: 'GET', url: '/rbac-api/v1/users/current', token })).statusCode, 200);
  });
});

/** Sends raw bytes and returns the status code of the first response line (0 when the connection closed without one). */
function raw(port: number, bytes: Buffer | string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(statusOf(received));
    }, 3000);
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (/\r\n\r\n/.test(received)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(statusOf(received));
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? resolve(statusOf(received)) : reject(error)));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(statusOf(received));
    });
    socket.write(bytes);
  });
}

function statusOf(response: string): number {
  const match = /^HTTP\/1\.1 (\d{3})/.exec(response);
  return match ? Number(match[1]) : 0;
}

describe('raw-socket requests to a listening service', () => {
  let workspace: Workspace;
  let service: RunningService;
  let port: number;
  before(async () => {
    workspace = await freshWorkspace('sqlite');
    // No metrics listener: test files run in parallel, and its default port is fixed.
    service = await startService(defaultConfig({ dataDir: workspace.dataDir, insecureHttp: true, port: 0, metricsPort: 0 }), {
      adminPassword: ADMIN_PASSWORD,
      logger: createLogger('silent'),
    });
    port = Number(new URL(service.url).port);
  });
  after(async () => {
    await service?.close();
    await workspace?.cleanup();
  });

  const post = (body: Buffer | string, headers: Record<string, string | number> = {}) => {
    const bodyBytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
    const lines = [
      'POST /rbac-api/v1/auth/token HTTP/1.1',
      'Host: localhost',
      'Connection: close',
      ...Object.entries({ 'Content-Type': 'application/json', 'Content-Length': bodyBytes.length, ...headers }).map(([key, value]) => `${key}: ${value}`),
    ];
    return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), bodyBytes]);
  };

  const cases: [string, () => Buffer | string][] = [
    ['truncated body (Content-Length larger than the body)', () => post('{"login": "admin"', { 'Content-Length': 100 })],
    ['Content-Length smaller than the body', () => post('{"login": "admin", "password": "x"}', { 'Content-Length': 5 })],
    ['Content-Length not a number', () => post('{}', { 'Content-Length': 'abc' })],
    ['invalid UTF-8', () => post(Buffer.from([0x7b, 0x22, 0x6c, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]))],
    ['NUL bytes', () => post('{"login": "ad\u0000min", "password": "\u0000"}')],
    ['deep JSON nesting', () => post(`${'['.repeat(50000)}${']'.repeat(50000)}`)],
    ['2 MB body', () => post(JSON.stringify({ login: 'admin', password: 'x'.repeat(2 * 1024 * 1024) }))],
    ['huge header', () => post('{}', { 'X-Filler': 'a'.repeat(64 * 1024) })],
    ['wrong content type (XML)', () => post('<login>admin</login>', { 'Content-Type': 'application/xml' })],
    ['multipart body', () => post('--x\r\nContent-Disposition: form-data; name="login"\r\n\r\nadmin\r\n--x--', { 'Content-Type': 'multipart/form-data; boundary=x' })],
    ['chunked body with a bad chunk size', () => 'POST /rbac-api/v1/auth/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n'],
    ['garbage request line', () => 'HELLO WORLD\r\n\r\n'],
    ['no Host, HTTP/1.0', () => 'GET /status/v1/simple HTTP/1.0\r\n\r\n'],
  ];

  for (const [name, make] of cases) {
    test(`${name}: no 5xx`, async () => {
      const status = await raw(port, make());
      assert.ok(status < 500, `got ${status}`);
      const alive = await fetch(`${service.url}/status/v1/simple`);
      assert.equal(await alive.text(), 'running', 'the service still answers');
    });
  }
});
