// Rate limits on the secret-checking endpoints: per source address and per
// account, 429 rate-limited with Retry-After, configurable, and a refused
// request computes no hash. (The limiter keeps its counts in memory, so the
// database does not matter here.)

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { USER_PASSWORD, startTestService, type TestService } from './helpers/service.js';

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
