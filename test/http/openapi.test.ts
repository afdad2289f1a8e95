// Issue 8: the OpenAPI 3.1 document is generated from the route schemas and
// served at /rbac-api/v1/openapi.json; the reference page at /rbac-api/v1/docs
// is Swagger UI served by the service itself (its own files only, under a
// strict CSP; test/http/api-docs-page.test.ts renders it in Chromium). Every
// registered route is in the document except the hidden ones (the reset page
// and its assets, the favicon, and the document and page themselves); every
// request body and every answer with a body has an example; every documented
// response content type is what the route really sends; and every response
// status documented for the password and auth endpoints is produced by a
// real request here — on SQLite and PostgreSQL.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { UNDECLARED_RESPONSES } from '../../src/http/openapi.js';
import { SERVICE_VERSION } from '../../src/version.js';
import { describeEachDatabase } from '../kit/databases.js';
import { directorySettingsFor, startSlapd } from '../kit/slapd.js';
import { ADMIN_PASSWORD, USER_PASSWORD, startTestService, type TestService } from '../kit/service.js';
import { openApiName, registeredRoutes } from './support.js';

interface MediaType {
  schema?: { $ref?: string; examples?: unknown[] };
  example?: unknown;
  examples?: Record<string, unknown>;
}
interface Operation {
  tags?: string[];
  summary?: string;
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, MediaType> };
  responses: Record<string, { description: string; content?: Record<string, MediaType> }>;
}
interface OpenApi {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  tags?: { name: string; description?: string }[];
  security?: Record<string, string[]>[];
  components?: { securitySchemes?: Record<string, { type: string }> };
}

/** Every operation of the document, as [`METHOD /template`, operation]. */
const operations = (document: OpenApi): [string, Operation][] =>
  Object.entries(document.paths).flatMap(([path, item]) => Object.entries(item).map(([method, operation]): [string, Operation] => [`${method.toUpperCase()} ${path}`, operation]));

/** The operations that need no login token: they declare `security: []`. */
const UNAUTHENTICATED = [
  'POST /rbac-api/v1/auth/token',
  'POST /rbac-api/v1/auth/reset',
  'POST /rbac-api/v1/auth/reset/holder',
  'POST /rbac-api/v2/auth/token/authenticate',
  'GET /status/v1/simple',
  'GET /status/v1/simple/{service_name}',
  'GET /status/v1/services',
  'GET /status/v1/services/{service_name}',
];

/** Routes the document must not contain. */
const HIDDEN = new Set(['GET /', 'GET /favicon.ico', 'GET /auth/reset', 'GET /auth/reset/app.js', 'GET /auth/reset/style.css', 'GET /rbac-api/v1/openapi.json', 'GET /rbac-api/v1/docs']);
/** The reference page's own routes (Swagger UI, its files, its copy of the document): hidden too. */
const isDocsPage = (route: string) => /^(GET|HEAD) \/rbac-api\/v1\/docs\//.test(route);

