// Issue 8: graceful shutdown of the real `rbac serve` on SIGTERM and SIGINT.
// Issue 28: before that close, SIGTERM's grace period (shutdown-grace-period),
// in which the status routes answer 503 and everything else is served.
// Requests in flight when the signal arrives get their normal answers (and
// `Connection: close`, so keep-alive clients let go); new connections are
// refused from the moment the signal is handled; the process exits 0.
//
// "In flight" is made certain, not left to timing: some logins send their
// headers and half their body before the signal and the rest only after the
// listener has been seen refusing connections. More logins, each an argon2id
// hash on a one-thread pool (UV_THREADPOOL_SIZE=1), are queued behind them.

import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { describe, test } from 'node:test';
import { ADMIN_PASSWORD } from '../kit/service.js';
import { spawnService } from '../kit/processes.js';

interface Answer {
  status: number;
  connection: string | undefined;
  body: string;
  /** Resolves when the client's socket is closed (the server let go of it). */
  socketClosed: Promise<void>;
}

const LOGIN_BODY = JSON.stringify({ login: 'admin', password: ADMIN_PASSWORD });

/** A login whose body is sent in two halves: `finish()` sends the second. A keep-alive agent, so only the server can close the socket. */
function login(port: number): { answer: Promise<Answer>; finish(): void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const request = http.request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/rbac-api/v1/auth/token',
    agent,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(LOGIN_BODY) },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    request.on('error', reject);
    request.on('socket', (socket) => {
      const socketClosed = new Promise<void>((closed) => socket.once('close', () => closed()));
      request.on('response', (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, connection: response.headers.connection, body, socketClosed }));
      });
    });
  });
  const half = Math.floor(LOGIN_BODY.length / 2);
  request.write(LOGIN_BODY.slice(0, half));
  return { answer, finish: () => request.end(LOGIN_BODY.slice(half)) };
}

