// Issue 8: the OpenAPI 3.1 document is generated from the route schemas and
// served at /rbac-api/v1/openapi.json; the reference page at /rbac-api/v1/docs
// is rendered from it by the service itself (no script, nothing loaded from
// elsewhere). Every registered route is in the document except the hidden
// ones (the reset page and its assets, and the document and page
// themselves), and every response status documented for the password and
// auth endpoints is produced by a real request here — on SQLite and
// PostgreSQL.

import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { UNDECLARED_RESPONSES } from '../../src/http/openapi.js';
import { SERVICE_VERSION } from '../../src/version.js';
import { describeEachDatabase } from '../kit/databases.js';
import { ADMIN_PASSWORD, USER_PASSWORD, startTestService, type TestService } from '../kit/service.js';

interface Operation {
  parameters?: { name: string; in: string }[];
  responses: Record<string, { description: string }>;
}
interface OpenApi {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
}

/** Routes the document must not contain. */
const HIDDEN = new Set(['GET /auth/reset', 'GET /auth/reset/app.js', 'GET /auth/reset/style.css', 'GET /rbac-api/v1/openapi.json', 'GET /rbac-api/v1/docs']);

/** `METHOD /path/{param}` for every route Fastify has, read from printRoutes (independent of @fastify/swagger). */
function registeredRoutes(app: FastifyInstance): Set<string> {
  const routes = new Set<string>();
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:│ {3}| {4})*)(?:├── |└── )(\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4;
    const path = `${depth === 0 ? '' : stack[depth - 1]}${match[2]}`;
    stack[depth] = path;
    stack.length = depth + 1;
    for (const method of (match[3] ?? '').split(',').map((text) => text.trim()).filter(Boolean)) {
      routes.add(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
    }
  }
  return routes;
}

function documentedOperations(document: OpenApi): Set<string> {
  const operations = new Set<string>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of Object.keys(item)) operations.add(`${method.toUpperCase()} ${path}`);
  }
  return operations;
}

/** The password and auth endpoints, as `METHOD /template`. */
const isPasswordOrAuth = (operation: string) => /\/(auth|tokens)(\/|$)|password/.test(operation.split(' ')[1] ?? '');

