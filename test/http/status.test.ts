// Issue 8: PE's status service, GET /status/v1/services, with a real database
// check. 200 and state "running" while the database answers; 503 and state
// "error" — quickly, never hanging — when it refuses connections, when it is
// unreachable, or when it accepts connections and never answers; back to 200
// as soon as it answers again. The outage is made with a TCP proxy in front
// of the test PostgreSQL that the test stops, blackholes and restarts.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { defaultConfig } from '../../src/config/config.js';
import { buildApp } from '../../src/http/app.js';
import { DATABASE_CHECK_TIMEOUT_MS, DatabaseHealth, SIMPLE_CHECK_MAX_AGE_MS } from '../../src/http/database-health.js';
import { createPasswordHasher } from '../../src/passwords/hashing.js';
import { SigningKeyRing } from '../../src/password-reset/signing-keys.js';
import { openStore, type Store } from '../../src/store/database.js';
import { SERVICE_VERSION } from '../../src/version.js';
import { POSTGRES, POSTGRES_ADMIN_URL, describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { startTestService, type TestService } from '../kit/service.js';

interface ServiceStatus {
  service_version: string;
  service_status_version: number;
  detail_level: string;
  state: string;
  status: { db_up: boolean; database: { state: string; dialect: string; error?: string; response_time_ms?: number }; db_pool?: { total: number } };
  active_alerts: unknown[];
  service_name: string;
}

describeEachDatabase('GET /status/v1/services', (target) => {
  let service: TestService;
  before(async () => {
    service = await startTestService(target.dialect);
  });
  after(() => service?.close());

  test("answers 200 in PE's shape with the database running", async () => {
    const response = await service.request({ method: 'GET', url: '/status/v1/services' });
    assert.equal(response.statusCode, 200, response.body);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    const body = response.json() as Record<string, ServiceStatus>;
    assert.deepEqual(Object.keys(body), ['rbac-service']);
    const status = body['rbac-service'] as ServiceStatus;
    assert.equal(status.service_version, SERVICE_VERSION);
    assert.equal(status.service_status_version, 1);
    assert.equal(status.detail_level, 'info');
    assert.equal(status.state, 'running');
    assert.equal(status.service_name, 'rbac-service');
    assert.deepEqual(status.active_alerts, []);
    assert.equal(status.status.db_up, true);
    assert.equal(status.status.database.state, 'running');
    assert.equal(status.status.database.dialect, target.dialect);
    assert.equal(typeof status.status.database.response_time_ms, 'number');
  });

  test('one service by name, the levels, and the errors PE gives', async () => {
    const one = await service.request({ method: 'GET', url: '/status/v1/services/rbac-service?level=debug&timeout=5' });
    assert.equal(one.statusCode, 200);
    const status = one.json() as ServiceStatus;
    assert.equal(status.detail_level, 'debug');
    assert.equal(status.state, 'running');
    if (target.dialect === 'postgres') assert.ok((status.status.db_pool?.total ?? 0) >= 1, 'debug shows the pool');
    else assert.equal(status.status.db_pool, undefined);

    assert.equal((await service.request({ method: 'GET', url: '/status/v1/services?level=critical' })).statusCode, 200);
    assert.equal((await service.request({ method: 'GET', url: '/status/v1/services?level=loud' })).statusCode, 400);
    assert.equal((await service.request({ method: 'GET', url: '/status/v1/services/classifier-service' })).statusCode, 404);
  });
});

describeEachDatabase('GET /status/v1/simple', (target) => {
  let service: TestService;
  before(async () => {
    service = await startTestService(target.dialect);
  });
  after(() => service?.close());

  test('200 running while the database answers, for the service and for rbac-service by name; another name is 404', async () => {
    for (const url of ['/status/v1/simple', '/status/v1/simple/rbac-service']) {
      const response = await service.request({ method: 'GET', url });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.body, 'running');
      assert.match(String(response.headers['content-type']), /^text\/plain/);
    }
    assertError(await service.request({ method: 'GET', url: '/status/v1/simple/classifier-service' }), 404, 'not-found');
  });

  test('503 service-unavailable with the reason once the database cannot answer, for both names; 404 stays 404', async () => {
    const own = await startTestService(target.dialect);
    try {
      assert.equal((await own.request({ method: 'GET', url: '/status/v1/simple' })).statusCode, 200);
      await own.store.close();
      // The last answer is trusted for at most SIMPLE_CHECK_MAX_AGE_MS: poll past it.
      const deadline = Date.now() + SIMPLE_CHECK_MAX_AGE_MS + 5_000;
      let response = await own.request({ method: 'GET', url: '/status/v1/simple' });
      while (response.statusCode === 200 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        response = await own.request({ method: 'GET', url: '/status/v1/simple' });
      }
      const body = assertError(response, 503, 'service-unavailable');
      assert.match(body.msg, /database/);
      assertError(await own.request({ method: 'GET', url: '/status/v1/simple/rbac-service' }), 503, 'service-unavailable');
      const plain = await own.request({ method: 'GET', url: '/status/v1/simple', headers: { accept: 'text/plain' } });
      assert.equal(plain.statusCode, 503);
      assert.match(plain.body, /database/);
      assertError(await own.request({ method: 'GET', url: '/status/v1/simple/other' }), 404, 'not-found');
    } finally {
      await own.app.close();
      await own.workspace.cleanup();
    }
  });
});

