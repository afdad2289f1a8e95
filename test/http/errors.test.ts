// Every error is {kind, msg, details?} (or the bare msg for a
// client that accepts only text), framework errors included; no client
// input reaches a 5xx.

import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { describeEachDatabase } from '../kit/databases.js';
import { ADMIN_PASSWORD, startTestService, type TestService } from '../kit/service.js';
import { assertError } from '../kit/errors.js';

describeEachDatabase('error model', (target) => {
  let service: TestService;
  let token: string;
  before(async () => {
    service = await startTestService(target.dialect);
    token = await service.adminToken();
  });
  after(() => service?.close());

  const post = (url: string, payload: string, headers: Record<string, string> = {}) =>
    service.request({ method: 'POST', url, payload, headers: { 'content-type': 'application/json', ...headers } });

  test('a body that is not JSON is malformed-request', async () => {
    for (const payload of ['{', '{"login": "admin",}', 'login=admin&password=x', '\u0000', '[1, 2']) {
      assertError(await post('/rbac-api/v1/auth/token', payload), 400, 'malformed-request');
    }
  });

  test('a body that is not declared JSON is 415 unsupported-media-type, before anything is parsed or checked', async () => {
    // A login that would succeed: only the type can refuse it.
    const body = JSON.stringify({ login: 'admin', password: ADMIN_PASSWORD });
    const before = { ...service.hasher.counts };
    const types = [
      'text/plain',
      'text/plain; x=application/json',
      'text/plain;charset=utf-8, application/json',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      'application/jsonx',
      'application/json-seq',
      'xapplication/json',
      'text/json',
      '',
    ];
    for (const type of types) {
      assertError(await post('/rbac-api/v1/auth/token', body, { 'content-type': type }), 415, 'unsupported-media-type');
    }
    // A body with no Content-Type at all (fetch() with a Blob body sends none).
    const untyped = await service.app.inject({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: body, headers: { accept: 'application/json' } });
    assertError(untyped, 415, 'unsupported-media-type');
    assert.ok(untyped.headers['x-request-id'], 'the usual headers are there');
    assert.deepEqual(service.hasher.counts, before, 'no password was checked');
    // Protected routes refuse it before authentication too.
    assertError(await post('/rbac-api/v1/users', '{}', { 'content-type': 'text/plain' }), 415, 'unsupported-media-type');
  });

  test('application/json and application/*+json, with parameters, are accepted; an empty body needs no type', async () => {
    const body = JSON.stringify({ login: 'admin', password: ADMIN_PASSWORD });
    for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset="UTF-8"', 'application/merge-patch+json']) {
      const response = await post('/rbac-api/v1/auth/token', body, { 'content-type': type });
      assert.equal(response.statusCode, 200, `${type}: ${response.body}`);
    }
    const login = await post('/rbac-api/v1/auth/token', body);
    const fresh = (login.json() as { token: string }).token;
    // curl -X DELETE / -X POST without -d: no body, no Content-Type.
    const empty = await service.app.inject({ method: 'DELETE', url: '/rbac-api/v1/tokens/current', headers: { 'x-authentication': fresh } });
    assert.ok(empty.statusCode < 300, `${empty.statusCode} ${empty.body}`);
    const emptyPost = await service.app.inject({ method: 'POST', url: '/rbac-api/v1/auth/token', headers: { 'content-length': '0' } });
    assertError(emptyPost, 400, 'schema-violation');
  });

  test('wrong shape, missing keys, unknown keys and wrong types are schema-violation', async () => {
    const cases = [
      '[]',
      '"text"',
      '42',
      'null',
      '{}',
      '{"login": "admin"}',
      '{"login": "admin", "password": 5}',
      '{"login": ["admin"], "password": "x"}',
      `{"login": "admin", "password": "${ADMIN_PASSWORD}", "extra": true}`,
      `{"login": "admin", "password": "${ADMIN_PASSWORD}", "lifetime": true}`,
    ];
    for (const payload of cases) {
      const body = assertError(await post('/rbac-api/v1/auth/token', payload), 400, 'schema-violation');
      assert.ok(Array.isArray((body.details as { errors?: unknown[] }).errors), `details list what is wrong for ${payload}`);
    }
    const unknown = assertError(
      await post('/rbac-api/v1/auth/token', `{"login": "admin", "password": "x", "surprise": 1}`),
      400,
      'schema-violation',
    );
    assert.match(unknown.msg, /surprise/, 'the message names the unknown key');
  });

  test('an empty body where one is required is schema-violation', async () => {
    const response = await service.request({ method: 'POST', url: '/rbac-api/v1/auth/token' });
    assertError(response, 400, 'schema-violation');
  });

  test('a path id that is not a UUID is invalid-uuid', async () => {
    for (const sid of ['123', 'not-a-uuid', '00000000-0000-0000-0000-00000000000g']) {
      assertError(await service.request({ method: 'GET', url: `/rbac-api/v1/users/${sid}`, token }), 400, 'invalid-uuid');
    }
    // A NUL anywhere in a request is refused before any route looks at it (src/http/nul-characters.ts).
    assertError(await service.request({ method: 'GET', url: '/rbac-api/v1/users/%00', token }), 400, 'schema-violation');
  });

  test('an unknown route and a wrong method are not-found', async () => {
    assertError(await service.request({ method: 'GET', url: '/rbac-api/v1/nothing-here' }), 404, 'not-found');
    assertError(await service.request({ method: 'GET', url: '/rbac-api/v1/auth/token' }), 404, 'not-found');
    assertError(await service.request({ method: 'PATCH', url: '/status/v1/simple' }), 404, 'not-found');
  });

  test('a body over the limit is request-too-large', async () => {
    const huge = JSON.stringify({ login: 'admin', password: 'x'.repeat(2 * 1024 * 1024) });
    assertError(await post('/rbac-api/v1/auth/token', huge), 413, 'request-too-large');
  });

  test('a client that accepts only text gets the bare msg', async () => {
    for (const accept of ['text/plain', 'text/html']) {
      const response = await service.request({ method: 'GET', url: '/rbac-api/v1/users/current', headers: { accept } });
      assert.equal(response.statusCode, 401);
      assert.match(String(response.headers['content-type']), /^text\/plain/);
      assert.ok(!response.body.startsWith('{'));
      assert.match(response.body, /Authentication is required/);
    }
    const json = await service.request({ method: 'GET', url: '/rbac-api/v1/users/current', headers: { accept: 'text/plain, application/json' } });
    assertError(json, 401, 'user-unauthenticated');
    const any = await service.request({ method: 'GET', url: '/rbac-api/v1/users/current', headers: { accept: '*/*' } });
    assertError(any, 401, 'user-unauthenticated');
  });

  test('an unauthenticated request is refused before its body is looked at', async () => {
    const response = await post('/rbac-api/v1/users', '{not json');
    assertError(response, 401, 'user-unauthenticated');
  });

  test('error bodies never echo the submitted password', async () => {
    const secret = 'Sup3r-secret-password-value';
    const responses = [
      await post('/rbac-api/v1/auth/token', JSON.stringify({ login: 'admin', password: secret })),
      await post('/rbac-api/v1/auth/token', JSON.stringify({ login: 'admin', password: secret, extra: 1 })),
      await post('/rbac-api/v1/auth/token', `{"login": "admin", "password": "${secret}"`),
    ];
    for (const response of responses) assert.ok(!response.body.includes(secret), response.body);
  });

  test('responses carry X-Content-Type-Options: nosniff', async () => {
    const response = await service.request({ method: 'GET', url: '/status/v1/simple' });
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
  });

  /** The service's usual headers on an error answer. */
  const assertServiceHeaders = (headers: Record<string, unknown>, where: string) => {
    assert.equal(headers['x-content-type-options'], 'nosniff', where);
    assert.equal(headers['cache-control'], 'no-store', where);
    assert.match(String(headers['x-request-id']), /^[0-9a-f-]{36}$/, where);
  };

  test("the framework's own errors (bad percent-encoding, an over-long path parameter) have the error shape and the usual headers", async () => {
    const cases = [
      '/rbac-api/v1/users/%E0%A4%A',
      '/rbac-api/v1/users/%zz',
      `/rbac-api/v1/users/${'a'.repeat(101)}`,
      `/rbac-api/v1/roles/${'1'.repeat(500)}`,
      `/rbac-api/v1/users/${'%E0%A4%A'.repeat(20)}`,
    ];
    for (const url of cases) {
      const response = await service.request({ method: 'GET', url, token });
      const body = assertError(response, 400, 'malformed-request');
      assertServiceHeaders(response.headers, url);
      assert.ok(!body.msg.includes('aaaa') && !body.msg.includes('%'), 'the path is not echoed');
    }
  });

  test('errors Node answers on the socket (a header too large, an unparsable request) have the error shape and the usual headers', async () => {
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = service.app.server.address() as AddressInfo;
    const exchange = (bytes: string) =>
      new Promise<{ status: number; headers: Record<string, string>; body: string }>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1');
        let received = '';
        socket.on('data', (chunk) => (received += chunk.toString('latin1')));
        socket.on('error', reject);
        socket.on('close', () => {
          const [head = '', body = ''] = received.split('\r\n\r\n');
          const [statusLine = '', ...lines] = head.split('\r\n');
          const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
          resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
        });
        socket.write(bytes);
      });
    const cases: [string, number, string][] = [
      [`GET /status/v1/simple HTTP/1.1\r\nHost: x\r\nX-Filler: ${'a'.repeat(64 * 1024)}\r\n\r\n`, 431, 'request-header-too-large'],
      ['HELLO WORLD\r\n\r\n', 400, 'malformed-request'],
      ['POST /rbac-api/v1/auth/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n', 400, 'malformed-request'],
    ];
    for (const [bytes, status, kind] of cases) {
      const answer = await exchange(bytes);
      assertError({ statusCode: answer.status, headers: answer.headers, body: answer.body, json: () => JSON.parse(answer.body) }, status, kind);
      assertServiceHeaders(answer.headers, kind);
    }
  });

  test('odd requests never produce a 5xx', async () => {
    const requests = [
      { method: 'POST' as const, url: '/rbac-api/v1/users', payload: '{"login": "\u0000"}', token },
      { method: 'POST' as const, url: '/rbac-api/v1/users', payload: JSON.stringify({ login: 'x'.repeat(300) }), token },
      { method: 'PUT' as const, url: '/rbac-api/v1/users/current', payload: '{}', token },
      { method: 'GET' as const, url: '/rbac-api/v1/users?token=%ZZ' },
      { method: 'GET' as const, url: `/rbac-api/v1/roles/99999999999999999999`, token },
      { method: 'POST' as const, url: '/rbac-api/v1/auth/token', payload: JSON.stringify({ login: 'admin', password: ADMIN_PASSWORD, lifetime: 1e300 }) },
      { method: 'POST' as const, url: '/rbac-api/v1/auth/token', payload: '{"login": "admin", "password": "\ud800"}' },
      { method: 'POST' as const, url: '/rbac-api/v1/auth/token', payload: '['.repeat(10000) + ']'.repeat(10000) },
    ];
    for (const { token: requestToken, ...request } of requests) {
      const response = await service.request({ ...request, ...(requestToken ? { token: requestToken } : {}), headers: { 'content-type': 'application/json' } });
      assert.ok(response.statusCode < 500, `${request.method} ${request.url}: ${response.statusCode} ${response.body}`);
    }
  });
});
