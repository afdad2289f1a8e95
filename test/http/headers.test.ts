// Security headers over real HTTPS: HSTS, no caching of anything that
// carries a token, nosniff everywhere, a strict CSP on pages.

import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { defaultConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/http/logging.js';
import { startService, type RunningService } from '../../src/server.js';
import { freshWorkspace, type Workspace } from '../kit/databases.js';
import { ADMIN_PASSWORD } from '../kit/service.js';
import { readFileSync } from 'node:fs';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe('security headers over HTTPS', () => {
  let workspace: Workspace;
  let service: RunningService;
  let ca: string;

  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const url = new URL(path, service.url);
      const req = request(
        { hostname: 'localhost', port: url.port, path: url.pathname + url.search, method, ca, headers: { 'content-type': 'application/json', ...headers } },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        },
      );
      req.on('error', reject);
      if (body !== undefined) req.write(JSON.stringify(body));
      req.end();
    });

  before(async () => {
    workspace = await freshWorkspace('sqlite');
    // No metrics listener: test files run in parallel, and its default port is fixed.
    service = await startService(defaultConfig({ dataDir: workspace.dataDir, port: 0, metricsPort: 0, host: '127.0.0.1' }), {
      adminPassword: ADMIN_PASSWORD,
      logger: createLogger('silent'),
    });
    ca = readFileSync(service.certPath as string, 'utf8');
  });
  after(async () => {
    await service?.close();
    await workspace?.cleanup();
  });

  test('HSTS and nosniff on every response, success or error', async () => {
    for (const answer of [await call('GET', '/status/v1/simple'), await call('GET', '/rbac-api/v1/users/current'), await call('GET', '/nowhere')]) {
      assert.match(String(answer.headers['strict-transport-security']), /max-age=\d{7,}/);
      assert.equal(answer.headers['x-content-type-options'], 'nosniff');
    }
  });

  test('every response carrying a token says Cache-Control: no-store', async () => {
    const login = await call('POST', '/rbac-api/v1/auth/token', { login: 'admin', password: ADMIN_PASSWORD });
    assert.equal(login.status, 200);
    assert.equal(login.headers['cache-control'], 'no-store');
    const token = (JSON.parse(login.body) as { token: string }).token;
    const me = JSON.parse((await call('GET', '/rbac-api/v1/users/current', undefined, { 'x-authentication': token })).body) as { id: string };
    for (const accept of ['text/plain', 'application/json']) {
      const issued = await call('POST', `/rbac-api/v1/users/${me.id}/password/reset`, undefined, { 'x-authentication': token, accept });
      assert.equal(issued.status, 201);
      assert.equal(issued.headers['cache-control'], 'no-store', accept);
    }
    const page = await call('GET', '/auth/reset?token=abc');
    assert.equal(page.headers['cache-control'], 'no-store', 'the page URL may carry a token');
    const error = await call('POST', '/rbac-api/v1/auth/token', { login: 'admin', password: 'wrong password' });
    assert.equal(error.headers['cache-control'], 'no-store');
  });

  test('the reset page and its assets have a strict CSP, no referrer, no framing', async () => {
    for (const path of ['/auth/reset', '/auth/reset/app.js', '/auth/reset/style.css']) {
      const answer = await call('GET', path);
      assert.equal(answer.status, 200, path);
      const csp = String(answer.headers['content-security-policy']);
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.ok(!/unsafe-inline|unsafe-eval|https?:/.test(csp), csp);
      assert.equal(answer.headers['referrer-policy'], 'no-referrer');
      assert.equal(answer.headers['x-frame-options'], 'DENY');
    }
  });

  test('GET /favicon.ico answers 204 with no body, cached for a day, not 404', async () => {
    for (const method of ['GET', 'HEAD']) {
      const answer = await call(method, '/favicon.ico');
      assert.equal(answer.status, 204, method);
      assert.equal(answer.body, '');
      assert.equal(answer.headers['cache-control'], 'public, max-age=86400');
      assert.equal(answer.headers['x-content-type-options'], 'nosniff');
    }
  });
});
