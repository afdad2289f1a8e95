// The reset page in a real browser (Debian's Chromium driven by
// playwright-core) says the account's state in words (CONTRACT §15): the
// password expired (and the age rule), a password change required, locked
// after failed logins and until when, revoked by an administrator; and with
// password-maximum-age-days set, when a password set now must be changed.
// Screenshots go to test-results/.

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

const DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;
const LOCKOUT = 2;
const NEW_PASSWORD = 'lantern harbor morning tide';

describe('reset page: the account state in words, in Chromium', { skip: missing }, () => {
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

  async function createUser(login: string): Promise<string> {
    const created = await api('POST', '/users', { login, password: USER_PASSWORD }, adminToken);
    assert.equal(created.status, 201, created.text);
    return (JSON.parse(created.text) as { id: string }).id;
  }

  async function resetLink(id: string): Promise<string> {
    const response = await fetch(`${service.url}/rbac-api/v1/users/${id}/password/reset`, { method: 'POST', headers: { 'x-authentication': adminToken, accept: 'application/json' } });
    assert.equal(response.status, 201);
    return ((await response.json()) as { url: string }).url;
  }

  /** Opens the user's reset link and returns the page once it names the holder, with the state it lists. */
  async function openFor(id: string, login: string): Promise<{ page: Page; state: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1024, height: 800 } });
    const page = await context.newPage();
    await page.goto(await resetLink(id));
    await page.waitForSelector('#holder:not([hidden])');
    assert.equal(await page.textContent('#holder-login'), login);
    const state = (await page.isVisible('#account-state')) ? await page.$$eval('#account-state li', (items) => items.map((item) => item.textContent ?? '')) : [];
    return { page, state };
  }

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    workspace = await freshWorkspace('sqlite');
    const config = defaultConfig({
      dataDir: workspace.dataDir,
      insecureHttp: true,
      port: 0,
      metricsPort: 0,
      passwordMaximumAgeDays: DAYS,
      failedAttemptsLockout: LOCKOUT,
      failedAttemptsLockoutDurationSeconds: 15 * 60,
    });
    service = await startService(config, { adminPassword: ADMIN_PASSWORD, logger: createLogger('silent') });
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

  test('an expired password: the page says it has expired and states the age rule; a password typed shows when it must be changed', async () => {
    const id = await createUser('page-expired');
    // The running service judges age by the system clock: the password is set back instead.
    await service.store.db.updateTable('users').set({ password_changed_at: Date.now() - (DAYS + 1) * DAY_MS }).where('id', '=', id).execute();
    const { page, state } = await openFor(id, 'page-expired');
    assert.deepEqual(state, [`Your password has expired: passwords must be changed every ${DAYS} days. Choose a new one below.`]);
    assert.equal(await page.textContent('#age-rule'), `Passwords expire ${DAYS} days after they are set: at the first login after that, a new one must be chosen.`);
    await page.fill('#password', NEW_PASSWORD);
    await page.waitForSelector('#expires:not([hidden])');
    assert.match((await page.textContent('#expires')) ?? '', /^If you set this password now, it must be changed by .+\.$/);
    await page.screenshot({ path: `${SCREENSHOTS}/reset-page-password-expired.png`, fullPage: true });
    await page.context().close();
  });

  test('a password change required by an administrator, a lockout with the time it lifts, a revocation by an administrator: each said in words; an active account shows nothing', async () => {
    const marked = await createUser('page-marked');
    assert.equal((await api('PUT', `/users/${marked}`, { password_change_required: true }, adminToken)).status, 200);
    let opened = await openFor(marked, 'page-marked');
    assert.deepEqual(opened.state, ['You must change your password before you can use this account. Choose a new one below.']);
    await opened.page.context().close();

    const locked = await createUser('page-locked');
    for (let attempt = 0; attempt < LOCKOUT; attempt++) await api('POST', '/auth/token', { login: 'page-locked', password: 'not the password at all' });
    opened = await openFor(locked, 'page-locked');
    assert.equal(opened.state.length, 1, opened.state.join(' | '));
    assert.match(opened.state[0] ?? '', /^This account is locked after too many failed logins, until .+\. Setting a new password unlocks it now\.$/);
    await opened.page.screenshot({ path: `${SCREENSHOTS}/reset-page-locked.png`, fullPage: true });
    await opened.page.context().close();

    const revoked = await createUser('page-revoked');
    assert.equal((await api('PUT', `/users/${revoked}`, { is_revoked: true }, adminToken)).status, 200);
    opened = await openFor(revoked, 'page-revoked');
    assert.deepEqual(opened.state, ['This account was revoked by an administrator. Setting a new password with this token reinstates it.']);
    await opened.page.context().close();

    const active = await createUser('page-active');
    opened = await openFor(active, 'page-active');
    assert.deepEqual(opened.state, []);
    assert.ok(!(await opened.page.isVisible('#account-state')));
    await opened.page.context().close();
  });
});

// Without a browser: the age rule is in the page exactly when the setting is.
describe('reset page: password-maximum-age-days', () => {
  test('unset: no age rule and no placeholder; set: the rule under the password field', async () => {
    const plain = await startTestService('sqlite');
    const ageing = await startTestService('sqlite', { passwordMaximumAgeDays: 1 });
    try {
      const without = await plain.request({ method: 'GET', url: '/auth/reset' });
      assert.equal(without.statusCode, 200);
      assert.ok(!without.body.includes('id="age-rule"') && !without.body.includes('{{AGE_RULE}}'), 'no rule, no placeholder');
      const withRule = await ageing.request({ method: 'GET', url: '/auth/reset' });
      assert.match(withRule.body, /<p id="age-rule" class="help">Passwords expire 1 day after they are set: at the first login after that, a new one must be chosen\.<\/p>/);
    } finally {
      await plain.close();
      await ageing.close();
    }
  });
});
