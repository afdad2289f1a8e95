// Lockout (docs/operations.md, Locked-out accounts): failed password checks count; at failed-attempts-lockout
// the account is revoked; concurrent failures never get more checks than the
// setting; a revoked account is refused before any hash is computed. And the
// optional failed-attempts-lockout-duration: a lockout by failed logins lifts
// itself after that long, an administrator's revocation never does.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { hashTasksCompleted } from '../../src/passwords/hashing.js';
import { resetAdminPassword } from '../../src/users/admin-password.js';
import { atOnce } from '../kit/concurrency.js';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { USER_PASSWORD, startServiceWithAdmin, startTestService, type TestService } from '../kit/service.js';

const LIMIT = 10;

describeEachDatabase('lockout', (target) => {
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
    const counted = { ...service.hasher.counts };
    const pooled = hashTasksCompleted();
    const responses = await atOnce(50, (i) => attempt('lock-concurrent', `concurrent wrong ${i}`));
    const kinds = responses.map((response) => (response.json() as { kind: string }).kind);
    assert.ok(responses.every((response) => response.statusCode === 401 || response.statusCode === 429), 'all refused');
    assert.ok(kinds.every((kind) => ['user-unauthenticated', 'user-revoked', 'rate-limited'].includes(kind)), kinds.join(','));
    // Every kind of hashing counted, at the hasher and at the hashing threads: an extra
    // attempt let through shows up whichever way it is checked (a real or a decoy verification).
    const hashed = service.hasher.counts;
    assert.deepEqual(
      { verify: hashed.verify - counted.verify, verifyDummy: hashed.verifyDummy - counted.verifyDummy, hash: hashed.hash - counted.hash },
      { verify: LIMIT, verifyDummy: 0, hash: 0 },
      'never more checks than the setting',
    );
    assert.equal(hashTasksCompleted() - pooled, LIMIT, 'the hashing threads ran exactly as many tasks');
    assert.equal(kinds.filter((kind) => kind === 'user-unauthenticated').length, LIMIT, 'one wrong-password answer per check');
    const row = await userRow(id);
    assert.equal(row.is_revoked, 1);
    assert.equal(row.failed_attempts, LIMIT);
    const failures = await service.store.db.selectFrom('audit_events').select('id').where('subject_id', '=', id).where('type', '=', 'login-failed').execute();
    assert.equal(failures.length, LIMIT, 'one failed login recorded per check');
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

  test('without failed-attempts-lockout-duration a lockout stays, however old it is', async () => {
    assert.equal(service.config.failedAttemptsLockoutDurationSeconds, undefined);
    const id = await service.createUser('lock-stays');
    for (let i = 0; i < LIMIT; i++) await attempt('lock-stays', 'wrong password here');
    assert.notEqual((await userRow(id)).locked_at, null);
    await service.store.db.updateTable('users').set({ locked_at: Date.now() - 10 * 365 * 24 * 60 * 60 * 1000 }).where('id', '=', id).execute();
    const refused = await attempt('lock-stays', USER_PASSWORD);
    assertError(refused, 401, 'user-revoked');
    assert.equal((await userRow(id)).is_revoked, 1);
    const unrevoked = await service.store.db.selectFrom('audit_events').select('id').where('subject_id', '=', id).where('type', '=', 'account-unrevoked').execute();
    assert.equal(unrevoked.length, 0);
  });

  test('other users are unaffected by one account being locked', async () => {
    await service.createUser('lock-victim');
    await service.createUser('lock-bystander');
    for (let i = 0; i < LIMIT; i++) await attempt('lock-victim', 'wrong password here');
    assert.equal((await attempt('lock-bystander', USER_PASSWORD)).statusCode, 200);
  });
});

const HOUR_MS = 60 * 60 * 1000;

