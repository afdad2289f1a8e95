// Issue 8: Prometheus metrics on a separate listener (127.0.0.1, metrics-port),
// in a registry per service. Real requests over HTTP — good and bad logins, a
// lockout, a reset token issued, used and rejected — then /metrics is scraped
// over HTTP and the counters must have moved by exactly what was done, with
// route patterns (never raw URLs, tokens or ids) in the labels. On SQLite and
// PostgreSQL (which adds the connection pool gauges).

import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { defaultConfig, loadConfig, type Config } from '../../src/config/config.js';
import { createLogger } from '../../src/http/logging.js';
import { startService, type RunningService } from '../../src/server.js';
import { describeEachDatabase, freshWorkspace, type Workspace } from '../kit/databases.js';
import { freePort } from '../kit/processes.js';
import { ADMIN_PASSWORD, USER_PASSWORD } from '../kit/service.js';

async function configFor(workspace: Workspace, overrides: Partial<Config> = {}): Promise<Config> {
  return defaultConfig({
    dataDir: workspace.dataDir,
    databaseUrl: workspace.databaseUrl,
    insecureHttp: true,
    port: 0,
    metricsPort: await freePort(),
    failedAttemptsLockout: 3,
    rateLimitPerAddress: 0,
    rateLimitPerAccount: 0,
    ...overrides,
  });
}

const silent = createLogger('silent');

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus' text format (enough of it for these metrics). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `a well-formed sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key as string] = value as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of a metric's samples whose labels include `labels`. */
function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}

async function scrape(service: RunningService): Promise<{ text: string; samples: Sample[]; contentType: string }> {
  assert.ok(service.metricsUrl, 'the metrics listener is running');
  const response = await fetch(service.metricsUrl);
  assert.equal(response.status, 200);
  const text = await response.text();
  return { text, samples: parseExposition(text), contentType: response.headers.get('content-type') ?? '' };
}

