// The reset page in a real browser (Debian's Chromium driven by
// playwright-core): the success path, a reused token, policy feedback before
// submitting, a composition rule in the help text and the failures, and
// keyboard-only use. Screenshots go to test-results/.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { defaultConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/http/logging.js';
import { startService, type RunningService } from '../../src/server.js';
import { freshWorkspace, type Workspace } from '../kit/databases.js';
import { ADMIN_PASSWORD, USER_PASSWORD, startTestService } from '../kit/service.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = 'test-results';
const missing = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`;
if (missing && process.env.CI) throw new Error(`${missing}: CI must run the browser tests`);
if (missing) process.stderr.write(`\n*** browser tests SKIPPED: ${missing} ***\n\n`);

const NEW_PASSWORD = 'lantern harbor morning tide';
/** reset-page-continue-url of the browser tests' service: an & to escape in the attribute. */
const CONTINUE_URL = 'https://console.example.com/auth/login?from=reset&next=%2F';
const LETTERS_REQUIRED = 16;


/** Waits for the page's answer and says what it was when it is not success (a bare wait for `.ok` would only time out). */
async function expectStatusOk(page: Page): Promise<void> {
  await page.waitForSelector('#status:not([hidden])');
  const status = await page.$eval('#status', (element) => ({ kind: element.className, text: element.textContent ?? '' }));
  assert.match(status.kind, /\bok\b/, `the page answered: ${status.text}`);
}

describe('reset page in Chromium', { skip: missing }, () => {
  let workspace: Workspace;
  let service: RunningService;
  let browser: Browser;
  let adminToken: string;

  const api = async (method: string, path: string, body?: unknown, token?: string) => {
    const response = await fetch(`${service.url}/rbac-api/v1${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { 'x-authentication': token } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, text: await response.text() };
  };
  const loginStatus = async (login: string, password: string) => (await api('POST', '/auth/token', { login, password })).status;

  /** A local user and a reset link for it, from the API's JSON form. */
  async function userWithResetLink(login: string): Promise<{ id: string; url: string; token: string }> {
    const created = await api('POST', '/users', { login, password: USER_PASSWORD }, adminToken);
    const { id } = JSON.parse(created.text) as { id: string };
    const response = await fetch(`${service.url}/rbac-api/v1/users/${id}/password/reset`, {
      method: 'POST',
      headers: { 'x-authentication': adminToken, accept: 'application/json' },
    });
    assert.equal(response.status, 201);
    const { token, url } = (await response.json()) as { token: string; url: string };
    return { id, token, url };
  }

  async function newPage(viewport = { width: 1024, height: 800 }): Promise<{ page: Page; foreign: string[] }> {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    const foreign: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(service.url)) foreign.push(request.url());
    });
    return { page, foreign };
  }

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    workspace = await freshWorkspace('sqlite');
    // No metrics listener: test files run in parallel, and its default port is fixed.
    // One composition rule, which every password these tests mean to succeed with meets (each has 21 letters or more).
    const config = defaultConfig({ dataDir: workspace.dataDir, insecureHttp: true, port: 0, metricsPort: 0, lettersRequired: LETTERS_REQUIRED, resetPageContinueUrl: CONTINUE_URL });
    service = await startService(config, {
      adminPassword: ADMIN_PASSWORD,
      logger: createLogger('silent'),
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    adminToken = (JSON.parse((await api('POST', '/auth/token', { login: 'admin', password: ADMIN_PASSWORD })).text) as { token: string }).token;
  });
  after(async () => {
    await browser?.close();
    await service?.close();
    await workspace?.cleanup();
  });

  test('success: the link fills the token, hides it from the address bar, and the new password works', async () => {
    const { url } = await userWithResetLink('page-success');
    assert.ok(url.includes('/auth/reset?token='), url);
    const { page, foreign } = await newPage();
    const response = await page.goto(url);
    assert.match(response?.headers()['content-security-policy'] ?? '', /default-src 'none'/);
    assert.equal(response?.headers()['cache-control'], 'no-store');
    assert.ok(!page.url().includes('token='), 'history.replaceState removed the token from the address bar');
    assert.ok(await page.isVisible('#token-loaded'));
    // Once the service has found the token usable, the page names its holder.
    await page.waitForSelector('#holder:not([hidden])');
    assert.equal(await page.textContent('#holder-login'), 'page-success');
    assert.match((await page.textContent('#holder')) ?? '', /setting the password of page-success/);
    assert.ok(!(await page.isVisible('#continue')), 'no "continue" link before success');

    await page.fill('#password', NEW_PASSWORD);
    await page.fill('#confirm', NEW_PASSWORD);
    await page.waitForSelector('#policy li.ok');
    await page.screenshot({ path: `${SCREENSHOTS}/reset-page-filled.png`, fullPage: true });
    await page.click('#submit');
    await expectStatusOk(page);
    assert.match(await page.textContent('#status') ?? '', /password has been changed/);
    assert.ok(await page.isVisible('#done'));
    // reset-page-continue-url: the way on to logging in.
    assert.ok(await page.isVisible('#continue'));
    assert.equal(await page.textContent('#continue'), 'Continue to log in');
    assert.equal(await page.getAttribute('#continue', 'href'), CONTINUE_URL);
    await page.screenshot({ path: `${SCREENSHOTS}/reset-page-success.png`, fullPage: true });

    assert.equal(await loginStatus('page-success', NEW_PASSWORD), 200);
    assert.equal(await loginStatus('page-success', USER_PASSWORD), 401, 'the old password stops working');
    assert.deepEqual(foreign, [], 'no request leaves the service');
    await page.context().close();
  });

  test('a reused token: the page says it is invalid, used or expired', async () => {
    const { token, url } = await userWithResetLink('page-reused');
    assert.equal((await api('POST', '/auth/reset', { token, password: NEW_PASSWORD })).status, 200);
    const { page } = await newPage();
    await page.goto(url);
    // Said on arrival, before anything is typed, and no holder is named.
    await page.waitForSelector('#status.error');
    assert.match(await page.textContent('#status') ?? '', /invalid, already used or expired/);
    assert.ok(!(await page.isVisible('#holder')), 'no login is shown for a spent token');
    await page.fill('#password', 'another fine passphrase');
    await page.fill('#confirm', 'another fine passphrase');
    await page.click('#submit');
    await page.waitForSelector('#status.error');
    assert.match(await page.textContent('#status') ?? '', /invalid, already used or expired/);
    await page.screenshot({ path: `${SCREENSHOTS}/reset-page-reused.png`, fullPage: true });
    assert.equal(await loginStatus('page-reused', NEW_PASSWORD), 200, 'nothing changed');
    await page.context().close();
  });

  test('policy violations are listed one by one before submitting, and nothing is spent', async () => {
    const { token, url } = await userWithResetLink('page-policy');
    const { page } = await newPage({ width: 390, height: 844 }); // a phone
    await page.goto(url);
    await page.type('#password', 'password');
    await page.waitForSelector('#policy li.bad');
    const items = await page.$$eval('#policy li.bad', (nodes) => nodes.map((node) => node.textContent ?? ''));
    assert.ok(items.some((item) => /at least 12 characters/.test(item)), items.join(' | '));
    assert.ok(items.some((item) => /commonly used/.test(item)), items.join(' | '));
    await page.screenshot({ path: `${SCREENSHOTS}/reset-page-policy-phone.png`, fullPage: true });
    // Nothing was submitted: the token still works.
    assert.equal((await api('POST', '/auth/reset', { token, password: NEW_PASSWORD })).status, 200);
    await page.context().close();
  });

  test(`letters-required ${LETTERS_REQUIRED}: the help text says it, a password short of letters is listed before submitting, and submitting shows the failure`, async () => {
    const { url } = await userWithResetLink('page-composition');
    const { page } = await newPage();
    await page.goto(url);
    assert.match((await page.textContent('#password-help')) ?? '', new RegExp(`at least ${LETTERS_REQUIRED} letters`));
    const weak = '8264 1937 5502 vbnm'; // 4 letters; long enough and not a common password
    await page.fill('#password', weak);
    const item = await page.waitForSelector('#policy li.bad[data-rule="letters-required"]');
    assert.equal(await item.textContent(), `The password must contain at least ${LETTERS_REQUIRED} letters.`);
    assert.deepEqual(await page.$$eval('#policy li', (nodes) => nodes.map((node) => node.getAttribute('data-rule'))), ['letters-required'], 'that rule alone');
    await page.fill('#confirm', weak);
    await page.click('#submit');
    await page.waitForSelector('#status.error');
    const status = (await page.textContent('#status')) ?? '';
    assert.match(status, /Choose another password/);
    assert.ok(status.includes(`The password must contain at least ${LETTERS_REQUIRED} letters.`), status);
    await page.screenshot({ path: `${SCREENSHOTS}/reset-page-composition.png`, fullPage: true });
    assert.equal(await loginStatus('page-composition', weak), 401);
    assert.equal(await loginStatus('page-composition', USER_PASSWORD), 200, 'the password did not change');
    await page.context().close();
  });

  test('keyboard only: paste the token, type both passwords, press Enter', async () => {
    const { token } = await userWithResetLink('page-keyboard');
    const { page } = await newPage();
    await page.goto(`${service.url}/auth/reset`);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'token');
    await page.keyboard.insertText(token);
    await page.waitForSelector('#holder:not([hidden])');
    assert.equal(await page.textContent('#holder-login'), 'page-keyboard', 'a pasted token names its holder too');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'token', 'naming the holder leaves the focus where it was');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'password');
    await page.keyboard.type(NEW_PASSWORD);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'toggle');
    await page.keyboard.press('Space'); // show the passwords
    assert.equal(await page.getAttribute('#password', 'type'), 'text');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'confirm');
    await page.keyboard.type(NEW_PASSWORD);
    await page.keyboard.press('Enter');
    await expectStatusOk(page);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'status', 'focus moves to the message');
    await page.screenshot({ path: `${SCREENSHOTS}/reset-page-keyboard.png`, fullPage: true });
    assert.equal(await loginStatus('page-keyboard', NEW_PASSWORD), 200);
    await page.context().close();
  });

  test('without JavaScript, or before the script runs, the form sends nothing and no password reaches a URL', async () => {
    const { url } = await userWithResetLink('page-noscript');
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    await page.goto(url);
    assert.ok(await page.getByText(/This page needs JavaScript/).isVisible(), 'the page says it needs JavaScript');
    assert.ok(await page.isDisabled('#submit'), 'the button stays disabled without the script');

    await page.fill('#password', NEW_PASSWORD);
    await page.fill('#confirm', NEW_PASSWORD);
    await page.focus('#confirm');
    await page.keyboard.press('Enter'); // implicit submission
    await page.click('#submit', { force: true });
    await page.waitForTimeout(300);
    const leaks = (address: string) => address.includes(NEW_PASSWORD) || address.includes(encodeURIComponent(NEW_PASSWORD)) || address.includes(NEW_PASSWORD.replace(/ /g, '+'));
    assert.deepEqual(requested.filter(leaks), [], 'no request URL carries the password');
    assert.ok(!leaks(page.url()), `the address bar does not carry it: ${page.url()}`);
    assert.equal(requested.filter((address) => new URL(address).pathname === '/auth/reset').length, 1, 'only the page itself was requested: nothing was submitted');
    await context.close();

    // With JavaScript, while app.js has not arrived yet.
    const { page: early } = await newPage();
    const earlyRequests: string[] = [];
    early.on('request', (request) => earlyRequests.push(request.url()));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await early.route('**/auth/reset/app.js', async (route) => {
      await held;
      await route.continue();
    });
    await early.goto(`${service.url}/auth/reset`, { waitUntil: 'commit' });
    await early.waitForSelector('#confirm');
    await early.fill('#token', 'not-a-token');
    await early.fill('#password', NEW_PASSWORD);
    await early.fill('#confirm', NEW_PASSWORD);
    await early.focus('#confirm');
    await early.keyboard.press('Enter');
    await early.click('#submit', { force: true });
    await early.waitForTimeout(300);
    release();
    await early.waitForFunction(() => !(document.getElementById('submit') as HTMLButtonElement).disabled);
    assert.deepEqual(earlyRequests.filter(leaks), [], 'no request URL carries the password before the script runs');
    assert.ok(!leaks(early.url()));
    assert.ok(!earlyRequests.some((address) => address.includes('/rbac-api/')), 'nothing was submitted');
    await early.context().close();
  });

  test('a network failure is reported as such', async () => {
    const { url } = await userWithResetLink('page-offline');
    const { page } = await newPage();
    await page.goto(url);
    await page.route('**/rbac-api/v1/auth/reset', (route) => route.abort('internetdisconnected'));
    await page.fill('#password', NEW_PASSWORD);
    await page.fill('#confirm', NEW_PASSWORD);
    await page.click('#submit');
    await page.waitForSelector('#status.error');
    assert.match(await page.textContent('#status') ?? '', /could not be reached/);
    await page.context().close();
  });

  test('a disclaimer is shown above the form as plain text: its markup is neither rendered nor run', async () => {
    const disclaimer = 'Authorized use only.\n<b>Activity</b> is logged. <img src=x onerror="alert(1)"><script>alert(2)</script>';
    assert.equal((await api('POST', '/command/config/set-disclaimer', { disclaimer }, adminToken)).status, 204);
    try {
      const { url } = await userWithResetLink('page-disclaimer');
      const { page, foreign } = await newPage();
      const dialogs: string[] = [];
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      await page.goto(url);
      assert.ok(await page.isVisible('#disclaimer'));
      assert.equal(await page.textContent('#disclaimer'), disclaimer);
      assert.equal(await page.locator('#disclaimer *').count(), 0, 'no element inside the disclaimer');
      await page.screenshot({ path: `${SCREENSHOTS}/reset-page-disclaimer.png`, fullPage: true });
      await page.fill('#password', NEW_PASSWORD);
      await page.fill('#confirm', NEW_PASSWORD);
      await page.waitForSelector('#policy li.ok');
      assert.deepEqual(dialogs, []);
      assert.deepEqual(foreign, [], 'no request leaves the service');
      await page.context().close();
    } finally {
      assert.equal((await api('POST', '/command/config/remove-disclaimer', undefined, adminToken)).status, 204);
    }
  });
});

// Without a browser: the link is in the page exactly when the setting is, its URL escaped as an attribute.
describe('reset page: reset-page-continue-url', () => {
  test('unset: no link; set: one "Continue to log in" link to it, after success only', async () => {
    const plain = await startTestService('sqlite');
    const linked = await startTestService('sqlite', { resetPageContinueUrl: CONTINUE_URL });
    try {
      const without = await plain.request({ method: 'GET', url: '/auth/reset' });
      assert.equal(without.statusCode, 200);
      assert.ok(!without.body.includes('id="continue"') && !without.body.includes('{{CONTINUE}}'), 'no link, no placeholder');
      const withLink = await linked.request({ method: 'GET', url: '/auth/reset' });
      const links = withLink.body.match(/<a id="continue" href="[^"]*">Continue to log in<\/a>/g) ?? [];
      assert.deepEqual(links, ['<a id="continue" href="https://console.example.com/auth/login?from=reset&#38;next=%2F">Continue to log in</a>']);
      const done = withLink.body.slice(withLink.body.indexOf('<div id="done" hidden>'));
      assert.ok(done.includes('id="continue"'), 'inside the part shown after success');
    } finally {
      await plain.close();
      await linked.close();
    }
  });
});
