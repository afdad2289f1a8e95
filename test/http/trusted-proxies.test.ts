// trusted-proxies: only the proxies named there may say who the client is.
// Unset, X-Forwarded-* headers are ignored (anyone could send them); set, the
// forwarded client address is what the per-address rate limit counts and what
// audit events record, and reset links follow X-Forwarded-Proto/-Host.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { describeEachDatabase } from '../kit/databases.js';
import { startTestService, type TestService } from '../kit/service.js';

const PROXY = '10.20.0.1';
const TOKEN_URL = '/rbac-api/v1/auth/token';

async function failedLoginAddresses(service: TestService, admin: string, login: string): Promise<(string | null)[]> {
  const response = await service.request({ method: 'GET', url: '/rbac-api/v1/events?limit=100', token: admin });
  assert.equal(response.statusCode, 200);
  const { events } = response.json() as { events: { type: string; subject: { login: string | null } | null; source_address: string | null }[] };
  return events.filter((event) => event.type === 'login-failed' && event.subject?.login === login).map((event) => event.source_address);
}

const wrongLogin = (service: TestService, login: string, forwardedFor: string) =>
  service.request({
    method: 'POST',
    url: TOKEN_URL,
    payload: { login, password: 'not the password at all' },
    remoteAddress: PROXY,
    headers: { 'x-forwarded-for': forwardedFor },
  });

/** The reset link for a new user, asked for through the proxy: Host is the service's internal name, X-Forwarded-* the public one. */
async function resetLinkThroughProxy(service: TestService, admin: string, login: string): Promise<string> {
  const sid = await service.createUser(login);
  const response = await service.request({
    method: 'POST',
    url: `/rbac-api/v1/users/${sid}/password/reset`,
    token: admin,
    remoteAddress: PROXY,
    headers: { host: 'rbac.internal:4433', 'x-forwarded-host': 'rbac.example.com', 'x-forwarded-proto': 'https', accept: 'application/json' },
  });
  assert.equal(response.statusCode, 201);
  return (response.json() as { url: string }).url;
}

describeEachDatabase('trusted proxies', (target) => {
  describe('unset (the default)', () => {
    let service: TestService;
    let admin: string;
    before(async () => {
      service = await startTestService(target.dialect, { rateLimitPerAddress: 3, rateLimitPerAccount: 0 });
      admin = await service.adminToken();
      await service.createUser('direct-user');
    });
    after(() => service?.close());

    test('X-Forwarded-For is ignored: events record the connecting address, and spoofed addresses share its rate limit', async () => {
      assert.equal((await wrongLogin(service, 'direct-user', '198.51.100.1')).statusCode, 401);
      assert.deepEqual(await failedLoginAddresses(service, admin, 'direct-user'), [PROXY]);
      assert.equal((await wrongLogin(service, 'direct-user', '198.51.100.2')).statusCode, 401);
      assert.equal((await wrongLogin(service, 'direct-user', '198.51.100.3')).statusCode, 401);
      assert.equal((await wrongLogin(service, 'direct-user', '198.51.100.4')).statusCode, 429, 'a new X-Forwarded-For does not buy a new allowance');
    });

    test('reset links take the Host header, not X-Forwarded-Host', async () => {
      assert.match(await resetLinkThroughProxy(service, admin, 'direct-reset'), /^http:\/\/rbac\.internal:4433\/auth\/reset\?token=/);
    });
  });

  describe(`set to ${PROXY}`, () => {
    let service: TestService;
    let admin: string;
    before(async () => {
      service = await startTestService(target.dialect, { trustedProxies: `${PROXY},loopback`, rateLimitPerAddress: 3, rateLimitPerAccount: 0 });
      admin = await service.adminToken();
      await service.createUser('proxied-user');
    });
    after(() => service?.close());

    test("the forwarded client is the source address of events and of the per-address limit", async () => {
      for (let i = 0; i < 3; i++) assert.equal((await wrongLogin(service, 'proxied-user', '198.51.100.10')).statusCode, 401);
      assert.equal((await wrongLogin(service, 'proxied-user', '198.51.100.10')).statusCode, 429, 'the fourth from one client is limited');
      assert.equal((await wrongLogin(service, 'proxied-user', '198.51.100.11')).statusCode, 401, 'another client behind the same proxy is not');
      assert.deepEqual(await failedLoginAddresses(service, admin, 'proxied-user'), ['198.51.100.11', '198.51.100.10', '198.51.100.10', '198.51.100.10']);
    });

    test('a client cannot pass itself off through the proxy: the address the trusted proxy saw is used, not one the client prepended', async () => {
      // The client sent "X-Forwarded-For: 192.0.2.66"; the proxy appended the address it saw.
      assert.equal((await wrongLogin(service, 'proxied-spoofer', '192.0.2.66, 198.51.100.20')).statusCode, 401);
      assert.deepEqual(await failedLoginAddresses(service, admin, 'proxied-spoofer'), ['198.51.100.20']);
    });

    test('an untrusted peer still cannot forward: its own address is used', async () => {
      const response = await service.request({
        method: 'POST',
        url: TOKEN_URL,
        payload: { login: 'proxied-outsider', password: 'not the password at all' },
        remoteAddress: '10.20.0.99',
        headers: { 'x-forwarded-for': '198.51.100.30' },
      });
      assert.equal(response.statusCode, 401);
      assert.deepEqual(await failedLoginAddresses(service, admin, 'proxied-outsider'), ['10.20.0.99']);
    });

    test('reset links use the X-Forwarded-Proto and -Host the proxy sends', async () => {
      assert.match(await resetLinkThroughProxy(service, admin, 'proxied-reset'), /^https:\/\/rbac\.example\.com\/auth\/reset\?token=/);
    });
  });
});

describe('trusted-proxies setting', () => {
  test('addresses, CIDR ranges and named ranges are accepted, separated by commas', () => {
    const config = loadConfig({ env: { RBAC_TRUSTED_PROXIES: ' 10.0.0.0/8, 192.0.2.1 ,::1,fd00::/8,loopback' } });
    assert.equal(config.trustedProxies, '10.0.0.0/8,192.0.2.1,::1,fd00::/8,loopback');
    assert.equal(loadConfig({ env: {} }).trustedProxies, undefined);
  });

  for (const bad of ['*', 'true', 'proxy.example.com', '10.0.0.0/33', '10.0.0.1/8/8', '::1/129', '10.0.0.1, nope', ',']) {
    test(`${JSON.stringify(bad)} stops start-up with a message naming the key`, () => {
      assert.throws(
        () => loadConfig({ env: { RBAC_TRUSTED_PROXIES: bad } }),
        (error: unknown) => error instanceof ConfigError && error.key === 'trusted-proxies',
      );
    });
  }
});
