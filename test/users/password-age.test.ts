// Beyond PE (CONTRACT §15), password age: with password-maximum-age-days set,
// a local user whose password is older than that gets
// password_change_required at its next login (a token that reaches only the
// change); a change or a reset starts the clock again; remote users are not
// affected; unset, nothing ages. The service's age clock is moved forward
// (no sleeping). The reset page's holder answer, validate-password and
// `rbac users show` say so.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { runCli } from '../kit/processes.js';
import { USER_PASSWORD, startTestService, type TestService } from '../kit/service.js';
import { DIRECTORY_USERS, directorySettingsFor, startSlapd, type Slapd } from '../kit/slapd.js';
import { expectExit, storeArgs } from '../cli/support.js';
import { api } from './support.js';

const DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;
const MAXIMUM_AGE_MS = DAYS * DAY_MS;
const NEW_PASSWORD = 'a freshly chosen passphrase';
const LOCKOUT = 2;
const LOCKOUT_SECONDS = 15 * 60;

interface HolderJson {
  login: string;
  revoked_by: string | null;
  lockout_lifts_at: string | null;
  password_change_required: boolean;
  password_expired: boolean;
  password_maximum_age_days: number | null;
}

/** A service whose password-age clock the test sets, and what its tests share. */
function ageingService(dialect: 'sqlite' | 'postgres', maximumAgeDays: number | undefined) {
  let clock = Date.now();
  let service: TestService;
  const kit = {
    get service() {
      return service;
    },
    /** Sets the service's age clock. */
    setClock(at: number) {
      clock = at;
    },
    async start() {
      service = await startTestService(
        dialect,
        { ...(maximumAgeDays === undefined ? {} : { passwordMaximumAgeDays: maximumAgeDays }), failedAttemptsLockout: LOCKOUT, failedAttemptsLockoutDurationSeconds: LOCKOUT_SECONDS },
        { now: () => clock },
      );
    },
    /** When the user's password was set, as stored (its age clock). */
    async changedAt(id: string): Promise<number> {
      const row = await service.store.db.selectFrom('users').select('password_changed_at').where('id', '=', id).executeTakeFirstOrThrow();
      assert.notEqual(row.password_changed_at, null, 'the user has a password-age clock');
      return Number(row.password_changed_at);
    },
    async changeRequired(id: string): Promise<boolean> {
      const row = await service.store.db.selectFrom('users').select('password_change_required').where('id', '=', id).executeTakeFirstOrThrow();
      return row.password_change_required === 1;
    },
    /** Logs in and says what the token reaches: a full token lists users (the users are superusers), a change-only one is refused. */
    async loginReaches(login: string, password: string): Promise<'everything' | 'only the change'> {
      const token = await service.login(login, password);
      const listed = await service.request({ method: 'GET', url: api('/users'), token });
      if (listed.statusCode === 200) return 'everything';
      assertError(listed, 403, 'password-change-required');
      return 'only the change';
    },
    holder: async (token: string) => {
      const response = await service.request({ method: 'POST', url: api('/auth/reset/holder'), payload: { token } });
      assert.equal(response.statusCode, 200, response.body);
      return response.json() as HolderJson;
    },
  };
  return kit;
}

