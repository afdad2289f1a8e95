// token-inactivity-timeout (CONTRACT §10, PE's session timeout; unset by
// default): a login token not used for that long answers 403
// token-timed-out, on every authenticated route and from introspection, whose
// `timeout` shows the setting. Each use moves the token's last_active on,
// written at most once a minute (ACTIVITY_INTERVAL_MS), so the check stays the
// one statement every request already runs. Idleness is made by moving
// last_active back in the database, not by waiting.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { ACTIVITY_INTERVAL_MS } from '../../src/login/login-tokens.js';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { USER_PASSWORD, startTestService, type TestService } from '../kit/service.js';
import { V1, V2, tokenRow } from './support.js';

const TIMEOUT_SECONDS = 30 * 60;

describeEachDatabase('token inactivity timeout', (target) => {
  let service: TestService;
  let plain: TestService;
  before(async () => {
    service = await startTestService(target.dialect, { tokenInactivityTimeoutSeconds: TIMEOUT_SECONDS });
    plain = await startTestService(target.dialect);
    await service.createUser('idle');
    await plain.createUser('idle');
  });
  after(async () => {
    await service?.close();
    await plain?.close();
  });

  const idleFor = async (on: TestService, token: string, ms: number) => {
    const { id } = await tokenRow(on, token);
    await on.store.db.updateTable('login_tokens').set({ last_active: Date.now() - ms }).where('id', '=', id).execute();
  };
  const current = (on: TestService, token: string) => on.request({ method: 'GET', url: `${V1}/users/current`, token });
  const introspect = (on: TestService, token: string, update = false) =>
    on.request({ method: 'POST', url: `${V2}/auth/token/authenticate`, payload: { token, 'update_last_activity?': update } });

  describe('with the setting', () => {
    test('a token idle for longer than the timeout is 403 token-timed-out, on requests and from introspection; a fresh login works', async () => {
      const token = await service.login('idle', USER_PASSWORD);
      assert.equal((await current(service, token)).statusCode, 200);
      await idleFor(service, token, TIMEOUT_SECONDS * 1000 + 1000);
      assertError(await current(service, token), 403, 'token-timed-out');
      assertError(await service.request({ method: 'GET', url: `${V1}/roles`, token }), 403, 'token-timed-out');
      assertError(await introspect(service, token), 403, 'token-timed-out');
      assertError(await introspect(service, token, true), 403, 'token-timed-out');
      assertError(await current(service, token), 403, 'token-timed-out', );
      const fresh = await service.login('idle', USER_PASSWORD);
      assert.equal((await current(service, fresh)).statusCode, 200);
    });

    test('each use moves last_active on, written at most once a minute: a token used now and then never times out', async () => {
      const token = await service.login('idle', USER_PASSWORD);
      // Used just under the timeout ago: it works, and the use is written.
      await idleFor(service, token, TIMEOUT_SECONDS * 1000 - 5000);
      const before = Date.now();
      assert.equal((await current(service, token)).statusCode, 200);
      const moved = (await tokenRow(service, token)).last_active;
      assert.ok(moved >= before, 'the use moved last_active on');
      // Used within the last minute: nothing is written.
      await idleFor(service, token, ACTIVITY_INTERVAL_MS / 2);
      const recorded = (await tokenRow(service, token)).last_active;
      assert.equal((await current(service, token)).statusCode, 200);
      assert.equal((await tokenRow(service, token)).last_active, recorded, 'no write within the minute');
    });

    test("introspection's timeout shows the setting, in seconds", async () => {
      const token = await service.login('idle', USER_PASSWORD);
      const answer = await introspect(service, token);
      assert.equal(answer.statusCode, 200, answer.body);
      assert.equal((answer.json() as { timeout: unknown }).timeout, TIMEOUT_SECONDS);
    });
  });

  describe('without the setting (the default)', () => {
    test('a token idle for a year still works until it expires; introspection shows timeout null', async () => {
      const token = await plain.login('idle', USER_PASSWORD);
      const { id } = await tokenRow(plain, token);
      await plain.store.db.updateTable('login_tokens').set({ last_active: Date.now() - 365 * 24 * 3600 * 1000, expires_at: Date.now() + 3600 * 1000 }).where('id', '=', id).execute();
      assert.equal((await current(plain, token)).statusCode, 200);
      const answer = await introspect(plain, token);
      assert.equal(answer.statusCode, 200, answer.body);
      assert.equal((answer.json() as { timeout: unknown }).timeout, null);
    });
  });
});

test('token-inactivity-timeout is a duration of at least 5 minutes, unset by default; a shorter or bad one stops the start naming the key', () => {
  assert.equal(loadConfig({ env: {} }).tokenInactivityTimeoutSeconds, undefined);
  assert.equal(loadConfig({ env: { RBAC_TOKEN_INACTIVITY_TIMEOUT: '30m' } }).tokenInactivityTimeoutSeconds, 1800);
  assert.equal(loadConfig({ flags: { 'token-inactivity-timeout': '1h' }, env: {} }).tokenInactivityTimeoutSeconds, 3600);
  for (const bad of ['60', '4m', '0', 'soon']) {
    assert.throws(() => loadConfig({ env: { RBAC_TOKEN_INACTIVITY_TIMEOUT: bad } }), (error: unknown) => error instanceof ConfigError && error.key === 'token-inactivity-timeout');
  }
});
