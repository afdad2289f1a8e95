// What a list route answers for the query it is given (CONTRACT §10,
// "Filters"): PE's id filter on GET /users and GET /groups answers only the
// users or groups named (unknown ids left out), a value that is not an id is
// 400 invalid-id-filter, and no list route silently ignores a parameter it
// does not know — a script acting on the list must never get objects it did
// not ask for. Every list route of the OpenAPI document is tried, so a new
// one cannot slip past the rule.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { startServiceWithAdmin, type TestService } from '../kit/service.js';

const v1 = (path: string) => `/rbac-api/v1${path}`;
const UNKNOWN = '00000000-0000-4000-8000-0000000000ff';

interface Listed {
  id: string;
  login: string;
}

describeEachDatabase('list routes and their query parameters', (target) => {
  let service: TestService;
  let admin: string;
  const ids: Record<string, string> = {};
  const groupIds: Record<string, string> = {};

  before(async () => {
    ({ service, admin } = await startServiceWithAdmin(target.dialect));
    for (const login of ['ann', 'ben', 'cid']) ids[login] = await service.createUser(login);
    for (const login of ['alpha', 'beta']) {
      const created = await service.request({ method: 'POST', url: v1('/command/groups/create'), token: admin, payload: { login, role_ids: [] } });
      assert.equal(created.statusCode, 201, created.body);
      groupIds[login] = (created.json() as Listed).id;
    }
  });
  after(() => service?.close());

  const get = (url: string, token: string | undefined = admin) => service.request({ method: 'GET', url, ...(token ? { token } : {}) });
  const logins = (body: unknown) => (body as Listed[]).map((item) => item.login).sort();

  describe('GET /users?id=', () => {
    test('answers only the users named, in either case; unknown ids are left out', async () => {
      const response = await get(v1(`/users?id=${ids.ann},${ids.cid!.toUpperCase()},${UNKNOWN}`));
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(logins(response.json()), ['ann', 'cid']);
      assert.deepEqual(logins((await get(v1(`/users?id=${ids.ben}`))).json()), ['ben']);
    });

    test('an empty filter names no user: an empty list, never every user', async () => {
      for (const query of ['id=', 'id=,', `id=${UNKNOWN}`]) {
        const response = await get(v1(`/users?${query}`));
        assert.equal(response.statusCode, 200, response.body);
        assert.deepEqual(response.json(), [], query);
      }
    });

    test('a value that is not a user id is 400 invalid-id-filter, which does not quote it', async () => {
      for (const value of ['alice', `${ids.ann},not-an-id`, '1', `${ids.ann};drop`]) {
        const body = assertError(await get(v1(`/users?id=${encodeURIComponent(value)}`)), 400, 'invalid-id-filter');
        assert.doesNotMatch(body.msg, /alice|not-an-id|drop/);
      }
      assertError(await get(v1(`/users?id=${ids.ann}&id=${ids.ben}`)), 400, 'schema-violation');
    });

    test('the token query parameter still authenticates, alongside the filter', async () => {
      const response = await get(v1(`/users?id=${ids.ann}&token=${admin}`), undefined);
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(logins(response.json()), ['ann']);
    });
  });

  describe('GET /groups?id=', () => {
    test('answers only the groups named; unknown ids are left out; an empty filter is an empty list', async () => {
      const response = await get(v1(`/groups?id=${groupIds.beta},${UNKNOWN}`));
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(logins(response.json()), ['beta']);
      assert.deepEqual((await get(v1('/groups?id='))).json(), []);
      assert.deepEqual(logins((await get(v1(`/groups?token=${admin}`), undefined)).json()), ['alpha', 'beta']);
    });

    test('a value that is not a group id is 400 invalid-id-filter', async () => {
      assertError(await get(v1(`/groups?id=${groupIds.alpha},alpha`)), 400, 'invalid-id-filter');
    });
  });

  describe('unknown parameters', () => {
    test('every list route of the API answers 400 schema-violation to a parameter it does not know, naming it', async () => {
      const document = (await get('/rbac-api/v1/openapi.json')).json() as OpenApi;
      const listRoutes = Object.entries(document.paths)
        .filter(([, operations]) => operations.get && answersList(operations.get, document))
        .map(([path]) => path);
      // PE's list routes, by what PE documents: each must be among them.
      for (const expected of ['/rbac-api/v1/users', '/rbac-api/v1/groups', '/rbac-api/v1/roles', '/rbac-api/v1/types', '/types', '/rbac-api/v2/users', '/rbac-api/v1/users/{sid}/tokens', '/rbac-api/v2/ldap', '/rbac-api/v2/ds', '/rbac-api/v1/permitted/{object_type}/{action}', '/rbac-api/v1/events']) {
        assert.ok(listRoutes.includes(expected), `${expected} is a list route: ${listRoutes.join(', ')}`);
      }
      const adminId = ((await get(v1('/users/current'))).json() as Listed).id;
      const values: Record<string, string> = { sid: adminId, uuid: adminId, object_type: 'users', action: 'edit' };
      for (const path of listRoutes) {
        const url = path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? name);
        for (const parameter of ['surprise', 'login', 'is_revoked']) {
          const body = assertError(await get(`${url}?${parameter}=1`), 400, 'schema-violation');
          assert.match(body.msg, new RegExp(`"${parameter}"`), `${path}?${parameter}: ${body.msg}`);
        }
        const plain = await get(url);
        assert.equal(plain.statusCode, 200, `${path}: ${plain.body}`);
      }
    });

    test('a filter PE documents elsewhere is no filter here either: GET /roles?id=1 is 400, not every role', async () => {
      assertError(await get(v1('/roles?id=1')), 400, 'schema-violation');
      assertError(await get('/rbac-api/v2/users?id=x'), 400, 'schema-violation');
    });
  });
});

interface OpenApi {
  paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: Schema }> }> }>>;
  components?: { schemas?: Record<string, Schema> };
}
interface Schema {
  type?: string;
  $ref?: string;
  properties?: Record<string, Schema>;
  anyOf?: Schema[];
}

/** Whether the operation's 200 is a list: an array, or a page (an object with an array of items). */
function answersList(operation: OpenApi['paths'][string][string], document: OpenApi): boolean {
  const resolve = (schema: Schema | undefined): Schema | undefined => {
    if (!schema?.$ref) return schema;
    return document.components?.schemas?.[schema.$ref.split('/').pop() ?? ''];
  };
  const schema = resolve(operation.responses?.['200']?.content?.['application/json']?.schema);
  if (!schema) return false;
  if (schema.type === 'array') return true;
  return Object.values(schema.properties ?? {}).some((property) => resolve(property)?.type === 'array' && schema.properties !== undefined && 'pagination' in schema.properties);
}