describeEachDatabase('lockout that lifts itself: failed-attempts-lockout-duration 1h', (target) => {
  let service: TestService;
  let admin: string;
  before(async () => ({ service, admin } = await startServiceWithAdmin(target.dialect, { failedAttemptsLockout: LIMIT, failedAttemptsLockoutDurationSeconds: 60 * 60 })));
  after(() => service?.close());

  const attempt = (login: string, password: string) =>
    service.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: { login, password } });
  const userRow = (id: string) => service.store.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const kindOf = (response: { json(): unknown }) => (response.json() as { kind: string }).kind;
  /** Moves the recorded lock time back: the clock as it will read `ago` ms after the lock. */
  const lockedAgo = (id: string, ago: number) => service.store.db.updateTable('users').set({ locked_at: Date.now() - ago }).where('id', '=', id).execute();
  const lockByFailures = async (login: string) => {
    for (let i = 0; i < LIMIT; i++) assert.equal((await attempt(login, `wrong password ${i}`)).statusCode, 401);
  };
  const stateOf = async (id: string) => {
    const { is_revoked, failed_attempts, locked_at } = await userRow(id);
    return { is_revoked, failed_attempts, locked_at };
  };
  const unrevokedEvents = (id: string) =>
    service.store.db.selectFrom('audit_events').selectAll().where('subject_id', '=', id).where('type', '=', 'account-unrevoked').execute();

  test('a lockout by failed logins lifts itself once failed-attempts-lockout-duration has passed, and not before; the count starts again', async () => {
    const id = await service.createUser('lift-after-duration');
    const started = Date.now();
    await lockByFailures('lift-after-duration');
    const locked = await userRow(id);
    assert.equal(locked.is_revoked, 1);
    assert.ok(locked.locked_at !== null && locked.locked_at >= started && locked.locked_at <= Date.now(), 'the lock time is recorded');

    assertError(await attempt('lift-after-duration', USER_PASSWORD), 401, 'user-revoked');
    await lockedAgo(id, HOUR_MS - 60_000);
    const verifies = service.hasher.counts.verify;
    assertError(await attempt('lift-after-duration', USER_PASSWORD), 401, 'user-revoked');
    assert.equal(service.hasher.counts.verify, verifies, 'one minute before the end: still refused before any hash');
    assert.equal((await userRow(id)).is_revoked, 1);
    assert.equal((await unrevokedEvents(id)).length, 0);

    await lockedAgo(id, HOUR_MS + 1_000);
    // After the duration, a wrong password is an ordinary failure: the first of a fresh count.
    const wrong = await attempt('lift-after-duration', 'wrong password after');
    assert.equal(kindOf(wrong), 'user-unauthenticated', wrong.body);
    const lifted = await userRow(id);
    assert.equal(lifted.is_revoked, 0);
    assert.equal(lifted.failed_attempts, 1, 'the count started again from 0');
    assert.equal(lifted.locked_at, null);
    const events = await unrevokedEvents(id);
    assert.equal(events.length, 1);
    assert.deepEqual(JSON.parse(events[0]?.details ?? '{}'), { via: 'lockout-expired' });
    assert.equal(events[0]?.actor_id, null);
    assert.equal(events[0]?.source_address, '127.0.0.1');

    assert.equal((await attempt('lift-after-duration', USER_PASSWORD)).statusCode, 200, 'the owner logs in');
    // A full set of attempts again: the limit locks it anew.
    await lockByFailures('lift-after-duration');
    assert.equal((await userRow(id)).is_revoked, 1);
    assertError(await attempt('lift-after-duration', USER_PASSWORD), 401, 'user-revoked');
  });

  test("an administrator's revocation stays after the duration", async () => {
    const id = await service.createUser('admin-revoked-stays');
    const put = await service.request({ method: 'PUT', url: `/rbac-api/v1/users/${id}`, token: admin, payload: { id, is_revoked: true } });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal((await userRow(id)).locked_at, null, 'no lock time: not a lockout');
    assertError(await attempt('admin-revoked-stays', USER_PASSWORD), 401, 'user-revoked');
    assert.equal((await userRow(id)).is_revoked, 1);

    // A lockout that an administrator then reinstates and revokes is the administrator's revocation.
    const locked = await service.createUser('locked-then-revoked');
    await lockByFailures('locked-then-revoked');
    for (const is_revoked of [false, true]) {
      const response = await service.request({ method: 'PUT', url: `/rbac-api/v1/users/${locked}`, token: admin, payload: { id: locked, is_revoked } });
      assert.equal(response.statusCode, 200, response.body);
    }
    assert.equal((await userRow(locked)).locked_at, null);
    assertError(await attempt('locked-then-revoked', USER_PASSWORD), 401, 'user-revoked');
    assert.equal((await unrevokedEvents(id)).length, 0);
  });

  test('reinstatement by an administrator or by a reset token clears the lock time', async () => {
    const id = await service.createUser('reinstated-by-admin');
    await lockByFailures('reinstated-by-admin');
    assert.notEqual((await userRow(id)).locked_at, null);
    const response = await service.request({ method: 'PUT', url: `/rbac-api/v1/users/${id}`, token: admin, payload: { id, is_revoked: false } });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(await stateOf(id), { is_revoked: 0, failed_attempts: 0, locked_at: null });

    const other = await service.createUser('reinstated-by-token');
    await lockByFailures('reinstated-by-token');
    const issued = await service.request({ method: 'POST', url: `/rbac-api/v1/users/${other}/password/reset`, token: admin });
    assert.equal(issued.statusCode, 201, issued.body);
    const reset = await service.request({ method: 'POST', url: '/rbac-api/v1/auth/reset', payload: { token: issued.body, password: 'another long passphrase' } });
    assert.equal(reset.statusCode, 200, reset.body);
    assert.deepEqual(await stateOf(other), { is_revoked: 0, failed_attempts: 0, locked_at: null });
  });

  test('concurrent logins after the lockout is over lift it once: one account-unrevoked event, every login succeeds', async () => {
    const id = await service.createUser('lift-concurrently');
    await lockByFailures('lift-concurrently');
    await lockedAgo(id, HOUR_MS + 1_000);
    const responses = await atOnce(6, () => attempt('lift-concurrently', USER_PASSWORD));
    assert.deepEqual(
      responses.map((response) => response.statusCode),
      Array<number>(6).fill(200),
      responses.map((response) => response.body).join('\n'),
    );
    assert.equal((await unrevokedEvents(id)).length, 1);
    assert.equal((await userRow(id)).is_revoked, 0);
  });

  // Last: it revokes the admin's login tokens.
  test('the admin reset script clears the lock time of a locked admin', async () => {
    const adminId = (await service.store.db.selectFrom('users').select('id').where('login', '=', 'admin').executeTakeFirstOrThrow()).id;
    await lockByFailures('admin');
    assert.notEqual((await userRow(adminId)).locked_at, null);
    // A password the admin never had: the history refuses its current one.
    await resetAdminPassword({ db: service.store.db, hasher: service.hasher, rules: service.config }, 'a fresh superuser passphrase', {
      operator: 'test',
    });
    assert.deepEqual(await stateOf(adminId), { is_revoked: 0, failed_attempts: 0, locked_at: null });
  });
});

