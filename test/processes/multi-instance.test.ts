// Several service instances on one database behave as one
// service — a token issued by one is accepted or consumed by another, and
// lockout counts are shared. (SQLite too: two processes may share its file.)

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { atOnce } from '../kit/concurrency.js';
import { describeEachDatabase } from '../kit/databases.js';
import { ADMIN_PASSWORD, USER_PASSWORD, startTestService, type TestService } from '../kit/service.js';

const LIMIT = 4;

describeEachDatabase('two instances on one database', (target) => {
  let first: TestService;
  let second: TestService;
  before(async () => {
    first = await startTestService(target.dialect, { failedAttemptsLockout: LIMIT });
    second = await startTestService(target.dialect, { failedAttemptsLockout: LIMIT }, { workspace: first.workspace });
  });
  after(async () => {
    await second?.close();
    await first?.close();
  });

  test('they share one admin and one signing key', async () => {
    const admins = await first.store.db.selectFrom('users').select('id').where('login', '=', 'admin').execute();
    assert.equal(admins.length, 1);
    const keys = await first.store.db.selectFrom('signing_keys').select('kid').execute();
    assert.equal(keys.length, 1);
  });

  test('a login token issued by one works on the other, and revoking it on one revokes it on both', async () => {
    const token = await first.login('admin', ADMIN_PASSWORD);
    assert.equal((await second.request({ method: 'GET', url: '/rbac-api/v1/users/current', token })).statusCode, 200);
    assert.equal((await second.request({ method: 'DELETE', url: '/rbac-api/v1/tokens/current', token })).statusCode, 204);
    assert.equal((await first.request({ method: 'GET', url: '/rbac-api/v1/users/current', token })).statusCode, 401);
  });

  test('a user marked password_change_required on one is refused on the other until it changes its password there', async () => {
    const id = await first.createUser('shared-forced', { role_ids: [1] });
    const token = await second.login('shared-forced', USER_PASSWORD);
    assert.equal((await second.request({ method: 'GET', url: '/rbac-api/v1/users', token })).statusCode, 200);
    const marked = await first.request({ method: 'PUT', url: `/rbac-api/v1/users/${id}`, token: await first.adminToken(), payload: { password_change_required: true } });
    assert.equal(marked.statusCode, 200, marked.body);
    const refused = await second.request({ method: 'GET', url: '/rbac-api/v1/users', token });
    assert.equal(refused.statusCode, 403);
    assert.equal((refused.json() as { kind: string }).kind, 'password-change-required');
    const changed = await second.request({ method: 'PUT', url: '/rbac-api/v1/users/current/password', token, payload: { current_password: USER_PASSWORD, password: 'lantern harbor evening tide' } });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.equal((await first.request({ method: 'GET', url: '/rbac-api/v1/users', token })).statusCode, 200, 'the same token is a full one on the other instance');
  });

  test('a reset token issued by one is consumed by the other, once', async () => {
    const id = await first.createUser('shared-reset');
    const issued = await first.request({ method: 'POST', url: `/rbac-api/v1/users/${id}/password/reset`, token: await first.adminToken() });
    const payload = { token: issued.body, password: 'lantern harbor morning tide' };
    const [a, b] = await Promise.all([
      second.request({ method: 'POST', url: '/rbac-api/v1/auth/reset', payload }),
      first.request({ method: 'POST', url: '/rbac-api/v1/auth/reset', payload }),
    ]);
    assert.deepEqual([a.statusCode, b.statusCode].sort(), [200, 403]);
    assert.ok(await first.login('shared-reset', 'lantern harbor morning tide'));
  });

  test('lockout counts are shared: failures on both add up to one limit', async () => {
    const id = await first.createUser('shared-lockout');
    const attempt = (service: TestService, password: string) =>
      service.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: { login: 'shared-lockout', password } });
    const checksBefore = first.hasher.counts.verify + second.hasher.counts.verify;
    const responses = await atOnce(12, (i) => attempt(i % 2 ? first : second, `wrong password ${i}`));
    assert.ok(responses.every((response) => response.statusCode === 401 || response.statusCode === 429));
    const checks = first.hasher.counts.verify + second.hasher.counts.verify - checksBefore;
    assert.equal(checks, LIMIT, 'exactly the limit of password checks across both instances');
    const row = await first.store.db.selectFrom('users').select(['is_revoked', 'failed_attempts']).where('id', '=', id).executeTakeFirstOrThrow();
    assert.deepEqual(row, { is_revoked: 1, failed_attempts: LIMIT });
    const refused = await attempt(second, USER_PASSWORD);
    assert.equal((refused.json() as { kind: string }).kind, 'user-revoked');
  });
});