describeEachDatabase('OpenAPI document and reference page', (target) => {
  let service: TestService;
  let document: OpenApi;

  before(async () => {
    service = await startTestService(target.dialect);
    const response = await service.request({ method: 'GET', url: '/rbac-api/v1/openapi.json' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    document = response.json() as OpenApi;
  });
  after(() => service?.close());

  test('is OpenAPI 3.1 with the package version, and holds every registered route except the hidden ones', () => {
    assert.equal(document.openapi, '3.1.0');
    assert.equal(document.info.version, SERVICE_VERSION);

    const routes = registeredRoutes(service.app);
    assert.ok(routes.has('POST /rbac-api/v1/auth/token'), 'the route list was read');
    const documented = documentedOperations(document);
    for (const route of routes) {
      if (route.startsWith('HEAD ')) {
        // Fastify adds HEAD to every GET; the document describes the GET.
        assert.ok(routes.has(route.replace(/^HEAD/, 'GET')), `${route} comes with a GET`);
        continue;
      }
      if (HIDDEN.has(route)) assert.ok(!documented.has(route), `${route} is hidden (schema.hide) and stays out of the document`);
      else assert.ok(documented.has(route), `${route} is registered but missing from the document`);
    }
    for (const hidden of HIDDEN) assert.ok(routes.has(hidden), `${hidden} is a registered route`);
    for (const operation of documented) assert.ok(routes.has(operation), `${operation} is documented but not registered`);
    assert.ok(
      [...documented].some((operation) => operation === 'GET /status/v1/services'),
      'the status service is documented',
    );
  });

  test('every operation has declared responses with real descriptions, and its path parameters', () => {
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const name = `${method.toUpperCase()} ${path}`;
        assert.ok(Object.keys(operation.responses).length > 0, `${name} has responses`);
        for (const [status, response] of Object.entries(operation.responses)) {
          assert.notEqual(response.description, 'Default Response', `${name} ${status} has a real description`);
          if (status === 'default') assert.equal(response.description, UNDECLARED_RESPONSES);
        }
        for (const parameter of path.match(/\{(\w+)\}/g) ?? []) {
          const parameterName = parameter.slice(1, -1);
          assert.ok(
            operation.parameters?.some((declared) => declared.in === 'path' && declared.name === parameterName),
            `${name} declares its path parameter ${parameterName}`,
          );
        }
      }
    }
    // The login body comes from the TypeBox schema, not from prose.
    const login = document.paths['/rbac-api/v1/auth/token']?.post as unknown as {
      requestBody: { content: Record<string, { schema: { required: string[]; additionalProperties: boolean } }> };
    };
    assert.deepEqual(login.requestBody.content['application/json']?.schema.required, ['login', 'password']);
    assert.equal(login.requestBody.content['application/json']?.schema.additionalProperties, false);
  });

  test('the reference page lists every operation, runs no script and loads nothing from elsewhere', async () => {
    const response = await service.request({ method: 'GET', url: '/rbac-api/v1/docs' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/html/);
    const csp = String(response.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.doesNotMatch(csp, /script-src|unsafe-inline/);
    const html = response.body;
    for (const operation of documentedOperations(document)) {
      const [method, path] = operation.split(' ') as [string, string];
      assert.ok(html.includes(`<span class="method">${method}</span> ${path.replace(/&/g, '&#38;')}`), `${operation} is on the page`);
    }
    assert.doesNotMatch(html, /<script|<link|<img|<iframe|src=/i, 'nothing to load or run');
    assert.doesNotMatch(html, /https?:\/\//, 'no absolute URL: every reference stays on this service');
    assert.ok(html.includes('href="/rbac-api/v1/openapi.json"'), 'the page links the JSON document');
    // The one inline style is allowed by its hash.
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
    assert.ok(csp.includes(`'sha256-${createHash('sha256').update(style).digest('base64')}'`), 'the style hash in the CSP matches the page');
  });

  test('every documented status of the password and auth endpoints is reached by a real request', async () => {
    const reached = new Map<string, Set<number>>();
    /** One request to `operation` (`METHOD /template`), recording the status it got. */
    const hit = async (operation: string, options: InjectOptions & { token?: string }) => {
      const [method] = operation.split(' ') as [string];
      const response = await service.request({ method: method as 'GET', ...options });
      const statuses = reached.get(operation) ?? new Set<number>();
      statuses.add(response.statusCode);
      reached.set(operation, statuses);
      return response;
    };

    const admin = await service.adminToken();
    const userId = await service.createUser('doc-user');
    await service.createUser('doc-helpless');
    const helpless = await service.login('doc-helpless', USER_PASSWORD);
    const tokenPath = '/rbac-api/v1/auth/token';
    const issue = 'POST /rbac-api/v1/users/{sid}/password/reset';
    const reset = 'POST /rbac-api/v1/auth/reset';
    const change = 'PUT /rbac-api/v1/users/current/password';
    const validate = 'POST /rbac-api/v1/command/validate-password';
    const login = `POST ${tokenPath}`;

    // Log in: 200, 401.
    assert.equal((await hit(login, { url: tokenPath, payload: { login: 'doc-user', password: USER_PASSWORD } })).statusCode, 200);
    assert.equal((await hit(login, { url: tokenPath, payload: { login: 'doc-user', password: 'not the password' } })).statusCode, 401);
    assert.equal((await hit(login, { url: tokenPath, payload: { login: 'no-such-login', password: ADMIN_PASSWORD } })).statusCode, 401);

    // Issue a reset token: 201, 400, 401, 403, 404.
    const issued = await hit(issue, { url: `/rbac-api/v1/users/${userId}/password/reset`, token: admin });
    assert.equal(issued.statusCode, 201, issued.body);
    const resetToken = issued.body;
    assert.equal((await hit(issue, { url: '/rbac-api/v1/users/not-a-uuid/password/reset', token: admin })).statusCode, 400);
    assert.equal((await hit(issue, { url: `/rbac-api/v1/users/${userId}/password/reset` })).statusCode, 401);
    assert.equal((await hit(issue, { url: `/rbac-api/v1/users/${userId}/password/reset`, token: helpless })).statusCode, 403);
    assert.equal((await hit(issue, { url: `/rbac-api/v1/users/${randomUUID()}/password/reset`, token: admin })).statusCode, 404);

    // Validate a password: 200, 401, 403.
    assert.equal((await hit(validate, { url: '/rbac-api/v1/command/validate-password', token: helpless, payload: { password: 'x' } })).statusCode, 200);
    assert.equal((await hit(validate, { url: '/rbac-api/v1/command/validate-password', payload: { password: 'x' } })).statusCode, 401);
    assert.equal(
      (await hit(validate, { url: '/rbac-api/v1/command/validate-password', payload: { password: 'x', reset_token: 'not.a.token' } })).statusCode,
      403,
    );

    // Reset with the token: 403 (bad token), 400 (policy; the token stays usable), 200.
    const newPassword = 'lantern harbor morning tide';
    assert.equal((await hit(reset, { url: '/rbac-api/v1/auth/reset', payload: { token: 'not.a.token', password: newPassword } })).statusCode, 403);
    assert.equal((await hit(reset, { url: '/rbac-api/v1/auth/reset', payload: { token: resetToken, password: 'short' } })).statusCode, 400);
    assert.equal((await hit(reset, { url: '/rbac-api/v1/auth/reset', payload: { token: resetToken, password: newPassword } })).statusCode, 200);

    // Change one's own password: 401, 400, 403 (wrong current password), 200.
    const userToken = await service.login('doc-user', newPassword);
    const changeUrl = '/rbac-api/v1/users/current/password';
    assert.equal((await hit(change, { url: changeUrl, payload: { current_password: newPassword, password: 'quiet river stone garden' } })).statusCode, 401);
    assert.equal((await hit(change, { url: changeUrl, token: userToken, payload: { current_password: newPassword, password: 'short' } })).statusCode, 400);
    assert.equal(
      (await hit(change, { url: changeUrl, token: userToken, payload: { current_password: 'not the password', password: 'quiet river stone garden' } })).statusCode,
      403,
    );
    assert.equal(
      (await hit(change, { url: changeUrl, token: userToken, payload: { current_password: newPassword, password: 'quiet river stone garden' } })).statusCode,
      200,
    );

    // Log out: 204 with a token, 401 without.
    const logout = 'DELETE /rbac-api/v1/tokens/current';
    assert.equal((await hit(logout, { url: '/rbac-api/v1/tokens/current', token: await service.login('doc-helpless', USER_PASSWORD) })).statusCode, 204);
    assert.equal((await hit(logout, { url: '/rbac-api/v1/tokens/current' })).statusCode, 401);

    // A new token for the caller: 200, 400, 401.
    const newToken = 'POST /rbac-api/v1/tokens';
    const minted = await hit(newToken, { url: '/rbac-api/v1/tokens', token: helpless, payload: { label: 'doc' } });
    assert.equal(minted.statusCode, 200, minted.body);
    const mintedToken = (minted.json() as { token: string }).token;
    assert.equal((await hit(newToken, { url: '/rbac-api/v1/tokens', token: helpless, payload: { lifetime: 'forever' } })).statusCode, 400);
    assert.equal((await hit(newToken, { url: '/rbac-api/v1/tokens', payload: {} })).statusCode, 401);

    // A user's tokens: 200, 400, 401, 403, 404.
    const listing = 'GET /rbac-api/v1/users/{sid}/tokens';
    assert.equal((await hit(listing, { url: `/rbac-api/v1/users/${userId}/tokens`, token: admin })).statusCode, 200);
    assert.equal((await hit(listing, { url: `/rbac-api/v1/users/${userId}/tokens?order=up`, token: admin })).statusCode, 400);
    assert.equal((await hit(listing, { url: `/rbac-api/v1/users/${userId}/tokens` })).statusCode, 401);
    assert.equal((await hit(listing, { url: `/rbac-api/v1/users/${userId}/tokens`, token: helpless })).statusCode, 403);
    assert.equal((await hit(listing, { url: `/rbac-api/v1/users/${randomUUID()}/tokens`, token: admin })).statusCode, 404);

    // Revoke named tokens: 204, 400, 401, 403, 404.
    const revoke = 'DELETE /rbac-api/v2/tokens';
    assert.equal((await hit(revoke, { url: '/rbac-api/v2/tokens?revoke_tokens_by_labels=doc', token: helpless })).statusCode, 204);
    assert.equal((await hit(revoke, { url: '/rbac-api/v2/tokens', token: helpless })).statusCode, 400);
    assert.equal((await hit(revoke, { url: '/rbac-api/v2/tokens?revoke_tokens_by_usernames=doc-helpless' })).statusCode, 401);
    assert.equal((await hit(revoke, { url: '/rbac-api/v2/tokens?revoke_tokens_by_usernames=doc-user', token: helpless })).statusCode, 403);
    assert.equal((await hit(revoke, { url: '/rbac-api/v2/tokens?revoke_tokens_by_usernames=no-such-login', token: admin })).statusCode, 404);

    // Revoke one token by path: 204, 400, 401, 403.
    const byPath = 'DELETE /rbac-api/v2/tokens/{token}';
    assert.equal((await hit(byPath, { url: `/rbac-api/v2/tokens/${mintedToken}`, token: admin })).statusCode, 204);
    assert.equal((await hit(byPath, { url: '/rbac-api/v2/tokens/not%20a%20token', token: admin })).statusCode, 400);
    assert.equal((await hit(byPath, { url: `/rbac-api/v2/tokens/${mintedToken}` })).statusCode, 401);
    assert.equal((await hit(byPath, { url: `/rbac-api/v2/tokens/${mintedToken}`, token: helpless })).statusCode, 403);

    // Introspection: 200, 400, 403 (429 below).
    const introspect = 'POST /rbac-api/v2/auth/token/authenticate';
    assert.equal((await hit(introspect, { url: '/rbac-api/v2/auth/token/authenticate', payload: { token: helpless } })).statusCode, 200);
    assert.equal((await hit(introspect, { url: '/rbac-api/v2/auth/token/authenticate', payload: { token: 'not a token' } })).statusCode, 400);
    assert.equal((await hit(introspect, { url: '/rbac-api/v2/auth/token/authenticate', payload: { token: mintedToken } })).statusCode, 403);

    // 429: a second instance with a per-account rate limit of one login a minute, and one introspection per address.
    const limited = await startTestService(target.dialect, { rateLimitPerAccount: 1, rateLimitPerAddress: 1 });
    try {
      for (const expected of [401, 429]) {
        const response = await limited.request({ method: 'POST', url: tokenPath, payload: { login: 'flood', password: 'wrong password' } });
        assert.equal(response.statusCode, expected);
        reached.get(login)?.add(response.statusCode);
      }
      for (const expected of [400, 429]) {
        const response = await limited.request({ method: 'POST', url: '/rbac-api/v2/auth/token/authenticate', payload: { token: 'not a token' } });
        assert.equal(response.statusCode, expected);
        reached.get(introspect)?.add(response.statusCode);
      }
    } finally {
      await limited.close();
    }

    // A directory that cannot be reached: 503 for a login only it could check (a closed port refuses at once).
    const directory = await service.request({
      method: 'POST',
      url: '/rbac-api/v1/command/ldap/create',
      token: admin,
      payload: { display_name: 'unreachable', hostname: '127.0.0.1', port: 1, ssl: false, start_tls: true, base_dn: 'dc=example,dc=test', user_lookup_attr: 'uid', user_email_attr: 'mail', user_display_name_attr: 'cn', group_object_class: 'groupOfUniqueNames', group_name_attr: 'cn', group_member_attr: 'uniqueMember', group_lookup_attr: 'cn' },
    });
    assert.equal(directory.statusCode, 200, directory.body);
    assert.equal((await hit(login, { url: tokenPath, payload: { login: 'only-in-a-directory', password: ADMIN_PASSWORD } })).statusCode, 503);

    const operations = [...documentedOperations(document)].filter(isPasswordOrAuth).sort();
    assert.deepEqual(operations, [...reached.keys()].sort(), 'this test drives exactly the password and auth endpoints of the document');
    for (const operation of operations) {
      const [method, path] = operation.split(' ') as [string, string];
      const responses = document.paths[path]?.[method.toLowerCase()]?.responses ?? {};
      const documented = Object.keys(responses).filter((status) => status !== 'default');
      const got = reached.get(operation) ?? new Set<number>();
      for (const status of documented) assert.ok(got.has(Number(status)), `${operation} documents ${status}, which no request here produced (got ${[...got].join(', ')})`);
      if (!('default' in responses)) {
        for (const status of got) assert.ok(documented.includes(String(status)), `${operation} answered ${status}, which the document does not list`);
      }
    }
  });
});