describeEachDatabase('lockout with a 2s failed-attempts-lockout-duration (seconds, as the setting is given)', (target) => {
  let service: TestService;
  let admin: string;
  before(async () => ({ service, admin } = await startServiceWithAdmin(target.dialect, { failedAttemptsLockout: 3, failedAttemptsLockoutDurationSeconds: 2 })));
  after(() => service?.close());

  const attempt = (login: string, password: string) =>
    service.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: { login, password } });
  /** The clock as it will read `ago` ms after the lock (or the revocation): no waiting for it. */
  const lockedAgo = (id: string, ago: number) => service.store.db.updateTable('users').set({ locked_at: Date.now() - ago }).where('id', '=', id).execute();

  test('a locked user logs in again once 2 seconds have passed since the lock; an admin-revoked user stays revoked', async () => {
    const locked = await service.createUser('short-locked');
    const revoked = await service.createUser('short-revoked');
    const put = await service.request({ method: 'PUT', url: `/rbac-api/v1/users/${revoked}`, token: admin, payload: { id: revoked, is_revoked: true } });
    assert.equal(put.statusCode, 200, put.body);
    for (let i = 0; i < 3; i++) await attempt('short-locked', `wrong password ${i}`);
    assert.equal((await service.store.db.selectFrom('users').select('is_revoked').where('id', '=', locked).executeTakeFirstOrThrow()).is_revoked, 1, 'locked');
    // "Not before" is the 1h block's (a margin no load can use up); here, the seconds are seconds.
    await lockedAgo(locked, 2_100);
    assert.equal((await attempt('short-locked', USER_PASSWORD)).statusCode, 200);
    // An administrator's revocation records no lock time: nothing for the duration to lift.
    assert.equal((await service.store.db.selectFrom('users').select('locked_at').where('id', '=', revoked).executeTakeFirstOrThrow()).locked_at, null);
    assertError(await attempt('short-revoked', USER_PASSWORD), 401, 'user-revoked');
  });
});