describeEachDatabase('password age (password-maximum-age-days)', (target) => {
  const kit = ageingService(target.dialect, DAYS);
  before(() => kit.start());
  after(() => kit.service?.close());
  /** A local superuser (so only the mark can refuse its token). */
  const superuser = (login: string) => kit.service.createUser(login, { role_ids: [1] });

  test('a password older than password-maximum-age-days: the next login gets a token that reaches only the change, and introspection and /permitted say so; exactly that old is not expired', async () => {
    const old = await superuser('age-old');
    const boundary = await superuser('age-boundary');
    kit.setClock((await kit.changedAt(boundary)) + MAXIMUM_AGE_MS);
    assert.equal(await kit.loginReaches('age-boundary', USER_PASSWORD), 'everything', 'a password exactly that old has not expired');
    assert.equal(await kit.changeRequired(boundary), false);

    kit.setClock((await kit.changedAt(old)) + MAXIMUM_AGE_MS + 1);
    assert.equal(await kit.changeRequired(old), false, 'nothing is marked before the login');
    const token = await kit.service.login('age-old', USER_PASSWORD);
    assertError(await kit.service.request({ method: 'GET', url: api('/roles'), token }), 403, 'password-change-required');
    assert.equal(await kit.changeRequired(old), true);
    const events = await kit.service.store.db.selectFrom('audit_events').select(['subject_id', 'details']).where('type', '=', 'login-succeeded').where('subject_id', 'in', [old, boundary]).execute();
    assert.deepEqual(
      events.map((event) => [event.subject_id, (JSON.parse(event.details) as { password_expired?: boolean }).password_expired]).sort(),
      [[boundary, undefined], [old, true]].sort(),
      'the login-succeeded event says when the password had expired',
    );
    const current = await kit.service.request({ method: 'GET', url: api('/users/current'), token });
    assert.equal(current.statusCode, 200, current.body);
    assert.equal((current.json() as { password_change_required: boolean }).password_change_required, true);
    const introspected = await kit.service.request({ method: 'POST', url: '/rbac-api/v2/auth/token/authenticate', payload: { token } });
    assert.equal((introspected.json() as { password_change_required: boolean }).password_change_required, true);
    const permitted = await kit.service.request({
      method: 'POST',
      url: api('/permitted'),
      token: await kit.service.adminToken(),
      payload: { token: old, permissions: [{ object_type: 'users', action: 'edit', instance: '*' }] },
    });
    assert.deepEqual(permitted.json(), [false]);
  });

  test('after expiry: a change-only token; changing the password makes it a full one and starts the clock again at the change', async () => {
    const id = await superuser('age-changed');
    const expiredAt = (await kit.changedAt(id)) + MAXIMUM_AGE_MS + 1;
    kit.setClock(expiredAt);
    const token = await kit.service.login('age-changed', USER_PASSWORD);
    assertError(await kit.service.request({ method: 'GET', url: api('/users'), token }), 403, 'password-change-required');
    const changed = await kit.service.request({ method: 'PUT', url: api('/users/current/password'), token, payload: { current_password: USER_PASSWORD, password: NEW_PASSWORD } });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.equal((await kit.service.request({ method: 'GET', url: api('/users'), token })).statusCode, 200, 'the same token is now a full one');
    assert.equal(await kit.changedAt(id), expiredAt, 'the clock starts again at the change');

    assert.equal(await kit.loginReaches('age-changed', NEW_PASSWORD), 'everything');
    kit.setClock(expiredAt + MAXIMUM_AGE_MS);
    assert.equal(await kit.loginReaches('age-changed', NEW_PASSWORD), 'everything', 'the new password is exactly that old: not expired');
    kit.setClock(expiredAt + MAXIMUM_AGE_MS + 1);
    assert.equal(await kit.loginReaches('age-changed', NEW_PASSWORD), 'only the change', 'the new password ages in its turn');
  });

  test('a reset by token starts the clock again and clears the mark', async () => {
    const id = await superuser('age-reset');
    const expiredAt = (await kit.changedAt(id)) + MAXIMUM_AGE_MS + 1;
    kit.setClock(expiredAt);
    assert.equal(await kit.loginReaches('age-reset', USER_PASSWORD), 'only the change');
    const reset = await kit.service.request({ method: 'POST', url: api('/auth/reset'), payload: { token: await kit.service.resetToken(id), password: NEW_PASSWORD } });
    assert.equal(reset.statusCode, 200, reset.body);
    assert.equal(await kit.changedAt(id), expiredAt, 'the clock starts again at the reset');
    assert.equal(await kit.changeRequired(id), false);
    assert.equal(await kit.loginReaches('age-reset', NEW_PASSWORD), 'everything');
  });

  test('the reset page\'s holder answer says the password expired and states the age rule; the lockout (until when) and an administrator\'s revocation too', async () => {
    const admin = await kit.service.adminToken();
    const fresh = await kit.service.createUser('age-holder-fresh');
    kit.setClock(await kit.changedAt(fresh));
    assert.deepEqual(await kit.holder(await kit.service.resetToken(fresh)), {
      login: 'age-holder-fresh',
      revoked_by: null,
      lockout_lifts_at: null,
      password_change_required: false,
      password_expired: false,
      password_maximum_age_days: DAYS,
    });

    const expired = await kit.service.createUser('age-holder-expired');
    kit.setClock((await kit.changedAt(expired)) + MAXIMUM_AGE_MS + 1);
    const before = await kit.holder(await kit.service.resetToken(expired));
    assert.equal(before.password_expired, true, 'expired before any login marks it');
    assert.equal(before.password_change_required, false);
    await kit.service.login('age-holder-expired', USER_PASSWORD);
    const marked = await kit.holder(await kit.service.resetToken(expired));
    assert.equal(marked.password_expired, true);
    assert.equal(marked.password_change_required, true);

    const locked = await kit.service.createUser('age-holder-locked');
    for (let attempt = 0; attempt < LOCKOUT; attempt++) {
      await kit.service.request({ method: 'POST', url: api('/auth/token'), payload: { login: 'age-holder-locked', password: 'not the password at all' } });
    }
    const lockedRow = await kit.service.store.db.selectFrom('users').select('locked_at').where('id', '=', locked).executeTakeFirstOrThrow();
    assert.notEqual(lockedRow.locked_at, null, 'the user is locked');
    const lockedHolder = await kit.holder(await kit.service.resetToken(locked));
    assert.equal(lockedHolder.revoked_by, 'lockout');
    assert.equal(lockedHolder.lockout_lifts_at, new Date(Number(lockedRow.locked_at) + LOCKOUT_SECONDS * 1000).toISOString());

    const revoked = await kit.service.createUser('age-holder-revoked');
    const revoke = await kit.service.request({ method: 'PUT', url: api(`/users/${revoked}`), token: admin, payload: { is_revoked: true } });
    assert.equal(revoke.statusCode, 200, revoke.body);
    const revokedHolder = await kit.holder(await kit.service.resetToken(revoked));
    assert.equal(revokedHolder.revoked_by, 'administrator');
    assert.equal(revokedHolder.lockout_lifts_at, null);
  });

  test('validate-password states the age rule and when a password set now expires, the same for an expired user and a fresh one, with a reset or a login token', async () => {
    const expired = await kit.service.createUser('age-validate-expired');
    const fresh = await kit.service.createUser('age-validate-fresh');
    const now = (await kit.changedAt(expired)) + MAXIMUM_AGE_MS + 1;
    kit.setClock(now);
    const expected = { valid: true, password_maximum_age_days: DAYS, password_expires_at: new Date(now + MAXIMUM_AGE_MS).toISOString() };
    for (const id of [expired, fresh]) {
      const answer = await kit.service.request({ method: 'POST', url: api('/command/validate-password'), payload: { password: NEW_PASSWORD, reset_token: await kit.service.resetToken(id) } });
      assert.equal(answer.statusCode, 200, answer.body);
      assert.deepEqual(answer.json(), expected);
    }
    const token = await kit.service.login('age-validate-fresh', USER_PASSWORD);
    const refused = await kit.service.request({ method: 'POST', url: api('/command/validate-password'), token, payload: { password: 'short' } });
    assert.equal(refused.statusCode, 200, refused.body);
    const body = refused.json() as Record<string, unknown>;
    assert.equal(body.valid, false);
    assert.equal(body.password_maximum_age_days, DAYS);
    assert.equal(body.password_expires_at, expected.password_expires_at);
  });

  test('rbac users show <login> says in words: password expired, password change required, locked until when, revoked by an administrator', async () => {
    const admin = await kit.service.adminToken();
    const expired = await kit.service.createUser('age-cli-expired');
    // The CLI judges age by the system clock: the password is set back instead.
    const setAt = Date.now() - MAXIMUM_AGE_MS - DAY_MS;
    await kit.service.store.db.updateTable('users').set({ password_changed_at: setAt }).where('id', '=', expired).execute();
    const show = (login: string) => runCli(['users', 'show', login, '--password-maximum-age-days', String(DAYS), '--failed-attempts-lockout-duration', '15m', ...storeArgs(kit.service.workspace)]);
    let shown = await show('age-cli-expired');
    expectExit(shown, 0, 'users show');
    assert.match(shown.stdout, new RegExp(`password expired on ${new Date(setAt + MAXIMUM_AGE_MS).toISOString()}`));
    assert.match(shown.stdout, /password expires: +\S+/);
    assert.doesNotMatch(shown.stdout, /password change required/);

    const marked = await kit.service.request({ method: 'PUT', url: api(`/users/${expired}`), token: admin, payload: { password_change_required: true } });
    assert.equal(marked.statusCode, 200, marked.body);
    shown = await show('age-cli-expired');
    assert.match(shown.stdout, /password change required/);

    const locked = await kit.service.createUser('age-cli-locked');
    for (let attempt = 0; attempt < LOCKOUT; attempt++) {
      await kit.service.request({ method: 'POST', url: api('/auth/token'), payload: { login: 'age-cli-locked', password: 'not the password at all' } });
    }
    const lockedAt = Number((await kit.service.store.db.selectFrom('users').select('locked_at').where('id', '=', locked).executeTakeFirstOrThrow()).locked_at);
    shown = await show('age-cli-locked');
    assert.match(shown.stdout, new RegExp(`state: +locked by failed logins until ${new Date(lockedAt + LOCKOUT_SECONDS * 1000).toISOString()}`));

    const revoked = await kit.service.createUser('age-cli-revoked');
    await kit.service.request({ method: 'PUT', url: api(`/users/${revoked}`), token: admin, payload: { is_revoked: true } });
    shown = await show('age-cli-revoked');
    assert.match(shown.stdout, /state: +revoked by an administrator/);
    assert.match((await show('age-cli-locked')).stdout, /kind: +local/);

    const listed = await runCli(['users', 'list', '--failed-attempts-lockout-duration', '15m', ...storeArgs(kit.service.workspace)]);
    expectExit(listed, 0, 'users list');
    assert.match(listed.stdout, /age-cli-revoked .*revoked by an administrator/);
    assert.match(listed.stdout, /age-cli-expired .*password change required/);
  });
});

