// Issue 8: JSON logs with request ids, from the real `rbac serve`. Each
// request gets an id (a UUID, or the X-Request-ID a load balancer sent when
// it is a plain token), the response carries it back in X-Request-ID, and
// the "request completed" line (one per request at info) carries it as reqId,
// as does the "incoming request" line at debug. --log-level is obeyed (and
// beats RBAC_LOG_LEVEL).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ADMIN_PASSWORD } from '../kit/service.js';
import { spawnService, type LogLine } from '../kit/processes.js';

const JSON_BODY = { 'content-type': 'application/json' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function call(url: string, init: RequestInit = {}): Promise<{ status: number; requestId: string | null; body: string }> {
  const response = await fetch(url, init);
  return { status: response.status, requestId: response.headers.get('x-request-id'), body: await response.text() };
}

describe('request ids in the JSON log of rbac serve', () => {
  test('--log-level info: every response line carries the request id the response names', async () => {
    const service = await spawnService({ extraArgs: ['--log-level', 'info'] });
    try {
      const fromBalancer = await call(`${service.url}/status/v1/simple`, { headers: { 'x-request-id': 'lb-request-42' } });
      assert.equal(fromBalancer.status, 200);
      assert.equal(fromBalancer.requestId, 'lb-request-42', "a load balancer's id is kept");

      const failedLogin = await call(`${service.url}/rbac-api/v1/auth/token`, { method: 'POST', headers: JSON_BODY, body: JSON.stringify({ login: 'admin', password: 'wrong' }) });
      assert.equal(failedLogin.status, 401);
      assert.match(failedLogin.requestId ?? '', UUID, 'otherwise a UUID');

      const login = await call(`${service.url}/rbac-api/v1/auth/token`, { method: 'POST', headers: JSON_BODY, body: JSON.stringify({ login: 'admin', password: ADMIN_PASSWORD }) });
      const token = (JSON.parse(login.body) as { token: string }).token;
      const withToken = await call(`${service.url}/rbac-api/v1/users/current?token=${encodeURIComponent(token)}`);
      assert.equal(withToken.status, 200);

      // The reset form's fields in a hand-built query, and a token where an id belongs.
      const typed = 'a password typed into a URL 8';
      const resetPage = await call(`${service.url}/auth/reset?token=x&password=${encodeURIComponent(typed)}&confirm=${encodeURIComponent(typed)}`);
      assert.equal(resetPage.status, 200);
      const misplaced = await call(`${service.url}/rbac-api/v1/users/${token}`, { headers: { 'x-authentication': token } });
      assert.equal(misplaced.status, 400);

      const unacceptable = await call(`${service.url}/status/v1/simple`, { headers: { 'x-request-id': 'x'.repeat(200) } });
      assert.match(unacceptable.requestId ?? '', UUID, 'an over-long incoming id is replaced');

      const ids = [fromBalancer, failedLogin, login, withToken, unacceptable].map((reply) => reply.requestId as string);
      assert.equal(new Set(ids).size, ids.length, 'every request has its own id');
      for (const [index, id] of ids.entries()) {
        const completed = await service.waitForLog((line) => line.msg === 'request completed' && line.reqId === id);
        assert.equal(completed.req?.id, id, `the line of request ${index} names it`);
        assert.ok(completed.req?.method === 'GET' || completed.req?.method === 'POST', 'and its method');
        assert.equal(completed.level, 30, 'info');
        assert.equal(typeof completed.res?.statusCode, 'number');
        assert.equal(typeof completed.responseTime, 'number');
      }
      assert.equal(service.log.filter((line) => line.msg === 'incoming request').length, 0, 'one line per request at info');
      const statusOf = (id: string) => service.log.find((line) => line.msg === 'request completed' && line.reqId === id)?.res?.statusCode;
      assert.equal(statusOf(failedLogin.requestId as string), 401);
      assert.equal(statusOf(withToken.requestId as string), 200);

      service.child.kill('SIGTERM');
      assert.deepEqual(await service.exited, { code: 0, signal: null });
      const responseLines = service.log.filter((line) => line.msg === 'request completed');
      assert.ok(responseLines.length >= ids.length);
      for (const line of responseLines) assert.ok(typeof line.reqId === 'string' && line.reqId !== '', `a response line without a request id: ${JSON.stringify(line)}`);
      const text = JSON.stringify(service.log);
      assert.ok(!text.includes(token), 'the token in the query string is not logged');
      assert.ok(!text.includes(ADMIN_PASSWORD));
      assert.ok(!text.includes(encodeURIComponent(typed)) && !text.includes(typed), 'no field of the reset form is logged');
      const urlOf = (reply: { requestId: string | null }) => service.log.find((line) => line.msg === 'request completed' && line.reqId === reply.requestId)?.req?.url;
      assert.equal(urlOf(resetPage), '/auth/reset?token=[REDACTED]&password=[REDACTED]&confirm=[REDACTED]');
      assert.equal(urlOf(misplaced), '/rbac-api/v1/users/[REDACTED]');
      assert.ok(service.log.some((line: LogLine) => line.msg === 'shutting down' && line.level === 30));
    } finally {
      await service.cleanup();
    }
  });

  test('--log-level warn logs no request lines, and beats RBAC_LOG_LEVEL=info', async () => {
    const service = await spawnService({ extraArgs: ['--log-level', 'warn'], env: { RBAC_LOG_LEVEL: 'info' } });
    try {
      for (let index = 0; index < 3; index++) assert.equal((await call(`${service.url}/status/v1/simple`)).status, 200);
      assert.equal((await call(`${service.url}/rbac-api/v1/auth/token`, { method: 'POST', headers: JSON_BODY, body: '{"login": "admin", "password": "wrong"}' })).status, 401);
      service.child.kill('SIGTERM');
      assert.deepEqual(await service.exited, { code: 0, signal: null });
      assert.deepEqual(
        service.log.filter((line) => line.level < 40),
        [],
        'nothing below warn',
      );
    } finally {
      await service.cleanup();
    }
  });

  test('--log-level debug adds an incoming request line with the same id, before the completed one', async () => {
    const service = await spawnService({ extraArgs: ['--log-level', 'debug'] });
    try {
      const reply = await call(`${service.url}/status/v1/simple`, { headers: { 'x-request-id': 'debug-request-7' } });
      assert.equal(reply.status, 200);
      await service.waitForLog((line) => line.msg === 'request completed' && line.reqId === 'debug-request-7');
      const lines = service.log.filter((line) => line.reqId === 'debug-request-7').map((line) => line.msg);
      assert.deepEqual(lines, ['incoming request', 'request completed']);
      const incoming = service.log.find((line) => line.msg === 'incoming request' && line.reqId === 'debug-request-7');
      assert.equal(incoming?.level, 20, 'debug');
      assert.equal(incoming?.req?.url, '/status/v1/simple');
    } finally {
      await service.cleanup();
    }
  });
});
