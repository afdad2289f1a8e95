// Rate limits on the secret-checking endpoints: per source address and per
// account, 429 rate-limited with Retry-After, configurable, and a refused
// request computes no hash. (On SQLite the counts are in memory, on PostgreSQL
// in the database: test/http/shared-rate-limits.test.ts.)

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addressGroup } from '../../src/http/address-group.js';
import { describeEachDatabase } from '../kit/databases.js';
import { USER_PASSWORD, startTestService, type TestService } from '../kit/service.js';

function assertLimited(response: { statusCode: number; headers: Record<string, unknown>; json(): unknown }) {
  assert.equal(response.statusCode, 429);
  assert.equal((response.json() as { kind: string }).kind, 'rate-limited');
  const retryAfter = Number(response.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${String(response.headers['retry-after'])}`);
}

describe('rate limits', () => {
  let service: TestService;
  before(async () => {
    service = await startTestService('sqlite', { rateLimitPerAddress: 5, rateLimitPerAccount: 3 });
    await service.createUser('limited-user');
  });
  after(() => service?.close());

  const login = (login: string, remoteAddress: string, password = 'wrong password here') =>
    service.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: { login, password }, remoteAddress });

  test('per source address: the sixth login in a minute from one address is refused, others go on', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await login(`nobody-${i}`, '10.0.0.1')).statusCode, 401);
    const before = { ...service.hasher.counts };
    assertLimited(await login('nobody-6', '10.0.0.1'));
    assert.deepEqual(service.hasher.counts, before, 'a refused request computes no hash');
    assert.equal((await login('nobody-7', '10.0.0.2')).statusCode, 401, 'another address is not affected');
  });

  test('per account: the fourth attempt on one login in a minute is refused, from any address', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await login('limited-user', `10.1.0.${i}`)).statusCode, 401);
    assertLimited(await login('limited-user', '10.1.0.9', USER_PASSWORD));
    assertLimited(await login('LIMITED-USER', '10.1.0.10', USER_PASSWORD));
    assert.equal((await login('someone-else', '10.1.0.11')).statusCode, 401, 'another account is not affected');
  });

  test('POST /auth/reset and POST /command/validate-password are limited per address too', async () => {
    for (let i = 0; i < 5; i++) {
      const response = await service.request({ method: 'POST', url: '/rbac-api/v1/auth/reset', payload: { token: `forged-${i}`, password: 'x' }, remoteAddress: '10.2.0.1' });
      assert.equal(response.statusCode, 403);
    }
    assertLimited(await service.request({ method: 'POST', url: '/rbac-api/v1/auth/reset', payload: { token: 'forged-6', password: 'x' }, remoteAddress: '10.2.0.1' }));
    for (let i = 0; i < 5; i++) {
      await service.request({ method: 'POST', url: '/rbac-api/v1/command/validate-password', payload: { password: 'x', reset_token: `t-${i}` }, remoteAddress: '10.3.0.1' });
    }
    assertLimited(await service.request({ method: 'POST', url: '/rbac-api/v1/command/validate-password', payload: { password: 'x', reset_token: 't-6' }, remoteAddress: '10.3.0.1' }));
  });

  test('a limited client that accepts only text gets the message and still a Retry-After', async () => {
    for (let i = 0; i < 5; i++) await login(`text-${i}`, '10.4.0.1');
    const response = await service.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: { login: 'text-x', password: 'x' }, remoteAddress: '10.4.0.1', headers: { accept: 'text/plain' } });
    assert.equal(response.statusCode, 429);
    assert.match(response.body, /Too many requests/);
    assert.ok(Number(response.headers['retry-after']) >= 1);
  });

  test('an IPv6 /64 counts as one address, and an IPv4-mapped IPv6 address as its IPv4 address', async () => {
    const sameNetwork = ['2001:db8:7:1::1', '2001:db8:7:1::2', '2001:db8:7:1:ffff:ffff:ffff:ffff', '2001:DB8:7:1:0:0:0:9', '2001:db8:7:1:1234::5'];
    for (const [i, address] of sameNetwork.entries()) assert.equal((await login(`v6-${i}`, address)).statusCode, 401, address);
    assertLimited(await login('v6-x', '2001:db8:7:1:abcd::1'));
    assert.equal((await login('v6-y', '2001:db8:7:2::1')).statusCode, 401, 'the next /64 is another address');

    for (let i = 0; i < 3; i++) assert.equal((await login(`mapped-${i}`, '10.7.0.1')).statusCode, 401);
    for (let i = 3; i < 5; i++) assert.equal((await login(`mapped-${i}`, '::ffff:10.7.0.1')).statusCode, 401);
    assertLimited(await login('mapped-x', '::ffff:10.7.0.1'));
    assertLimited(await login('mapped-y', '10.7.0.1'));
  });

  test('addressGroup: IPv4 as is, IPv6 by /64, IPv4-mapped as IPv4, zone ids dropped, anything else as is', () => {
    assert.equal(addressGroup('192.0.2.1'), '192.0.2.1');
    assert.equal(addressGroup('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
    assert.equal(addressGroup('2001:0db8:0001:0002::'), '2001:db8:1:2::/64');
    assert.equal(addressGroup('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(addressGroup('fe80::1%eth0'), 'fe80::/64');
    assert.equal(addressGroup('::1'), '::/64');
    assert.equal(addressGroup('not an address'), 'not an address');
  });

  test('0 turns a limit off', async () => {
    const unlimited = await startTestService('sqlite', { rateLimitPerAddress: 0, rateLimitPerAccount: 0 });
    try {
      for (let i = 0; i < 40; i++) {
        const response = await unlimited.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: { login: 'nobody', password: 'x' }, remoteAddress: '10.5.0.1' });
        assert.equal(response.statusCode, 401);
      }
    } finally {
      await unlimited.close();
    }
  });
});

describeEachDatabase('rate limits on PUT /users/current/password', (target) => {
  let service: TestService;
  const tokens: string[] = [];
  before(async () => {
    service = await startTestService(target.dialect, { rateLimitPerAddress: 5, rateLimitPerAccount: 3 });
    for (const name of ['change-a', 'change-b', 'change-c', 'change-d']) {
      await service.createUser(name);
      tokens.push(await service.login(name, USER_PASSWORD));
    }
  });
  after(() => service?.close());

  // A wrong current password: each attempt costs a hash.
  const change = (token: string, remoteAddress: string) =>
    service.request({
      method: 'PUT',
      url: '/rbac-api/v1/users/current/password',
      token,
      payload: { current_password: 'not the current password', password: 'a brand new long passphrase' },
      remoteAddress,
    });

  test('per account: the fourth change attempt by one user in a minute is refused, from any address', async () => {
    const [a, b] = tokens as [string, string];
    for (let i = 0; i < 3; i++) assert.equal((await change(a, `10.8.0.${i}`)).statusCode, 403);
    const before = { ...service.hasher.counts };
    assertLimited(await change(a, '10.8.0.9'));
    assert.deepEqual(service.hasher.counts, before, 'a refused request computes no hash');
    assert.equal((await change(b, '10.8.0.10')).statusCode, 403, 'another user is not affected');
  });

  test('per address: the sixth change attempt in a minute from one address is refused, whoever sends it', async () => {
    const [, b, c, d] = tokens as [string, string, string, string];
    for (let i = 0; i < 2; i++) assert.equal((await change(c, `2001:db8:9:1::${i + 1}`)).statusCode, 403);
    for (let i = 0; i < 3; i++) assert.equal((await change(d, `2001:db8:9:1:${i}::1`)).statusCode, 403);
    // b has spent one of its three attempts: only the address (one /64) refuses it.
    assertLimited(await change(b, '2001:db8:9:1::99'));
    assert.equal((await change(b, '2001:db8:9:2::1')).statusCode, 403, 'from another /64 the same user goes on');
    // The token is checked first, never behind a count: a junk token is 401 even from the limited address.
    const unauthenticated = { method: 'PUT' as const, url: '/rbac-api/v1/users/current/password', token: 'junk-token-value-0123456789', payload: {} };
    assert.equal((await service.request({ ...unauthenticated, remoteAddress: '2001:db8:9:1::100' })).statusCode, 401);
  });
});
