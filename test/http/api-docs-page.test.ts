// The API reference page, /rbac-api/v1/docs, in a real browser (Debian's
// Chromium driven by playwright-core): Swagger UI, served by the service
// itself, renders every operation of the OpenAPI document with its example,
// under the page's strict Content-Security-Policy — no violation and no
// error in the console, no request to any other origin.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { defaultConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/http/logging.js';
import { startService, type RunningService } from '../../src/server.js';
import { SERVICE_VERSION } from '../../src/version.js';
import { freshWorkspace, type Workspace } from '../kit/databases.js';
import { ADMIN_PASSWORD } from '../kit/service.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = 'test-results';
const missing = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`;
if (missing && process.env.CI) throw new Error(`${missing}: CI must run the browser tests`);
if (missing) process.stderr.write(`\n*** browser tests SKIPPED: ${missing} ***\n\n`);

describe('API reference page in Chromium', { skip: missing }, () => {
  let workspace: Workspace;
  let service: RunningService;
  let browser: Browser;

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    workspace = await freshWorkspace('sqlite');
    service = await startService(defaultConfig({ dataDir: workspace.dataDir, insecureHttp: true, port: 0, metricsPort: 0 }), {
      adminPassword: ADMIN_PASSWORD,
      logger: createLogger('silent'),
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  });
  after(async () => {
    await browser?.close();
    await service?.close();
    await workspace?.cleanup();
  });

  test('the page at / names the service and its version, and its links lead to the reference and the status route', async () => {
    const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => problems.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    const response = await page.goto(`${service.url}/`);
    assert.equal(response?.status(), 200);
    assert.match(response?.headers()['content-type'] ?? '', /^text\/html/);
    assert.match(response?.headers()['content-security-policy'] ?? '', /default-src 'none'/);
    assert.equal(await page.textContent('#version'), SERVICE_VERSION);
    assert.match(await page.title(), new RegExp(`RBAC service ${SERVICE_VERSION.replace(/\./g, '\\.')}`));
    await page.screenshot({ path: `${SCREENSHOTS}/landing-page.png` });

    await Promise.all([page.waitForURL(`${service.url}/status/v1/simple`), page.click('#status')]);
    assert.equal((await page.textContent('body'))?.trim(), 'running');
    await page.goBack();
    await Promise.all([page.waitForURL(`${service.url}/rbac-api/v1/docs**`), page.click('#reference')]);
    await page.waitForSelector('.opblock-summary');
    assert.deepEqual(problems, [], 'no error or CSP violation in the console');
    await context.close();
  });

  test('renders every operation of the document, with no CSP violation, no console error and nothing from elsewhere', async () => {
    const openapi = (await (await fetch(`${service.url}/rbac-api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(openapi.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
    assert.ok(operations.length >= 40, `the document has the operations (${operations.length})`);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    const foreign: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning' || /Content Security Policy/i.test(message.text())) problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('request', (request) => {
      if (!request.url().startsWith(service.url) && !request.url().startsWith('data:')) foreign.push(request.url());
    });
    const response = await page.goto(`${service.url}/rbac-api/v1/docs`);
    assert.equal(response?.status(), 200);
    const csp = response?.headers()['content-security-policy'] ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);

    await page.waitForSelector('.opblock-summary');
    const shown = await page.$$eval('.opblock-summary', (nodes) =>
      nodes.map((node) => `${node.querySelector('.opblock-summary-method')?.textContent?.trim()} ${node.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`),
    );
    assert.deepEqual([...shown].sort(), [...operations].sort(), 'every operation of the document is on the page');

    // Open one operation: its example request body is shown.
    await page.click('[id$="-post_rbac_api_v1_auth_token"] .opblock-summary');
    await page.waitForSelector('[id$="-post_rbac_api_v1_auth_token"] .opblock-body');
    const example = await page.textContent('[id$="-post_rbac_api_v1_auth_token"] .opblock-body');
    assert.match(example ?? '', /"login": "admin"/, 'the login example is shown');
    await page.screenshot({ path: `${SCREENSHOTS}/api-docs-page.png`, fullPage: false });

    assert.deepEqual(problems, [], 'no CSP violation or error in the console');
    assert.deepEqual(foreign, [], 'no request leaves the service');
    // Control: the CSP is enforced and its violations do reach the console this test listens to.
    const violation = page.waitForEvent('console', { predicate: (message) => /Content Security Policy/i.test(message.text()) });
    await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.injected = true';
      document.head.append(script);
    });
    assert.match((await violation).text(), /Content Security Policy/, 'the violation is reported in the console');
    assert.equal(await page.evaluate(() => (window as unknown as { injected?: boolean }).injected), undefined, 'an inline script does not run');
    await context.close();
  });
});