test('the database check behind GET /status/v1/simple: one query however many ask at once, reused for a second, then asked again', async () => {
  let now = 1_000_000;
  let pings = 0;
  let answer: () => Promise<void> = async () => {};
  const health = new DatabaseHealth(() => (pings++, answer()), () => now);
  const many = await Promise.all(Array.from({ length: 50 }, () => health.recent(SIMPLE_CHECK_MAX_AGE_MS, DATABASE_CHECK_TIMEOUT_MS)));
  assert.equal(pings, 1, 'fifty requests at once: one query');
  assert.ok(many.every((check) => check.state === 'running'));
  now += SIMPLE_CHECK_MAX_AGE_MS - 1;
  await health.recent(SIMPLE_CHECK_MAX_AGE_MS, DATABASE_CHECK_TIMEOUT_MS);
  assert.equal(pings, 1, 'within the second: the same answer, no query');
  answer = async () => {
    throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:5432'), { code: 'ECONNREFUSED' });
  };
  now += 2;
  const failed = await health.recent(SIMPLE_CHECK_MAX_AGE_MS, DATABASE_CHECK_TIMEOUT_MS);
  assert.equal(pings, 2, 'after the second: asked again');
  assert.equal(failed.state, 'error');
  assert.doesNotMatch(failed.error ?? '', /10\.0\.0\.1|ECONNREFUSED/, 'no internals in the reason');
  // A check still pending after the timeout is answered as timed out at once, without another query.
  answer = () => new Promise(() => {});
  now += SIMPLE_CHECK_MAX_AGE_MS;
  const pending = health.recent(SIMPLE_CHECK_MAX_AGE_MS, 50);
  const hung = await pending;
  assert.match(hung.error ?? '', /did not answer within/);
  now += SIMPLE_CHECK_MAX_AGE_MS + 100;
  const again = await health.recent(SIMPLE_CHECK_MAX_AGE_MS, 50);
  assert.match(again.error ?? '', /did not answer within/);
  assert.equal(pings, 3, 'the hung query is not asked again while it is pending');
});