/** `METHOD /path/{param}` for every route Fastify has. */
const registeredRouteNames = (app: FastifyInstance): Set<string> => new Set(registeredRoutes(app).map(openApiName));

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

    const routes = registeredRouteNames(service.app);
    assert.ok(routes.has('POST /rbac-api/v1/auth/token'), 'the route list was read');
    const documented = documentedOperations(document);
    for (const route of routes) {
      if (route.startsWith('HEAD ')) {
        // Fastify adds HEAD to every GET; the document describes the GET.
        assert.ok(routes.has(route.replace(/^HEAD/, 'GET')), `${route} comes with a GET`);
        continue;
      }
      if (HIDDEN.has(route) || isDocsPage(route)) assert.ok(!documented.has(route), `${route} is hidden (schema.hide) and stays out of the document`);
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

  test('the reference groups every operation under a declared tag; summaries are plain text', () => {
    const declared = (document.tags ?? []).map((tag) => tag.name);
    for (const expected of ['users', 'roles', 'groups', 'tokens', 'passwords', 'directory', 'permissions', 'status', 'activity']) {
      assert.ok(declared.includes(expected), `the tag ${expected} is declared`);
    }
    const untagged: string[] = [];
    const used = new Set<string>();
    for (const [name, operation] of operations(document)) {
      const tags = operation.tags ?? [];
      if (tags.length !== 1 || !declared.includes(tags[0] as string)) untagged.push(`${name}: ${JSON.stringify(tags)}`);
      tags.forEach((tag) => used.add(tag));
      assert.ok(operation.summary, `${name} has a summary`);
      assert.doesNotMatch(operation.summary ?? '', /`|\*\*|<\/?[a-z]/i, `${name}: the summary is plain text (no Markdown or HTML)`);
    }
    assert.deepEqual(untagged, [], 'each operation has exactly one declared tag');
    for (const tag of declared) if (tag !== 'status') assert.ok(used.has(tag), `the tag ${tag} groups some operation`);
    assert.equal(document.paths['/rbac-api/v1/auth/token']?.post?.tags?.[0], 'tokens');
    assert.equal(document.paths['/rbac-api/v1/auth/reset']?.post?.tags?.[0], 'passwords');
    assert.equal(document.paths['/rbac-api/v1/users']?.get?.tags?.[0], 'users');
  });

  test('no padlock exactly on the routes that need no login token: security [] where a request without one is not refused with 401', async () => {
    const certificate = { clientCertificate: [] };
    assert.deepEqual(document.security, [{ 'X-Authentication': [] }, { token: [] }, certificate], 'a login token or a client certificate, unless an operation says otherwise');
    assert.equal(document.components?.securitySchemes?.clientCertificate?.type, 'mutualTLS');
    const open: string[] = [];
    for (const [name, operation] of operations(document)) {
      const [method, template] = name.split(' ') as [string, string];
      // Without a token and without a body: a route that needs a token refuses before it reads anything.
      const url = template.replace(/\{(\w+)\}/g, () => randomUUID());
      const response = await service.request({ method: method as InjectOptions['method'], url });
      const refused = response.statusCode === 401 && (response.json() as { kind: string }).kind === 'user-unauthenticated';
      if (operation.security?.length === 0) {
        open.push(name);
        assert.ok(!refused, `${name} declares security: [] but refuses a request without a token`);
      } else if (name === 'POST /rbac-api/v1/command/validate-password') {
        assert.deepEqual(operation.security, [{ 'X-Authentication': [] }, { token: [] }, certificate, {}], 'a login token, a client certificate or a reset token in the body');
      } else if (name === 'POST /rbac-api/v1/tokens') {
        assert.deepEqual(operation.security, [{ 'X-Authentication': [] }, { token: [] }], 'a login token only: api_user gets no login tokens (PE)');
        assert.ok(refused);
      } else {
        assert.ok(refused, `${name} needs a login token (no security: []), and a request without one gets 401: ${response.statusCode} ${response.body}`);
      }
    }
    assert.deepEqual(open.sort(), UNAUTHENTICATED.slice().sort(), 'security: [] on exactly these');
  });

  test("each 401 example is what a bad login token gets; logging in's is what a wrong password gets", () => {
    const examples: string[] = [];
    for (const [name, operation] of operations(document)) {
      const response = operation.responses['401'];
      if (!response?.content) continue;
      const json = response.content['application/json']?.example as { kind: string; msg: string };
      const text = response.content['text/plain']?.example;
      const expected =
        name === 'POST /rbac-api/v1/auth/token'
          ? { kind: 'user-unauthenticated', msg: 'The login or password is incorrect.' }
          : { kind: 'user-unauthenticated', msg: 'The login token is invalid, expired or revoked. Log in again.' };
      assert.deepEqual(json, expected, `${name} 401`);
      assert.equal(text, expected.msg, `${name} 401 as text`);
      examples.push(name);
    }
    assert.ok(examples.includes('GET /rbac-api/v1/users'), 'routes behind a token document their 401');
    assert.ok(examples.includes('POST /rbac-api/v1/auth/token'));
  });

  test('the reference page is Swagger UI from this service: its own files only, a strict CSP, the same document', async () => {
    const response = await service.request({ method: 'GET', url: '/rbac-api/v1/docs' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/html/);
    const csp = String(response.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /connect-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/, 'nothing inline, nothing from elsewhere');
    assert.equal(response.headers['referrer-policy'], 'no-referrer');
    assert.equal(response.headers['x-frame-options'], 'DENY');
    const html = response.body;
    assert.doesNotMatch(html, /<script>|<style>|style=|https?:\/\//, 'no inline script or style, no absolute URL');
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] as string);
    assert.ok(assets.some((asset) => asset.endsWith('/swagger-ui-bundle.js')), `Swagger UI is loaded: ${assets.join(', ')}`);
    for (const asset of assets) {
      assert.match(asset, /^\/rbac-api\/v1\/docs\/static\//, `${asset} is served from here`);
      const file = await service.request({ method: 'GET', url: asset });
      assert.equal(file.statusCode, 200, asset);
      assert.equal(file.headers['content-security-policy'], csp, `${asset} carries the same CSP`);
    }
    const initializer = (await service.request({ method: 'GET', url: '/rbac-api/v1/docs/static/swagger-initializer.js' })).body;
    assert.match(initializer, /validatorUrl: null/, 'no validator badge from validator.swagger.io');
    assert.match(initializer, /resolveUrl\('\.\/json'\)/, 'the page reads the document from this service');
    const copy = await service.request({ method: 'GET', url: '/rbac-api/v1/docs/json' });
    assert.deepEqual(copy.json(), document, 'the page shows the same document as /openapi.json');
  });

  test('every request body and every answer with a body has an example', () => {
    const missing: string[] = [];
    const hasExample = (media: MediaType) => media.example !== undefined || media.examples !== undefined || (media.schema?.examples?.length ?? 0) > 0;
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const name = `${method.toUpperCase()} ${path}`;
        for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) if (!hasExample(media)) missing.push(`${name} request body (${type})`);
        for (const [status, response] of Object.entries(operation.responses)) {
          for (const [type, media] of Object.entries(response.content ?? {})) if (!hasExample(media)) missing.push(`${name} ${status} (${type})`);
        }
      }
    }
    assert.deepEqual(missing, [], 'without an example');
    const login = document.paths['/rbac-api/v1/auth/token']?.post?.requestBody?.content['application/json'];
    assert.deepEqual(login?.example, { login: 'admin', password: 'the admin password', lifetime: '4h', label: 'laptop' }, "the shape's TypeBox examples are the document's");
  });

  test('every documented success content type is what the route sends, and errors are JSON or, asked for, text/plain', async () => {
    const admin = await service.adminToken();
    const aliceId = await service.createUser('types-alice');
    await service.createUser('types-bob');
    const role = await service.request({ method: 'POST', url: '/rbac-api/v1/roles', token: admin, payload: { display_name: 'Types', permissions: [] } });
    const roleId = (role.json() as { id: number }).id;
    const alice = await service.login('types-alice', USER_PASSWORD);
    const spareToken = await service.login('types-bob', USER_PASSWORD);
    const permission = { object_type: 'users', action: 'edit', instance: '*' };
    const v1 = '/rbac-api/v1';

    /** One successful request per documented operation (several where it answers in several types). */
    const successes: Record<string, (InjectOptions & { token?: string })[]> = {
      'GET /status/v1/simple': [{ url: '/status/v1/simple' }],
      'GET /status/v1/simple/{service_name}': [{ url: '/status/v1/simple/rbac-service' }],
      'GET /status/v1/services': [{ url: '/status/v1/services' }],
      'GET /status/v1/services/{service_name}': [{ url: '/status/v1/services/rbac-service' }],
      [`POST ${v1}/auth/token`]: [{ url: `${v1}/auth/token`, payload: { login: 'types-bob', password: USER_PASSWORD } }],
      [`DELETE ${v1}/tokens/current`]: [{ url: `${v1}/tokens/current`, token: await service.login('types-bob', USER_PASSWORD) }],
      'DELETE /rbac-api/v2/tokens': [{ url: '/rbac-api/v2/tokens?revoke_tokens_by_labels=none', token: admin }],
      'DELETE /rbac-api/v2/tokens/{token}': [{ url: `/rbac-api/v2/tokens/${spareToken}`, token: admin }],
      'POST /rbac-api/v2/auth/token/authenticate': [{ url: '/rbac-api/v2/auth/token/authenticate', payload: { token: alice } }],
      [`GET ${v1}/users`]: [{ url: `${v1}/users`, token: admin }],
      [`POST ${v1}/users`]: [{ url: `${v1}/users`, token: admin, payload: { login: 'types-carol' } }],
      [`GET ${v1}/users/current`]: [{ url: `${v1}/users/current`, token: alice }],
      [`GET ${v1}/users/{sid}`]: [{ url: `${v1}/users/${aliceId}`, token: admin }],
      [`PUT ${v1}/users/{sid}`]: [{ url: `${v1}/users/${aliceId}`, token: admin, payload: { display_name: 'Alice T.' } }],
      [`DELETE ${v1}/users/{sid}`]: [{ url: `${v1}/users/${await service.createUser('types-dave')}`, token: admin }],
      [`POST ${v1}/command/validate-login`]: [{ url: `${v1}/command/validate-login`, token: admin, payload: { login: 'someone-new' } }],
      [`POST ${v1}/command/users/revoke`]: [{ url: `${v1}/command/users/revoke`, token: admin, payload: { user_id: aliceId } }],
      [`POST ${v1}/command/users/reinstate`]: [{ url: `${v1}/command/users/reinstate`, token: admin, payload: { user_id: aliceId } }],
      'GET /rbac-api/v2/users': [{ url: '/rbac-api/v2/users', token: admin }],
      [`POST ${v1}/tokens`]: [{ url: `${v1}/tokens`, token: admin, payload: { label: 'types' } }],
      [`GET ${v1}/users/{sid}/tokens`]: [{ url: `${v1}/users/${aliceId}/tokens`, token: admin }],
      [`GET ${v1}/roles`]: [{ url: `${v1}/roles`, token: admin }],
      [`POST ${v1}/roles`]: [{ url: `${v1}/roles`, token: admin, payload: { display_name: 'Types two' } }],
      [`GET ${v1}/roles/{rid}`]: [{ url: `${v1}/roles/${roleId}`, token: admin }],
      [`PUT ${v1}/roles/{rid}`]: [{ url: `${v1}/roles/${roleId}`, token: admin, payload: { description: 'edited' } }],
      [`POST ${v1}/command/roles/add-users`]: [{ url: `${v1}/command/roles/add-users`, token: admin, payload: { role_id: roleId, user_ids: [aliceId] } }],
      [`POST ${v1}/command/roles/remove-users`]: [{ url: `${v1}/command/roles/remove-users`, token: admin, payload: { role_id: roleId, user_ids: [aliceId] } }],
      [`POST ${v1}/command/users/add-roles`]: [{ url: `${v1}/command/users/add-roles`, token: admin, payload: { user_id: aliceId, role_ids: [roleId] } }],
      [`POST ${v1}/command/users/remove-roles`]: [{ url: `${v1}/command/users/remove-roles`, token: admin, payload: { user_id: aliceId, role_ids: [roleId] } }],
      [`POST ${v1}/command/roles/add-permissions`]: [{ url: `${v1}/command/roles/add-permissions`, token: admin, payload: { role_id: roleId, permissions: [permission] } }],
      [`POST ${v1}/command/roles/remove-permissions`]: [{ url: `${v1}/command/roles/remove-permissions`, token: admin, payload: { role_id: roleId, permissions: [permission] } }],
      [`POST ${v1}/command/roles/add-user-groups`]: [{ url: `${v1}/command/roles/add-user-groups`, token: admin, payload: { role_id: roleId, group_ids: [] } }],
      [`POST ${v1}/command/roles/add-groups`]: [{ url: `${v1}/command/roles/add-groups`, token: admin, payload: { role_id: roleId, group_ids: [] } }],
      [`POST ${v1}/command/roles/remove-groups`]: [{ url: `${v1}/command/roles/remove-groups`, token: admin, payload: { role_id: roleId, group_ids: [] } }],
      [`GET ${v1}/types`]: [{ url: `${v1}/types`, token: admin }],
      'GET /types': [{ url: '/types', token: admin }],
      [`POST ${v1}/permitted`]: [{ url: `${v1}/permitted`, token: admin, payload: { token: aliceId, permissions: [permission] } }],
      [`GET ${v1}/permitted/{object_type}/{action}`]: [{ url: `${v1}/permitted/users/edit`, token: admin }],
      [`GET ${v1}/permitted/{object_type}/{action}/{uuid}`]: [{ url: `${v1}/permitted/users/edit/${aliceId}`, token: admin }],
      [`POST ${v1}/users/{sid}/password/reset`]: [
        { url: `${v1}/users/${aliceId}/password/reset`, token: admin },
        { url: `${v1}/users/${aliceId}/password/reset`, token: admin, headers: { accept: 'application/json' } },
      ],
      [`POST ${v1}/auth/reset`]: [{ url: `${v1}/auth/reset`, payload: { token: await service.resetToken(await service.createUser('types-erin')), password: 'lantern harbor morning tide' } }],
      [`POST ${v1}/auth/reset/holder`]: [{ url: `${v1}/auth/reset/holder`, payload: { token: await service.resetToken(await service.createUser('types-frank')) } }],
      [`PUT ${v1}/users/current/password`]: [
        { url: `${v1}/users/current/password`, token: await service.login('types-bob', USER_PASSWORD), payload: { current_password: USER_PASSWORD, password: 'quiet river stone garden' } },
      ],
      [`POST ${v1}/command/validate-password`]: [{ url: `${v1}/command/validate-password`, token: admin, payload: { password: 'password' } }],
      [`GET ${v1}/events`]: [{ url: `${v1}/events`, token: admin }],
      'GET /activity-api/v1/events': [{ url: '/activity-api/v1/events?service_id=rbac', token: admin }],
      'GET /activity-api/v1/events.csv': [{ url: '/activity-api/v1/events.csv?service_id=rbac', token: admin }],
      'GET /activity-api/v2/events': [{ url: '/activity-api/v2/events', token: admin }],
      'GET /activity-api/v2/events.csv': [{ url: '/activity-api/v2/events.csv?service_id=rbac', token: admin }],
      [`POST ${v1}/command/config/set-disclaimer`]: [{ url: `${v1}/command/config/set-disclaimer`, token: admin, payload: { disclaimer: 'Authorized use only.' } }],
      [`GET ${v1}/config/disclaimer`]: [{ url: `${v1}/config/disclaimer`, token: admin }],
      [`POST ${v1}/command/config/remove-disclaimer`]: [{ url: `${v1}/command/config/remove-disclaimer`, token: admin }],
    };
    // The directory service and its groups, against a real OpenLDAP server (test/kit/slapd.ts).
    // Stopped at the end of this test (or, should it fail first, by the kit's exit hook).
    const slapd = await startSlapd();
    {
      const settings = directorySettingsFor(slapd);
      const stored = await service.request({ method: 'PUT', url: `${v1}/ds`, token: admin, payload: settings });
      assert.equal(stored.statusCode, 200, stored.body);
      const directoryId = (stored.json() as { id: string }).id;
      const imported = await service.request({ method: 'POST', url: `${v1}/groups`, token: admin, payload: { login: 'leads' } });
      assert.equal(imported.statusCode, 201, imported.body);
      const groupId = (imported.json() as { id: string }).id;
      Object.assign(successes, {
        [`PUT ${v1}/ds`]: [{ url: `${v1}/ds`, token: admin, payload: settings }],
        [`GET ${v1}/ds`]: [{ url: `${v1}/ds`, token: admin }],
        [`GET ${v1}/ds/test`]: [{ url: `${v1}/ds/test`, token: admin }],
        [`PUT ${v1}/ds/test`]: [{ url: `${v1}/ds/test`, token: admin, payload: settings }],
        [`POST ${v1}/command/ldap/test`]: [{ url: `${v1}/command/ldap/test`, token: admin, payload: settings }],
        'GET /rbac-api/v2/ldap': [{ url: '/rbac-api/v2/ldap', token: admin }],
        'GET /rbac-api/v2/ds': [{ url: '/rbac-api/v2/ds', token: admin }],
        'GET /rbac-api/v2/ldap/{id}': [{ url: `/rbac-api/v2/ldap/${directoryId}`, token: admin }],
        [`POST ${v1}/command/ldap/update`]: [{ url: `${v1}/command/ldap/update`, token: admin, payload: { ...settings, id: directoryId } }],
        [`POST ${v1}/groups`]: [{ url: `${v1}/groups`, token: admin, payload: { login: 'developers' } }],
        [`POST ${v1}/command/groups/create`]: [{ url: `${v1}/command/groups/create`, token: admin, payload: { login: 'operators' } }],
        'POST /rbac-api/v2/groups': [{ url: '/rbac-api/v2/groups', token: admin, payload: { login: 'empty-ish', validate: true } }],
        [`GET ${v1}/groups`]: [{ url: `${v1}/groups`, token: admin }],
        [`GET ${v1}/groups/{sid}`]: [{ url: `${v1}/groups/${groupId}`, token: admin }],
        [`PUT ${v1}/groups/{sid}`]: [{ url: `${v1}/groups/${groupId}`, token: admin, payload: { role_ids: [roleId] } }],
        [`DELETE ${v1}/groups/{sid}`]: [{ url: `${v1}/groups/${groupId}`, token: admin }],
        [`POST ${v1}/command/ldap/delete`]: [{ url: `${v1}/command/ldap/delete`, token: admin, payload: { id: directoryId } }],
        [`POST ${v1}/command/ldap/create`]: [{ url: `${v1}/command/ldap/create`, token: admin, payload: settings }],
      });
    }

    // The role goes last: the commands above use it.
    successes[`DELETE ${v1}/roles/{rid}`] = [{ url: `${v1}/roles/${roleId}`, token: admin }];

    const essence = (header: unknown) => (String(header ?? '').split(';')[0] ?? '').trim();
    const documentedTypes = (operation: string, status: number) => {
      const [method, path] = operation.split(' ') as [string, string];
      const response = document.paths[path]?.[method.toLowerCase()]?.responses[String(status)];
      assert.ok(response, `${operation} answered ${status}, which the document does not list`);
      return Object.keys(response.content ?? {});
    };
    const seen = new Set<string>();
    const documented = documentedOperations(document);
    assert.deepEqual([...documented].filter((operation) => !(operation in successes)), [], 'every documented operation has a request here');
    for (const [operation, requests] of Object.entries(successes)) {
      for (const options of requests) {
        const [method] = operation.split(' ') as [string];
        const response = await service.request({ method: method as 'GET', ...options });
        // 303 See Other (PE's v2 POST /groups) is a success with a Location and no body.
        assert.ok(response.statusCode < 300 || (response.statusCode === 303 && response.headers.location), `${operation}: ${response.statusCode} ${response.body}`);
        const types = documentedTypes(operation, response.statusCode);
        if (types.length === 0) assert.equal(response.body, '', `${operation} ${response.statusCode} documents no body`);
        else {
          const type = essence(response.headers['content-type']);
          assert.ok(types.includes(type), `${operation} ${response.statusCode} sent ${type}; the document lists ${types.join(', ')}`);
          seen.add(`${operation} ${response.statusCode} ${type}`);
        }
      }
    }
    for (const operation of documented) {
      const [method, path] = operation.split(' ') as [string, string];
      for (const [status, response] of Object.entries(document.paths[path]?.[method.toLowerCase()]?.responses ?? {})) {
        if (!/^2/.test(status)) continue;
        for (const type of Object.keys(response.content ?? {})) assert.ok(seen.has(`${operation} ${status} ${type}`), `${operation} documents ${status} as ${type}, which it never sent here`);
      }
    }

    // Errors: JSON by default, the message alone for a client that accepts only text/plain — as documented.
    for (const operation of documented) {
      const [method, path] = operation.split(' ') as [string, string];
      const responses = document.paths[path]?.[method.toLowerCase()]?.responses ?? {};
      if (!responses['401'] && !responses['403']) continue;
      const url = successes[operation]?.[0]?.url as string;
      for (const accept of ['application/json', 'text/plain']) {
        const response = await service.request({ method: method as 'GET', url, headers: { accept, 'x-authentication': 'not-a-login-token' }, ...(method === 'GET' || method === 'DELETE' ? {} : { payload: {} }) });
        if (response.statusCode < 400) continue;
        const types = documentedTypes(operation, response.statusCode);
        assert.equal(essence(response.headers['content-type']), accept, `${operation} ${response.statusCode} for Accept: ${accept}`);
        assert.ok(types.includes(accept), `${operation} ${response.statusCode} sends ${accept}; the document lists ${types.join(', ')}`);
      }
    }
    // The directory made last goes, so that later tests' logins do not reach a stopped server.
    for (const { id } of (await service.request({ method: 'GET', url: '/rbac-api/v2/ldap', token: admin })).json() as { id: string }[]) {
      assert.equal((await service.request({ method: 'POST', url: `${v1}/command/ldap/delete`, token: admin, payload: { id } })).statusCode, 204);
    }
    await slapd.stop();
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

    // Log in: 200, 400, 401.
    assert.equal((await hit(login, { url: tokenPath, payload: { login: 'doc-user' } })).statusCode, 400);
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

    // Validate a password: 200, 400, 401, 403.
    assert.equal((await hit(validate, { url: '/rbac-api/v1/command/validate-password', token: helpless, payload: {} })).statusCode, 400);
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

    // The holder of a reset token: 200, 400, 403.
    const holder = 'POST /rbac-api/v1/auth/reset/holder';
    const holderToken = await service.resetToken(await service.createUser('doc-holder'));
    assert.equal((await hit(holder, { url: '/rbac-api/v1/auth/reset/holder', payload: { token: holderToken } })).statusCode, 200);
    assert.equal((await hit(holder, { url: '/rbac-api/v1/auth/reset/holder', payload: {} })).statusCode, 400);
    assert.equal((await hit(holder, { url: '/rbac-api/v1/auth/reset/holder', payload: { token: 'not.a.token' } })).statusCode, 403);

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

    // Introspection: 200, 400, 403 (no rate limit: CONTRACT §10).
    const introspect = 'POST /rbac-api/v2/auth/token/authenticate';
    assert.equal((await hit(introspect, { url: '/rbac-api/v2/auth/token/authenticate', payload: { token: helpless } })).statusCode, 200);
    assert.equal((await hit(introspect, { url: '/rbac-api/v2/auth/token/authenticate', payload: { token: 'not a token' } })).statusCode, 400);
    assert.equal((await hit(introspect, { url: '/rbac-api/v2/auth/token/authenticate', payload: { token: mintedToken } })).statusCode, 403);

    // 429: a second instance with a per-account rate limit of one login a minute.
    const limited = await startTestService(target.dialect, { rateLimitPerAccount: 1, rateLimitPerAddress: 1 });
    try {
      for (const expected of [401, 429]) {
        const response = await limited.request({ method: 'POST', url: tokenPath, payload: { login: 'flood', password: 'wrong password' } });
        assert.equal(response.statusCode, expected);
        reached.get(login)?.add(response.statusCode);
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
