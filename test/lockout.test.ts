// CONTRACT §4, lockout: failed password checks count; at failed-attempts-lockout
// the account is revoked; concurrent failures never get more checks than the
// setting; a revoked account is refused before any hash is computed.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DATABASES } from './helpers/databases.js';
import { USER_PASSWORD, startTestService, type TestService } from './helpers/service.js';

const LIMIT = 10;

for (const target of DATABASES) {
  describe(`lockout [${target.dialect}]`, { skip: target.skip }, () => {
    let service: TestService;
    before(async () => {
      service = await startTestService(target.dialect, { failedAttemptsLockout: LIMIT });
    });
    after(() => service?.close());

    const attempt = (login: string, password: string) =>
      service.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: { login, password } });
    const userRow = (id: string) => service.store.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

    test('each failure counts; the one that reaches the limit revokes the account', async () => {
      const id = await service.createUser('lock-sequential');
      for (let i = 1; i < LIMIT; i++) {
        assert.equal((await attempt('lock-sequential', `wrong password ${i}`)).statusCode, 401);
        const row = await userRow(id);
        assert.equal(row.failed_attempts, i);
        assert.equal(row.is_revoked, 0, `still active after ${i} failures`);
      }
      assert.equal((await attempt('lock-sequential', 'wrong password last')).statusCode, 401);
      assert.equal((await userRow(id)).is_revoked, 1);

      const refused = await attempt('lock-sequential', USER_PASSWORD);
      assert.equal(refused.statusCode, 401, 'even the right password is refused once revoked');
      assert.equal((refused.json() as { kind: string }).kind, 'user-revoked');
    });

    test('a revoked account is refused with user-revoked before any hash is computed', async () => {
      const id = await service.createUser('lock-nohash');
      await service.store.db.updateTable('users').set({ is_revoked: 1 }).where('id', '=', id).execute();
      const before = { ...service.hasher.counts };
      for (let i = 0; i < 20; i++) {
        const response = await attempt('lock-nohash', i % 2 ? USER_PASSWORD : 'wrong guess');
        assert.equal(response.statusCode, 401);
        assert.equal((response.json() as { kind: string }).kind, 'user-revoked');
      }
      assert.deepEqual(service.hasher.counts, before, 'no hash, verify or dummy verify ran');
    });

    test(`50 concurrent wrong logins: exactly ${LIMIT} password checks, then revoked at ${LIMIT}`, async () => {
      const id = await service.createUser('lock-concurrent');
      const before = service.hasher.counts.verify;
      const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => attempt('lock-concurrent', `concurrent wrong ${i}`)));
      assert.ok(responses.every((response) => response.statusCode === 401 || response.statusCode === 429), 'all refused');
      assert.ok(responses.every((response) => ['user-unauthenticated', 'user-revoked', 'rate-limited'].includes((response.json() as { kind: string }).kind)));
      assert.equal(service.hasher.counts.verify - before, LIMIT, 'never more checks than the setting');
      const row = await userRow(id);
      assert.equal(row.is_revoked, 1);
      assert.equal(row.failed_attempts, LIMIT);
    });

    test('a successful login resets the count', async () => {
      const id = await service.createUser('lock-reset');
      for (let i = 0; i < LIMIT - 1; i++) await attempt('lock-reset', 'wrong password here');
      assert.equal((await userRow(id)).failed_attempts, LIMIT - 1);
      assert.equal((await attempt('lock-reset', USER_PASSWORD)).statusCode, 200);
      assert.equal((await userRow(id)).failed_attempts, 0);
      for (let i = 0; i < LIMIT - 1; i++) await attempt('lock-reset', 'wrong password again');
      assert.equal((await userRow(id)).is_revoked, 0, 'a fresh set of attempts after the success');
    });

    test("locking revokes every login token of the user", async () => {
      await service.createUser('lock-tokens');
      const token = await service.login('lock-tokens', USER_PASSWORD);
      assert.equal((await service.request({ method: 'GET', url: '/rbac-api/v1/users/current', token })).statusCode, 200);
      for (let i = 0; i < LIMIT; i++) await attempt('lock-tokens', 'wrong password here');
      const response = await service.request({ method: 'GET', url: '/rbac-api/v1/users/current', token });
      assert.equal(response.statusCode, 401);
      // Un-revoking does not bring old tokens back.
      await service.store.db.updateTable('users').set({ is_revoked: 0, failed_attempts: 0 }).where('login', '=', 'lock-tokens').execute();
      assert.equal((await service.request({ method: 'GET', url: '/rbac-api/v1/users/current', token })).statusCode, 401);
    });

    test('failures and the lock are audited with the source address', async () => {
      const id = await service.createUser('lock-audit');
      for (let i = 0; i < LIMIT; i++) await attempt('lock-audit', 'wrong password here');
      const events = await service.store.db.selectFrom('audit_events').selectAll().where('subject_id', '=', id).orderBy('id').execute();
      assert.equal(events.filter((event) => event.type === 'login-failed').length, LIMIT);
      assert.equal(events.filter((event) => event.type === 'account-locked').length, 1);
      assert.ok(events.every((event) => event.source_address === '127.0.0.1'));
      assert.ok(events.every((event) => !event.details.includes('wrong password')), 'no password in audit details');
    });

    test('other users are unaffected by one account being locked', async () => {
      await service.createUser('lock-victim');
      await service.createUser('lock-bystander');
      for (let i = 0; i < LIMIT; i++) await attempt('lock-victim', 'wrong password here');
      assert.equal((await attempt('lock-bystander', USER_PASSWORD)).statusCode, 200);
    });
  });
}