/** Resolves once a TCP connection to the port is refused; fails after `withinMs`. */
async function refusedWithin(port: number, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
    });
    if (refused) return;
    assert.ok(Date.now() < deadline, `connections still accepted ${withinMs} ms after the signal (a bound to fail rather than hang)`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const isLoginStart = (line: { msg: string; req?: { url: string } }) => line.msg === 'incoming request' && line.req?.url === '/rbac-api/v1/auth/token';

describe('graceful shutdown of rbac serve', () => {
  test('SIGTERM: requests in flight get their answers, new connections are refused, exit code 0', async () => {
    const service = await spawnService({
      // No grace period (spawnService's default): this test is about the close itself; the grace period has its own tests below.
      extraArgs: ['--log-level', 'debug', '--failed-attempts-lockout', '1000', '--rate-limit-per-account', '0', '--rate-limit-per-address', '0'],
      env: { UV_THREADPOOL_SIZE: '1' },
    });
    try {
      // Half-sent logins: the service has them (logged) but cannot answer before the rest of the body.
      const halfSent = Array.from({ length: 4 }, () => login(service.port));
      const waitForStarts = async (count: number) => {
        const deadline = Date.now() + 10_000;
        while (service.log.filter(isLoginStart).length < count) {
          assert.ok(Date.now() < deadline, 'the service saw the logins start');
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      };
      await waitForStarts(halfSent.length);
      // Complete logins, each a hash on the single-thread pool.
      const whole = Array.from({ length: 12 }, () => {
        const pending = login(service.port);
        pending.finish();
        return pending;
      });
      await waitForStarts(halfSent.length + whole.length);

      service.child.kill('SIGTERM');
      await refusedWithin(service.port, 5_000);
      await assert.rejects(fetch(`${service.url}/status/v1/simple`), 'a new request after the signal gets no connection');

      // Only now do the half-sent requests complete their bodies.
      for (const pending of halfSent) pending.finish();
      const answers = await Promise.all([...halfSent, ...whole].map((pending) => pending.answer));
      for (const [index, answer] of answers.entries()) {
        assert.equal(answer.status, 200, `request ${index}: ${answer.body}`);
        assert.equal(typeof (JSON.parse(answer.body) as { token?: unknown }).token, 'string', 'a normal login answer');
      }
      for (const answer of answers.slice(0, halfSent.length)) {
        assert.equal(answer.connection, 'close', 'answers sent while closing end the keep-alive connection');
        await answer.socketClosed;
      }

      let timer: NodeJS.Timeout | undefined;
      const exit = await Promise.race([
        service.exited,
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no exit within 10 s; stderr: ${service.stderr()}`)), 10_000))),
      ]).finally(() => clearTimeout(timer));
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.ok(service.log.some((line) => line.msg === 'shutting down' && line.signal === 'SIGTERM'));
      const completed = service.log.filter((line) => line.msg === 'request completed' && line.res?.statusCode === 200);
      assert.ok(completed.length >= answers.length, 'every answer was logged as completed');
      assert.doesNotMatch(service.stderr(), /error/i);
    } finally {
      await service.cleanup();
    }
  });

  test('SIGINT: an idle service exits 0 without waiting for idle keep-alive connections, and stops listening', async () => {
    const service = await spawnService();
    try {
      // An idle keep-alive connection the client never closes: a service that waited
      // for it would not exit before its keep-alive timeout (72 s), and the guard below would fail.
      const idle = net.connect(service.port, '127.0.0.1');
      const idleClosed = new Promise<void>((resolve) => idle.once('close', () => resolve()));
      let answered = '';
      await new Promise<void>((resolve, reject) => {
        idle.once('error', reject);
        idle.on('data', (chunk: Buffer) => {
          answered += chunk.toString();
          if (answered.includes('running')) resolve();
        });
        idle.write('GET /status/v1/simple HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n');
      });
      assert.match(answered, /^HTTP\/1\.1 200/);
      service.child.kill('SIGINT');
      let guard: NodeJS.Timeout | undefined;
      const exited = await Promise.race([
        service.exited,
        new Promise<never>((_, reject) => (guard = setTimeout(() => reject(new Error('the service waited for the idle connection')), 30_000))),
      ]).finally(() => clearTimeout(guard));
      assert.deepEqual(exited, { code: 0, signal: null });
      await idleClosed;
      await refusedWithin(service.port, 10_000);
    } finally {
      await service.cleanup();
    }
  });

  test('SIGTERM: during shutdown-grace-period every status route answers 503 while other routes answer 200; a second SIGTERM ends it and the process exits 0', async () => {
    // A grace period far longer than the test: only the second signal can end it.
    const service = await spawnService({ extraArgs: ['--shutdown-grace-period', '10m'] });
    try {
      const login = await fetch(`${service.url}/rbac-api/v1/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: LOGIN_BODY });
      assert.equal(login.status, 200);
      const { token } = (await login.json()) as { token: string };
      const STATUS_ROUTES = ['/status/v1/simple', '/status/v1/simple/rbac-service', '/status/v1/services', '/status/v1/services/rbac-service'];
      for (const route of STATUS_ROUTES) assert.equal((await fetch(`${service.url}${route}`)).status, 200, `${route} before the signal`);

      service.child.kill('SIGTERM');
      await service.waitForLog((line) => line.msg.includes('grace period'));

      for (const route of STATUS_ROUTES) {
        const answer = await fetch(`${service.url}${route}`);
        assert.equal(answer.status, 503, `${route} during the grace period`);
        assert.equal(answer.headers.get('cache-control'), 'no-store');
      }
      const simple = (await (await fetch(`${service.url}/status/v1/simple`)).json()) as { kind: string; msg: string };
      assert.equal(simple.kind, 'service-unavailable');
      assert.match(simple.msg, /shutting down/);
      const services = (await (await fetch(`${service.url}/status/v1/services`)).json()) as Record<string, { state: string; status: { db_up: boolean } }>;
      assert.equal(services['rbac-service']?.state, 'stopping');
      assert.equal(services['rbac-service']?.status.db_up, true, 'the database still answers');

      // Everything else is served as before: a token check, a new login, a reset page asset.
      const current = await fetch(`${service.url}/rbac-api/v1/users/current`, { headers: { 'x-authentication': token } });
      assert.equal(current.status, 200);
      assert.equal(((await current.json()) as { login: string }).login, 'admin');
      const secondLogin = await fetch(`${service.url}/rbac-api/v1/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: LOGIN_BODY });
      assert.equal(secondLogin.status, 200);
      assert.equal(secondLogin.headers.get('connection'), 'keep-alive', 'connections are not closed during the grace period');
      assert.deepEqual([service.child.exitCode, service.child.signalCode], [null, null], 'still running');

      service.child.kill('SIGTERM');
      let guard: NodeJS.Timeout | undefined;
      const exited = await Promise.race([
        service.exited,
        new Promise<never>((_, reject) => (guard = setTimeout(() => reject(new Error(`no exit after the second SIGTERM; stderr: ${service.stderr()}`)), 30_000))),
      ]).finally(() => clearTimeout(guard));
      assert.deepEqual(exited, { code: 0, signal: null });
      const messages = service.log.map((line) => line.msg);
      assert.ok(messages.indexOf('closing: no new connections, finishing requests in flight') > messages.findIndex((message) => message.includes('grace period')));
      assert.doesNotMatch(service.stderr(), /error/i);
    } finally {
      await service.cleanup();
    }
  });

  test('SIGTERM: when shutdown-grace-period has passed the service closes by itself and exits 0', async () => {
    const service = await spawnService({ extraArgs: ['--shutdown-grace-period', '1s'] });
    try {
      service.child.kill('SIGTERM');
      let guard: NodeJS.Timeout | undefined;
      const exited = await Promise.race([
        service.exited,
        new Promise<never>((_, reject) => (guard = setTimeout(() => reject(new Error(`no exit after the grace period; stderr: ${service.stderr()}`)), 30_000))),
      ]).finally(() => clearTimeout(guard));
      assert.deepEqual(exited, { code: 0, signal: null }, service.output());
      const grace = service.log.find((line) => line.msg.includes('grace period'));
      assert.equal(grace?.shutdownGracePeriod, 1);
      assert.ok(service.log.some((line) => line.msg === 'closing: no new connections, finishing requests in flight'));
    } finally {
      await service.cleanup();
    }
  });
});