describeEachDatabase('password age unset', (target) => {
  const kit = ageingService(target.dialect, undefined);
  before(() => kit.start());
  after(() => kit.service?.close());

  test('unset, nothing ages: a password set decades ago logs in with a full token; the holder answer and validate-password say nothing of age (PE\'s answer)', async () => {
    const id = await kit.service.createUser('age-off', { role_ids: [1] });
    await kit.service.store.db.updateTable('users').set({ password_changed_at: 1 }).where('id', '=', id).execute();
    kit.setClock(Date.now() + 100 * 365 * DAY_MS);
    assert.equal(await kit.loginReaches('age-off', USER_PASSWORD), 'everything');
    assert.equal(await kit.changeRequired(id), false);
    const holder = await kit.holder(await kit.service.resetToken(id));
    assert.equal(holder.password_expired, false);
    assert.equal(holder.password_maximum_age_days, null);
    const answer = await kit.service.request({ method: 'POST', url: api('/command/validate-password'), payload: { password: NEW_PASSWORD, reset_token: await kit.service.resetToken(id) } });
    assert.deepEqual(answer.json(), { valid: true });
  });
});

describe('password age and remote users', () => {
  let slapd: Slapd;
  before(async () => {
    slapd = await startSlapd();
  });
  after(() => slapd?.stop());
  const { dave } = DIRECTORY_USERS;

  describeEachDatabase('a directory user', (target) => {
    const kit = ageingService(target.dialect, DAYS);
    before(() => kit.start());
    after(() => kit.service?.close());

    test('remote users are not affected: a directory user whose row has an age clock long past the maximum logs in with a full token', async () => {
      const created = await kit.service.request({ method: 'POST', url: api('/command/ldap/create'), token: await kit.service.adminToken(), payload: directorySettingsFor(slapd) });
      assert.equal(created.statusCode, 200, created.body);
      await kit.service.login(dave.login, dave.password);
      const row = await kit.service.store.db.selectFrom('users').select(['id', 'is_remote']).where('login', '=', dave.login).executeTakeFirstOrThrow();
      assert.equal(row.is_remote, 1);
      // A clock on a remote row is not how one comes to be; set here so that only the rule's remote check can spare it.
      await kit.service.store.db.updateTable('users').set({ password_changed_at: 1 }).where('id', '=', row.id).execute();
      kit.setClock(Date.now() + 10 * MAXIMUM_AGE_MS);
      const token = await kit.service.login(dave.login, dave.password);
      assert.equal(await kit.changeRequired(row.id), false);
      const introspected = await kit.service.request({ method: 'POST', url: '/rbac-api/v2/auth/token/authenticate', payload: { token } });
      assert.equal((introspected.json() as { password_change_required: boolean }).password_change_required, false);
      // The local user beside it, with the same clock, does have to change.
      const local = await kit.service.createUser('age-local-beside', { role_ids: [1] });
      await kit.service.store.db.updateTable('users').set({ password_changed_at: 1 }).where('id', '=', local).execute();
      assert.equal(await kit.loginReaches('age-local-beside', USER_PASSWORD), 'only the change');
    });
  });
});