async function api(service: RunningService, method: string, path: string, options: { token?: string; json?: unknown; accept?: string } = {}) {
  const headers: Record<string, string> = { accept: options.accept ?? 'application/json' };
  if (options.token) headers['x-authentication'] = options.token;
  if (options.json !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${service.url}${path}`, { method, headers, body: options.json === undefined ? undefined : JSON.stringify(options.json) });
  return { status: response.status, body: await response.text() };
}

async function loginToken(service: RunningService, login: string, password: string): Promise<string> {
  const response = await api(service, 'POST', '/rbac-api/v1/auth/token', { json: { login, password } });
  assert.equal(response.status, 200, response.body);
  return (JSON.parse(response.body) as { token: string }).token;
}

describeEachDatabase('metrics', (target) => {
  let workspace: Workspace;
  let service: RunningService;

  before(async () => {
    workspace = await freshWorkspace(target.dialect);
    service = await startService(await configFor(workspace), { logger: silent, adminPassword: ADMIN_PASSWORD });
  });
  after(async () => {
    await service?.close();
    await workspace?.cleanup();
  });

  test('logins, a lockout and a reset token issued, used and rejected move their counters; labels carry no token or id', async () => {
    assert.match(service.metricsUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+\/metrics$/, 'bound to loopback by default');
    const before = (await scrape(service)).samples;

    const admin = await loginToken(service, 'admin', ADMIN_PASSWORD);
    const created = await api(service, 'POST', '/rbac-api/v1/users', {
      token: admin,
      json: { login: 'metrics-user', email: 'm@example.com', display_name: 'M', password: USER_PASSWORD },
    });
    assert.equal(created.status, 201, created.body);
    const userId = (JSON.parse(created.body) as { id: string }).id;
    await loginToken(service, 'metrics-user', USER_PASSWORD);

    // Three wrong passwords: three failed logins, the third locks the account (failed-attempts-lockout 3).
    for (let attempt = 0; attempt < 3; attempt++) {
      assert.equal((await api(service, 'POST', '/rbac-api/v1/auth/token', { json: { login: 'metrics-user', password: 'wrong password' } })).status, 401);
    }
    assert.equal((await api(service, 'POST', '/rbac-api/v1/auth/token', { json: { login: 'metrics-user', password: USER_PASSWORD } })).status, 401, 'locked');
    // An unknown login fails too, with its own reason.
    assert.equal((await api(service, 'POST', '/rbac-api/v1/auth/token', { json: { login: 'nobody-here', password: 'wrong password' } })).status, 401);

    // A reset token: issued, rejected (forged, then spent), used.
    const issued = await api(service, 'POST', `/rbac-api/v1/users/${userId}/password/reset`, { token: admin, accept: 'text/plain' });
    assert.equal(issued.status, 201, issued.body);
    const resetToken = issued.body;
    assert.equal((await api(service, 'POST', '/rbac-api/v1/auth/reset', { json: { token: `${resetToken}x`, password: 'lantern harbor morning tide' } })).status, 403);
    assert.equal((await api(service, 'POST', '/rbac-api/v1/auth/reset', { json: { token: resetToken, password: 'lantern harbor morning tide' } })).status, 200);
    assert.equal((await api(service, 'POST', '/rbac-api/v1/auth/reset', { json: { token: resetToken, password: 'quiet river stone garden' } })).status, 403);

    // Tokens and ids in URLs must not become labels.
    assert.equal((await api(service, 'GET', `/rbac-api/v1/users/current?token=${encodeURIComponent(admin)}`)).status, 200);
    assert.equal((await api(service, 'GET', `/rbac-api/v1/users/${userId}`, { token: admin })).status, 200);
    assert.equal((await api(service, 'GET', `/auth/reset?token=${encodeURIComponent(resetToken)}`, { accept: 'text/html' })).status, 200);
    assert.equal((await api(service, 'GET', `/no/such/${admin}`)).status, 404);

    const { text, samples, contentType } = await scrape(service);
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    const moved = (name: string, labels: Record<string, string> = {}) => total(samples, name, labels) - total(before, name, labels);

    assert.equal(moved('rbac_logins_failed_total', { purpose: 'login', reason: 'wrong-password' }), 3);
    assert.equal(moved('rbac_logins_failed_total', { purpose: 'login', reason: 'unknown-login' }), 1);
    assert.equal(moved('rbac_accounts_locked_total'), 1);
    assert.equal(moved('rbac_reset_tokens_issued_total'), 1);
    assert.equal(moved('rbac_reset_tokens_used_total'), 1);
    assert.equal(moved('rbac_reset_tokens_rejected_total'), 2);
    assert.equal(moved('rbac_reset_tokens_rejected_total', { reason: 'bad-signature-or-expired' }), 1);
    assert.equal(moved('rbac_security_events_total', { type: 'login-failed' }), 4);
    assert.equal(moved('rbac_security_events_total', { type: 'user-created' }), 1);

    const login = { method: 'POST', route: '/rbac-api/v1/auth/token' };
    assert.equal(moved('rbac_http_requests_total', { ...login, status_code: '200' }), 2);
    assert.equal(moved('rbac_http_requests_total', { ...login, status_code: '401' }), 5);
    assert.equal(moved('rbac_http_request_duration_seconds_count', { ...login, status_code: '401' }), 5);
    assert.ok(moved('rbac_http_request_duration_seconds_sum', { ...login, status_code: '200' }) > 0, 'latency is recorded');
    assert.equal(moved('rbac_http_requests_total', { method: 'GET', route: '/rbac-api/v1/users/:sid', status_code: '200' }), 1);
    assert.equal(moved('rbac_http_requests_total', { method: 'GET', route: '/rbac-api/v1/users/current', status_code: '200' }), 1);
    assert.equal(moved('rbac_http_requests_total', { method: 'GET', route: '/auth/reset', status_code: '200' }), 1);
    assert.equal(moved('rbac_http_requests_total', { method: 'GET', route: 'unmatched', status_code: '404' }), 1);

    // argon2id: logins verify (the unknown login spends a dummy check), the reset and user creation hash.
    assert.ok(moved('rbac_password_hash_duration_seconds_count', { operation: 'verify' }) >= 5);
    assert.equal(moved('rbac_password_hash_duration_seconds_count', { operation: 'verify-dummy' }), 1);
    assert.ok(moved('rbac_password_hash_duration_seconds_count', { operation: 'hash' }) >= 2);
    assert.ok(moved('rbac_password_hash_duration_seconds_sum', { operation: 'verify' }) > 0);

    for (const secret of [admin, resetToken, userId, ADMIN_PASSWORD, USER_PASSWORD]) {
      assert.ok(!text.includes(secret), 'no token, password or user id anywhere in the metrics');
    }
    const routes = new Set(samples.filter((sample) => sample.name === 'rbac_http_requests_total').map((sample) => sample.labels.route));
    for (const route of routes) {
      assert.ok(route === 'unmatched' || (route?.startsWith('/') && !route.includes('?')), `route label ${route} is a pattern`);
      assert.doesNotMatch(route ?? '', /[0-9a-f]{8}-[0-9a-f]{4}-/, 'no id in a route label');
    }

    const pool = total(samples, 'rbac_db_pool_connections');
    if (target.dialect === 'postgres') {
      assert.ok(pool >= 1, 'the pool gauge reads the pg pool');
      assert.ok(samples.some((sample) => sample.name === 'rbac_db_pool_waiting_requests'));
      assert.ok(samples.some((sample) => sample.name === 'rbac_db_pool_idle_connections'));
    } else {
      assert.ok(!samples.some((sample) => sample.name.startsWith('rbac_db_pool_')), 'SQLite has no pool');
    }
    assert.ok(samples.some((sample) => sample.name === 'process_cpu_user_seconds_total'), 'process metrics are there too');
  });

  test('/metrics is not served on the API port, and the listener serves nothing else', async () => {
    assert.equal((await api(service, 'GET', '/metrics')).status, 404);
    const other = await fetch((service.metricsUrl ?? '').replace(/\/metrics$/, '/rbac-api/v1/users'));
    assert.equal(other.status, 404);
    await other.text();
  });
});

describe('metrics per service', () => {
  test('two services in one process count separately; close() stops the listener; metrics-port 0 runs none', async () => {
    const first = await freshWorkspace('sqlite');
    const second = await freshWorkspace('sqlite');
    const a = await startService(await configFor(first), { logger: silent, adminPassword: ADMIN_PASSWORD });
    const b = await startService(await configFor(second), { logger: silent, adminPassword: ADMIN_PASSWORD });
    try {
      assert.notEqual(a.metricsUrl, b.metricsUrl);
      for (let attempt = 0; attempt < 2; attempt++) {
        assert.equal((await api(a, 'POST', '/rbac-api/v1/auth/token', { json: { login: 'admin', password: 'wrong password' } })).status, 401);
      }
      assert.equal(total((await scrape(a)).samples, 'rbac_logins_failed_total'), 2);
      assert.equal(total((await scrape(b)).samples, 'rbac_logins_failed_total'), 0, "the other service's failures are not counted here");
      assert.equal(total((await scrape(b)).samples, 'rbac_http_requests_total', { route: '/rbac-api/v1/auth/token' }), 0);
    } finally {
      await b.close();
    }
    const url = a.metricsUrl as string;
    await a.close();
    await assert.rejects(fetch(url), 'the metrics listener is closed with the service');

    const none = await startService(await configFor(first, { metricsPort: 0 }), { logger: silent });
    try {
      assert.equal(none.metricsUrl, undefined);
    } finally {
      await none.close();
      await first.cleanup();
      await second.cleanup();
    }
  });
});

/** GET on the metrics listener with a chosen Host header (fetch does not let a caller set it). */
function getWithHost(metricsUrl: string, host: string): Promise<{ status: number; body: string }> {
  const url = new URL(metricsUrl);
  return new Promise((resolve, reject) => {
    const call = httpRequest({ hostname: url.hostname, port: url.port, path: url.pathname, headers: { host }, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    call.on('error', reject);
    call.end();
  });
}

describe('metrics listener and the Host header', () => {
  test('answers only an IP literal, localhost or a name in metrics-allowed-hosts as Host; anything else is 403 (DNS rebinding)', async () => {
    const workspace = await freshWorkspace('sqlite');
    const service = await startService(await configFor(workspace, { metricsAllowedHosts: 'metrics.internal.example,prom-host' }), { logger: silent, adminPassword: ADMIN_PASSWORD });
    try {
      const metricsUrl = service.metricsUrl as string;
      const port = new URL(metricsUrl).port;
      const allowed = ['127.0.0.1', `127.0.0.1:${port}`, '10.1.2.3:80', 'localhost', `LocalHost:${port}`, '[::1]', `[::1]:${port}`, '[2001:db8::5]:9464', 'metrics.internal.example', `METRICS.internal.example:${port}`, 'prom-host'];
      for (const host of allowed) {
        const answer = await getWithHost(metricsUrl, host);
        assert.equal(answer.status, 200, host);
        assert.match(answer.body, /rbac_/, host);
      }
      const refused = [
        'evil.example',
        `evil.example:${port}`,
        '127.0.0.1.evil.example',
        'localhost.evil.example',
        'internal.example',
        'metrics.internal.example.evil',
        '::1',
        '[evil.example]',
        '[127.0.0.1]',
        'evil.example@127.0.0.1',
        '127.0.0.1:9464:1',
      ];
      for (const host of refused) {
        const answer = await getWithHost(metricsUrl, host);
        assert.equal(answer.status, 403, JSON.stringify(host));
        assert.doesNotMatch(answer.body, /rbac_/, 'no metrics in the refusal');
      }
      // No Host at all (HTTP/1.0 allows that): refused too.
      const noHost = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1');
        let received = '';
        socket.on('data', (chunk) => (received += chunk.toString('latin1')));
        socket.on('error', reject);
        socket.on('close', () => resolve(received));
        socket.write('GET /metrics HTTP/1.0\r\n\r\n');
      });
      assert.match(noHost, /^HTTP\/1\.\d 403 /);
    } finally {
      await service.close();
      await workspace.cleanup();
    }
  });

  test('metrics-allowed-hosts takes host names only', () => {
    assert.equal(loadConfig({ env: { RBAC_METRICS_ALLOWED_HOSTS: ' Prom.Example , other ' } }).metricsAllowedHosts, 'prom.example,other');
    assert.equal(loadConfig({ env: {} }).metricsAllowedHosts, undefined, 'default: none beyond IP literals and localhost');
    for (const bad of ['prom.example:9464', 'http://prom.example', 'a b', '*.example', ',']) {
      assert.throws(() => loadConfig({ env: { RBAC_METRICS_ALLOWED_HOSTS: bad } }), /metrics-allowed-hosts/, bad);
    }
  });
});