/** A TCP proxy to PostgreSQL that the test can stop (refuse), blackhole (accept, never answer) and restart. */
class Proxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  constructor(private readonly upstream: { host: string; port: number }) {}

  async start(mode: 'forward' | 'blackhole'): Promise<void> {
    const server = net.createServer((client) => {
      this.sockets.add(client);
      client.on('close', () => this.sockets.delete(client));
      client.on('error', () => {});
      if (mode === 'blackhole') return; // hold the connection, never answer
      const upstream = net.connect(this.upstream.port, this.upstream.host);
      this.sockets.add(upstream);
      upstream.on('close', () => this.sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** Closes the listener and cuts every connection: the database is gone. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}


describe('status when PostgreSQL goes away and comes back', { skip: POSTGRES.skip }, () => {
  const opened: { app: FastifyInstance; store: Store }[] = [];

  /** An app on a store for `url`; no migration or query happens before the first status check. */
  async function appFor(url: string): Promise<FastifyInstance> {
    const store = openStore({ dataDir: '/nonexistent', databaseUrl: url, poolSize: 2 });
    const app = await buildApp({ store, config: defaultConfig({ databaseUrl: url }), hasher: await createPasswordHasher(), keys: new SigningKeyRing(store.db), metrics: undefined, now: Date.now });
    opened.push({ app, store });
    return app;
  }

  after(async () => {
    for (const { app, store } of opened) {
      await app.close();
      await store.close();
    }
  });

  async function status(app: FastifyInstance): Promise<{ code: number; status: ServiceStatus; ms: number }> {
    const started = Date.now();
    const response = await app.inject({ method: 'GET', url: '/status/v1/services' });
    const body = response.json() as Record<string, ServiceStatus>;
    return { code: response.statusCode, status: body['rbac-service'] as ServiceStatus, ms: Date.now() - started };
  }

  /** Polls until 200: a check already in flight when the database came back may still report the outage once. */
  // A bound to fail rather than hang.
  async function recovers(app: FastifyInstance, withinMs = 60_000): Promise<ServiceStatus> {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const result = await status(app);
      if (result.code === 200) return result.status;
      assert.ok(Date.now() < deadline, `still ${result.code} after ${withinMs} ms: ${JSON.stringify(result.status)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  test('an unreachable database URL is 503 "error" at once, not a hang', async () => {
    const app = await appFor('postgres://postgres@127.0.0.1:1/x');
    const result = await status(app);
    assert.equal(result.code, 503);
    assert.equal(result.status.state, 'error');
    assert.equal(result.status.status.db_up, false);
    assert.equal(result.status.status.database.state, 'error');
    assert.equal(result.status.status.database.dialect, 'postgres');
    // Refused, not timed out: the debug answer below names the refusal, not the timeout.
    assert.ok(!JSON.stringify(result.status).includes('ECONNREFUSED'), 'the driver error code only at level=debug');
    const debug = await app.inject({ method: 'GET', url: '/status/v1/services/rbac-service?level=debug' });
    assert.equal(debug.statusCode, 503);
    assert.match((debug.json() as ServiceStatus).status.database.error ?? '', /ECONNREFUSED/);
    assert.doesNotMatch((debug.json() as ServiceStatus).status.database.error ?? '', /127\.0\.0\.1/, 'no address of the database');
  });

  test('running → refused (503) → back (200) → blackholed (503 within the timeout) → back (200)', async () => {
    const upstream = new URL(POSTGRES_ADMIN_URL);
    const proxy = new Proxy({ host: upstream.hostname, port: Number(upstream.port || 5432) });
    await proxy.start('forward');
    const url = new URL(POSTGRES_ADMIN_URL);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const app = await appFor(url.toString());
    try {
      assert.equal((await status(app)).code, 200, 'running through the proxy');

      await proxy.stop();
      const down = await status(app);
      assert.equal(down.code, 503);
      assert.equal(down.status.state, 'error');
      assert.equal(down.status.status.database.state, 'error');
      assert.doesNotMatch(down.status.status.database.error ?? '', /did not answer within/, 'refused at once, not left to time out');

      await proxy.start('forward');
      const back = await recovers(app);
      assert.equal(back.state, 'running');
      assert.equal(back.status.database.state, 'running');

      await proxy.stop();
      assert.equal((await status(app)).code, 503, 'the connection the pool held is gone');
      await proxy.start('blackhole');
      const hung = await Promise.all([status(app), status(app), status(app)]);
      for (const result of hung) {
        assert.equal(result.code, 503);
        assert.match(result.status.status.database.error ?? '', /did not answer within/);
        // Load can delay the answer, never bring the timeout forward.
        assert.ok(result.ms >= DATABASE_CHECK_TIMEOUT_MS - 100, `not before the timeout: ${result.ms} ms`);
      }

      await proxy.stop();
      await proxy.start('forward');
      assert.equal((await recovers(app)).status.db_up, true, 'recovers after the hang');
    } finally {
      await proxy.stop();
    }
  });
});
