// Beyond PE (CONTRACT §15), lockout state: user objects carry failed_attempts,
// locked_at, lockout_lifts_at and revoked_by beside PE's keys, on every read
// of a user, in the account-locked event and in `rbac users show`; a PUT of
// the whole GET object is accepted (the read-only keys ignored); the
// password-age clock (password_changed_at) is kept per user.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeEachDatabase } from '../kit/databases.js';
import { runCli } from '../kit/processes.js';
import { USER_PASSWORD, startTestService, type TestService } from '../kit/service.js';
import { expireIdle } from '../../src/store/users.js';
import { expectExit, storeArgs } from '../cli/support.js';
import { api } from './support.js';

const LOCKOUT = 3;
const DURATION_SECONDS = 15 * 60;

interface StateJson {
  id: string;
  login: string;
  email: string;
  is_revoked: boolean;
  failed_attempts: number;
  locked_at: string | null;
  lockout_lifts_at: string | null;
  revoked_by: string | null;
  password_change_required: boolean;
}

const state = (user: StateJson) => ({
  is_revoked: user.is_revoked,
  failed_attempts: user.failed_attempts,
  locked_at: user.locked_at,
  lockout_lifts_at: user.lockout_lifts_at,
  revoked_by: user.revoked_by,
});

describeEachDatabase('account state', (target) => {
  let service: TestService;
  let admin: string;
  before(async () => {
    service = await startTestService(target.dialect, { failedAttemptsLockout: LOCKOUT, failedAttemptsLockoutDurationSeconds: DURATION_SECONDS });
    admin = await service.adminToken();
  });
  after(() => service?.close());

  const wrongLogin = (login: string) => service.request({ method: 'POST', url: api('/auth/token'), payload: { login, password: 'not the password at all' } });
  const getUser = async (id: string) => (await service.request({ method: 'GET', url: api(`/users/${id}`), token: admin })).json() as StateJson;
  const everyRead = async (id: string) => {
    const list = (await service.request({ method: 'GET', url: api('/users'), token: admin })).json() as StateJson[];
    const page = (await service.request({ method: 'GET', url: `/rbac-api/v2/users?filter=${list.find((user) => user.id === id)?.login}`, token: admin })).json() as { users: StateJson[] };
    return { one: await getUser(id), listed: list.find((user) => user.id === id), paged: page.users.find((user) => user.id === id) };
  };

  test('failed_attempts counts failed checks since the last success, on GET /users/:sid, GET /users, GET /v2/users and GET /users/current', async () => {
    const id = await service.createUser('state-counting');
    const fresh = { is_revoked: false, failed_attempts: 0, locked_at: null, lockout_lifts_at: null, revoked_by: null };
    assert.deepEqual(state(await getUser(id)), fresh);
    await wrongLogin('state-counting');
    await wrongLogin('state-counting');
    const reads = await everyRead(id);
    for (const [where, user] of Object.entries(reads)) assert.deepEqual(user && state(user), { ...fresh, failed_attempts: 2 }, where);

    const token = await service.login('state-counting', USER_PASSWORD);
    assert.equal((await getUser(id)).failed_attempts, 0, 'a success starts the count again');
    await wrongLogin('state-counting');
    const current = (await service.request({ method: 'GET', url: api('/users/current'), token })).json() as StateJson;
    assert.deepEqual(state(current), { ...fresh, failed_attempts: 1 });
  });

  test('a lockout by failed logins shows locked_at, lockout_lifts_at (locked_at + the lockout duration) and revoked_by lockout, also in the account-locked event', async () => {
    const id = await service.createUser('state-locked');
    for (let attempt = 0; attempt < LOCKOUT; attempt++) await wrongLogin('state-locked');
    const reads = await everyRead(id);
    const locked = reads.one;
    assert.equal(locked.is_revoked, true);
    assert.equal(locked.revoked_by, 'lockout');
    assert.equal(locked.failed_attempts, LOCKOUT);
    assert.ok(locked.locked_at !== null && Math.abs(Date.parse(locked.locked_at) - Date.now()) < 60_000, `locked_at ${locked.locked_at}`);
    assert.equal(locked.lockout_lifts_at, new Date(Date.parse(locked.locked_at) + DURATION_SECONDS * 1000).toISOString());
    assert.deepEqual(reads.listed && state(reads.listed), state(locked));
    assert.deepEqual(reads.paged && state(reads.paged), state(locked));

    const event = await service.store.db.selectFrom('audit_events').select('details').where('type', '=', 'account-locked').where('subject_id', '=', id).executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(event.details), { failed_attempts: LOCKOUT, locked_at: locked.locked_at, lockout_lifts_at: locked.lockout_lifts_at, revoked_by: 'lockout' });

    // Reinstated by an administrator: the state is clear again.
    const reinstated = await service.request({ method: 'PUT', url: api(`/users/${id}`), token: admin, payload: { ...locked, is_revoked: false } });
    assert.equal(reinstated.statusCode, 200, reinstated.body);
    assert.deepEqual(state(reinstated.json() as StateJson), { is_revoked: false, failed_attempts: 0, locked_at: null, lockout_lifts_at: null, revoked_by: null });
  });

  test('without a lockout duration, lockout_lifts_at is null: nothing lifts the lockout', async () => {
    const other = await startTestService(target.dialect, { failedAttemptsLockout: 1 });
    try {
      const id = await other.createUser('state-forever');
      await other.request({ method: 'POST', url: api('/auth/token'), payload: { login: 'state-forever', password: 'not the password at all' } });
      const user = (await other.request({ method: 'GET', url: api(`/users/${id}`), token: await other.adminToken() })).json() as StateJson;
      assert.equal(user.revoked_by, 'lockout');
      assert.notEqual(user.locked_at, null);
      assert.equal(user.lockout_lifts_at, null);
    } finally {
      await other.close();
    }
  });

  test('revoked_by says administrator for an administrator\'s revocation and expiry for account expiry', async () => {
    const id = await service.createUser('state-admin');
    const revoked = await service.request({ method: 'PUT', url: api(`/users/${id}`), token: admin, payload: { is_revoked: true } });
    assert.equal(revoked.statusCode, 200, revoked.body);
    assert.deepEqual(state(revoked.json() as StateJson), { is_revoked: true, failed_attempts: 0, locked_at: null, lockout_lifts_at: null, revoked_by: 'administrator' });

    const idle = await service.createUser('state-idle');
    // Every active non-superuser counts as idle before a cutoff in the future; only this suite's users are here.
    const expired = await expireIdle(service.store.db, { cutoff: new Date(Date.now() + 86_400_000), limit: 1000 });
    assert.ok(expired.some((user) => user.id === idle));
    assert.deepEqual(state(await getUser(idle)), { is_revoked: true, failed_attempts: 0, locked_at: null, lockout_lifts_at: null, revoked_by: 'expiry' });
    assert.equal((await getUser(id)).revoked_by, 'administrator', 'an administrator\'s revocation stays one');
  });

  test('PUT /users/:sid accepts the user exactly as GET returned it: the read-only keys are ignored, the edit applies', async () => {
    const id = await service.createUser('state-roundtrip');
    await wrongLogin('state-roundtrip');
    const got = await getUser(id);
    const put = await service.request({ method: 'PUT', url: api(`/users/${id}`), token: admin, payload: got });
    assert.equal(put.statusCode, 200, put.body);
    assert.deepEqual(put.json(), got, 'the unchanged object round-trips');

    const edited = await service.request({ method: 'PUT', url: api(`/users/${id}`), token: admin, payload: { ...got, email: 'roundtrip@example.org', failed_attempts: 0, revoked_by: 'administrator', locked_at: new Date().toISOString() } });
    assert.equal(edited.statusCode, 200, edited.body);
    const after = await getUser(id);
    assert.equal(after.email, 'roundtrip@example.org');
    assert.deepEqual(state(after), state(got), 'the read-only keys changed nothing');
  });

  test('password_changed_at: set when the user gets a password, again when it changes', async () => {
    const id = await service.createUser('state-clock');
    const row = () => service.store.db.selectFrom('users').select(['password_changed_at', 'created_at']).where('id', '=', id).executeTakeFirstOrThrow();
    const created = await row();
    assert.equal(Number(created.password_changed_at), Number(created.created_at));
    await service.store.db.updateTable('users').set({ password_changed_at: 1 }).where('id', '=', id).execute();
    const token = await service.login('state-clock', USER_PASSWORD);
    const changed = await service.request({ method: 'PUT', url: api('/users/current/password'), token, payload: { current_password: USER_PASSWORD, password: 'a different long passphrase' } });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.ok(Number((await row()).password_changed_at) > Date.now() - 60_000, 'the change started the clock again');
    const noPassword = await service.createUser('state-no-password', { password: null });
    assert.equal((await service.store.db.selectFrom('users').select('password_changed_at').where('id', '=', noPassword).executeTakeFirstOrThrow()).password_changed_at, null);
  });

  test('rbac users show <login> --json prints the user as GET /users/:sid answers, with its lockout state', async () => {
    const id = await service.createUser('state-shown');
    await wrongLogin('state-shown');
    const result = await runCli(['users', 'show', 'state-shown', '--json', '--failed-attempts-lockout-duration', '15m', ...storeArgs(service.workspace)]);
    expectExit(result, 0, 'users show');
    assert.deepEqual(JSON.parse(result.stdout), await getUser(id));
    const missing = await runCli(['users', 'show', 'state-nobody', ...storeArgs(service.workspace)]);
    assert.equal(missing.code, 1, missing.stderr);
  });
});
