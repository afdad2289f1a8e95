// Changing one's own password, PUT /users/current/password: 200 with an empty body; every
// other login token of the user revoked, the calling one kept; 403 naming the
// cause for remote users and a wrong current password, which counts toward
// lockout; 400 invalid-password for the policy, checked before the current
// password; audited with the source address; passwords never echoed.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseOptions } from '@node-rs/argon2';
import { newLoginToken, storeLoginToken } from '../../src/login/login-tokens.js';
import { atOnce } from '../kit/concurrency.js';
import { describeEachDatabase } from '../kit/databases.js';
import { USER_PASSWORD, startTestService, type TestService } from '../kit/service.js';

const LIMIT = 4;
const NEW_PASSWORD = 'a fresh and different passphrase';
const URL = '/rbac-api/v1/users/current/password';

interface ErrorBody {
  kind: string;
  msg: string;
  details?: { failures?: { 'rule-identifier': string; 'friendly-error': string }[] };
}

describeEachDatabase('change own password', (target) => {
  let service: TestService;
  before(async () => {
    service = await startTestService(target.dialect, { failedAttemptsLockout: LIMIT });
  });
  after(() => service?.close());

  const change = (token: string | undefined, current_password: string, password: string) =>
    service.request({ method: 'PUT', url: URL, ...(token ? { token } : {}), payload: { current_password, password } });
  const canLogin = async (login: string, password: string) =>
    (await service.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: { login, password } })).statusCode === 200;
  const whoAmI = async (token: string) => (await service.request({ method: 'GET', url: '/rbac-api/v1/users/current', token })).statusCode;
  const userRow = (id: string) => service.store.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const eventsOf = (id: string) => service.store.db.selectFrom('audit_events').selectAll().where('subject_id', '=', id).orderBy('id').execute();

  test('200 with an empty body: the new password works, the old one no longer does', async () => {
    const id = await service.createUser('change-basic');
    const token = await service.login('change-basic', USER_PASSWORD);
    const hashBefore = (await userRow(id)).password_hash;
    const response = await change(token, USER_PASSWORD, NEW_PASSWORD);
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.body, '');
    const hashAfter = (await userRow(id)).password_hash;
    assert.ok(hashAfter !== null && hashAfter !== hashBefore);
    assert.equal(parseOptions(hashAfter).algorithm, 2, 'stored as argon2id');
    assert.ok(!hashAfter.includes(NEW_PASSWORD));
    assert.ok(await canLogin('change-basic', NEW_PASSWORD));
    assert.ok(!(await canLogin('change-basic', USER_PASSWORD)));
  });

  test('every other login token of the user is revoked; the calling token keeps working', async () => {
    const id = await service.createUser('change-tokens');
    await service.createUser('change-tokens-bystander');
    const calling = await service.login('change-tokens', USER_PASSWORD);
    const others = [await service.login('change-tokens', USER_PASSWORD), await service.login('change-tokens', USER_PASSWORD)];
    const bystander = await service.login('change-tokens-bystander', USER_PASSWORD);
    for (const token of [calling, ...others]) assert.equal(await whoAmI(token), 200);

    assert.equal((await change(calling, USER_PASSWORD, NEW_PASSWORD)).statusCode, 200);
    assert.equal(await whoAmI(calling), 200, 'the calling token still works');
    for (const token of others) assert.equal(await whoAmI(token), 401, 'other tokens are revoked');
    assert.equal(await whoAmI(bystander), 200, "another user's token is untouched");
    const live = await service.store.db.selectFrom('login_tokens').select('token_hash').where('user_id', '=', id).where('revoked_at', 'is', null).execute();
    assert.equal(live.length, 1);
  });

  test('403 permission-denied naming the cause when current_password is wrong; nothing changes', async () => {
    const id = await service.createUser('change-wrong');
    const token = await service.login('change-wrong', USER_PASSWORD);
    const other = await service.login('change-wrong', USER_PASSWORD);
    const wrong = 'not my current passphrase';
    const response = await change(token, wrong, NEW_PASSWORD);
    assert.equal(response.statusCode, 403);
    const body = response.json() as ErrorBody;
    assert.equal(body.kind, 'permission-denied');
    assert.match(body.msg, /current password/i);
    assert.ok(!response.body.includes(wrong) && !response.body.includes(NEW_PASSWORD), 'no password echoed');
    assert.ok(await canLogin('change-wrong', USER_PASSWORD), 'the password is unchanged');
    assert.ok(!(await canLogin('change-wrong', NEW_PASSWORD)));
    assert.equal(await whoAmI(other), 200, 'no token revoked by a failed change');
    assert.equal((await userRow(id)).is_revoked, 0);
  });

  test('403 permission-denied naming the cause for a remote user; no hash is computed', async () => {
    const id = await service.createUser('change-remote', { is_remote: true, password: undefined });
    // Remote users cannot log in here; give one a token directly.
    const token = newLoginToken();
    await storeLoginToken(service.store.db, id, token, Date.now() + 60_000, {});
    assert.equal(await whoAmI(token), 200);
    const before = { ...service.hasher.counts };
    const response = await change(token, USER_PASSWORD, NEW_PASSWORD);
    assert.equal(response.statusCode, 403);
    const body = response.json() as ErrorBody;
    assert.equal(body.kind, 'permission-denied');
    assert.match(body.msg, /remote|directory/i);
    assert.doesNotMatch(body.msg, /current password is incorrect/i, 'the message tells the two causes apart');
    assert.ok(!response.body.includes(NEW_PASSWORD) && !response.body.includes(USER_PASSWORD));
    assert.deepEqual(service.hasher.counts, before);
    assert.equal((await userRow(id)).password_hash, null, 'a remote user still has no local password');
  });

  test('a wrong current password counts toward lockout: at failed-attempts-lockout the account is revoked', async () => {
    const id = await service.createUser('change-lockout');
    const token = await service.login('change-lockout', USER_PASSWORD);
    for (let i = 1; i < LIMIT; i++) {
      assert.equal((await change(token, `wrong passphrase number ${i}`, NEW_PASSWORD)).statusCode, 403);
      const row = await userRow(id);
      assert.equal(row.failed_attempts, i);
      assert.equal(row.is_revoked, 0);
    }
    assert.equal((await change(token, 'wrong passphrase, the last one', NEW_PASSWORD)).statusCode, 403);
    const row = await userRow(id);
    assert.equal(row.is_revoked, 1);
    assert.equal(row.failed_attempts, LIMIT);
    assert.equal(await whoAmI(token), 401, "a revoked user's token stops working");
    const login = await service.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: { login: 'change-lockout', password: USER_PASSWORD } });
    assert.equal((login.json() as ErrorBody).kind, 'user-revoked');
    const locked = (await eventsOf(id)).filter((event) => event.type === 'account-locked');
    assert.equal(locked.length, 1);
  });

  test(`concurrent wrong current passwords: exactly ${LIMIT} checks, then revoked`, async () => {
    const id = await service.createUser('change-concurrent');
    const token = await service.login('change-concurrent', USER_PASSWORD);
    const before = service.hasher.counts.verify;
    const responses = await atOnce(20, (i) => change(token, `concurrent wrong ${i} passphrase`, NEW_PASSWORD));
    assert.ok(responses.every((response) => [401, 403, 429].includes(response.statusCode)), 'all refused');
    assert.equal(service.hasher.counts.verify - before, LIMIT, 'never more checks than the setting');
    const row = await userRow(id);
    assert.equal(row.is_revoked, 1);
    assert.equal(row.failed_attempts, LIMIT);
  });

  test('wrong current passwords and failed logins share one count', async () => {
    const id = await service.createUser('change-shared-count');
    const token = await service.login('change-shared-count', USER_PASSWORD);
    for (let i = 0; i < LIMIT - 1; i++) {
      await service.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: { login: 'change-shared-count', password: 'wrong login guess' } });
    }
    assert.equal((await userRow(id)).failed_attempts, LIMIT - 1);
    assert.equal((await change(token, 'wrong current guess', NEW_PASSWORD)).statusCode, 403);
    assert.equal((await userRow(id)).is_revoked, 1);
  });

  test('a successful change resets the failed-attempt count', async () => {
    const id = await service.createUser('change-reset-count');
    const token = await service.login('change-reset-count', USER_PASSWORD);
    for (let i = 0; i < LIMIT - 1; i++) await change(token, 'wrong passphrase again', NEW_PASSWORD);
    assert.equal((await userRow(id)).failed_attempts, LIMIT - 1);
    assert.equal((await change(token, USER_PASSWORD, NEW_PASSWORD)).statusCode, 200);
    assert.equal((await userRow(id)).failed_attempts, 0);
    assert.equal((await change(token, 'wrong passphrase again', 'one more new passphrase')).statusCode, 403);
    assert.equal((await userRow(id)).is_revoked, 0, 'a fresh set of attempts after the success');
  });

  test('400 invalid-password with details.failures for each policy rule; the password is unchanged', async () => {
    await service.createUser('change-policy');
    const token = await service.login('change-policy', USER_PASSWORD);
    const cases: [string, string[]][] = [
      ['short one', ['password-minimum-length']],
      ['x'.repeat(1025), ['password-maximum-length']],
      ['my login is change-policy!', ['contains-login']],
      ['MY LOGIN IS CHANGE-POLICY!', ['contains-login']],
      ['qwerty123456', ['common-password']],
      ['Administrator', ['common-password']],
      ['qwerty', ['common-password', 'password-minimum-length']],
      ['Change-Policy', ['contains-login']],
    ];
    for (const [password, rules] of cases) {
      const response = await change(token, USER_PASSWORD, password);
      assert.equal(response.statusCode, 400, password);
      const body = response.json() as ErrorBody;
      assert.equal(body.kind, 'invalid-password');
      assert.deepEqual(body.details?.failures?.map((failure) => failure['rule-identifier']).sort(), rules, password);
      assert.ok(!response.body.includes(password), `the body does not echo ${password.slice(0, 20)}`);
      assert.ok(!response.body.includes(USER_PASSWORD), 'nor the current password');
    }
    assert.ok(await canLogin('change-policy', USER_PASSWORD), 'no refused change took effect');
  });

  test('the policy is checked before the current password: no attempt spent, no hash computed', async () => {
    const id = await service.createUser('change-policy-first');
    const token = await service.login('change-policy-first', USER_PASSWORD);
    const before = { ...service.hasher.counts };
    for (let i = 0; i < LIMIT + 2; i++) {
      const response = await change(token, 'a wrong current passphrase', 'short');
      assert.equal(response.statusCode, 400);
      assert.equal((response.json() as ErrorBody).kind, 'invalid-password');
    }
    assert.deepEqual(service.hasher.counts, before, 'no verify and no hash ran');
    const row = await userRow(id);
    assert.equal(row.failed_attempts, 0);
    assert.equal(row.is_revoked, 0);
    assert.equal(await whoAmI(token), 200);
  });

  test('the minimum length is password-minimum-length', async () => {
    // 28: the test admin's password is exactly that long.
    const strict = await startTestService(target.dialect, { passwordMinimumLength: 28 });
    try {
      const current = 'a passphrase long enough for twenty-eight';
      await strict.createUser('change-min-length', { password: current });
      const token = await strict.login('change-min-length', current);
      const tooShort = 'twenty-seven characters, ok';
      assert.equal([...tooShort].length, 27);
      const response = await strict.request({ method: 'PUT', url: URL, token, payload: { current_password: current, password: tooShort } });
      assert.equal(response.statusCode, 400);
      assert.deepEqual((response.json() as ErrorBody).details?.failures?.map((failure) => failure['rule-identifier']), ['password-minimum-length']);
      const longEnough = `${tooShort}!`;
      const ok = await strict.request({ method: 'PUT', url: URL, token, payload: { current_password: current, password: longEnough } });
      assert.equal(ok.statusCode, 200, ok.body);
    } finally {
      await strict.close();
    }
  });

  test('NFKC: a password set in fullwidth letters logs in with its ASCII form, and the current password is compared after NFKC', async () => {
    await service.createUser('change-nfkc');
    const token = await service.login('change-nfkc', USER_PASSWORD);
    const fullwidth = 'ａ ｆｒｅｓｈ ａｎｄ ｄｉｆｆｅｒｅｎｔ ｐａｓｓｐｈｒａｓｅ';
    assert.equal(fullwidth.normalize('NFKC'), NEW_PASSWORD);
    assert.equal((await change(token, USER_PASSWORD, fullwidth)).statusCode, 200);
    assert.ok(await canLogin('change-nfkc', NEW_PASSWORD));
    assert.equal((await change(token, NEW_PASSWORD, 'yet another new passphrase')).statusCode, 200);
  });

  test('401 without authentication; the body is not echoed', async () => {
    const response = await change(undefined, USER_PASSWORD, NEW_PASSWORD);
    assert.equal(response.statusCode, 401);
    assert.equal((response.json() as ErrorBody).kind, 'user-unauthenticated');
    assert.ok(!response.body.includes(NEW_PASSWORD));
  });

  test('a wrong body shape is a schema-violation that does not echo the passwords', async () => {
    await service.createUser('change-schema');
    const token = await service.login('change-schema', USER_PASSWORD);
    for (const payload of [{ password: NEW_PASSWORD }, { current_password: USER_PASSWORD }, { current_password: USER_PASSWORD, password: NEW_PASSWORD, extra: 1 }, { current_password: USER_PASSWORD, password: 42 }]) {
      const response = await service.request({ method: 'PUT', url: URL, token, payload });
      assert.equal(response.statusCode, 400, JSON.stringify(Object.keys(payload)));
      assert.equal((response.json() as ErrorBody).kind, 'schema-violation');
      assert.ok(!response.body.includes(NEW_PASSWORD) && !response.body.includes(USER_PASSWORD));
    }
  });

  test("audited: 'password-changed' and 'login-failed' with actor, subject and source address, no passwords", async () => {
    const id = await service.createUser('change-audit');
    const token = await service.login('change-audit', USER_PASSWORD);
    const wrong = 'my wrong current passphrase';
    assert.equal((await change(token, wrong, NEW_PASSWORD)).statusCode, 403);
    assert.equal((await change(token, USER_PASSWORD, NEW_PASSWORD)).statusCode, 200);
    const events = await eventsOf(id);
    const failed = events.filter((event) => event.type === 'login-failed');
    const changed = events.filter((event) => event.type === 'password-changed');
    assert.equal(failed.length, 1);
    assert.equal(changed.length, 1);
    for (const event of [...failed, ...changed]) {
      assert.equal(event.source_address, '127.0.0.1');
      assert.equal(event.subject_id, id);
      assert.equal(event.subject_login, 'change-audit');
      assert.equal(event.actor_id, id, 'the user acted on their own account');
      assert.equal(event.actor_login, 'change-audit');
    }
    assert.equal((JSON.parse(failed[0]!.details) as { purpose?: string }).purpose, 'password-change');
    assert.ok(failed[0]!.id < changed[0]!.id);
    const all = JSON.stringify(events);
    for (const secret of [wrong, NEW_PASSWORD, USER_PASSWORD, token]) assert.ok(!all.includes(secret), 'no password or token in events');

    // And through the API, as an administrator sees them.
    const listed = await service.request({ method: 'GET', url: '/rbac-api/v1/events?limit=1000', token: await service.adminToken() });
    const mine = (listed.json() as { events: { type: string; subject: { id: string } | null; source_address: string | null }[] }).events.filter(
      (event) => event.subject?.id === id,
    );
    assert.deepEqual(
      mine.filter((event) => !['user-created', 'login-succeeded'].includes(event.type)).map((event) => [event.type, event.source_address]),
      [
        ['password-changed', '127.0.0.1'],
        ['login-failed', '127.0.0.1'],
      ],
    );
  });

  test('a refused change records no password-changed event', async () => {
    const id = await service.createUser('change-no-event');
    const token = await service.login('change-no-event', USER_PASSWORD);
    await change(token, USER_PASSWORD, 'short');
    await change(token, 'wrong current passphrase', NEW_PASSWORD);
    const events = await eventsOf(id);
    assert.equal(events.filter((event) => event.type === 'password-changed').length, 0);
  });
});
