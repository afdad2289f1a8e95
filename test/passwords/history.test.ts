// Password history, PE's number-of-previous-passwords: a new password may not
// be any of the user's last N, the current one included, checked against the
// stored argon2id hashes in the hashing pool. Refused on reset by token (the
// token stays unspent), on a change of one's own password (after the current
// password is checked), by the admin reset script and, for a reset token's
// holder, by validate-password. N counts the current password; 0 keeps and
// refuses nothing; the table keeps N − 1 replaced hashes a user and goes with
// the user.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { decodeJwt } from 'jose';
import { ServiceError } from '../../src/errors.js';
import { createPasswordHasher, type PasswordHasher } from '../../src/passwords/hashing.js';
import { reusedPassword } from '../../src/passwords/previous-passwords.js';
import { openStore } from '../../src/store/database.js';
import { migrateTo } from '../../src/store/migrate.js';
import * as passwordHistory from '../../src/store/password-history.js';
import { loginKey } from '../../src/users/users.js';
import { resetAdminPassword } from '../../src/users/admin-password.js';
import { describeEachDatabase, freshWorkspace } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { ADMIN_PASSWORD, USER_PASSWORD, startTestService, type TestService } from '../kit/service.js';

const api = (path: string) => `/rbac-api/v1${path}`;
/** Distinct passwords the policy accepts. */
const P = (n: number) => `lantern orchard river ${n}`;

interface Failures {
  failures?: { 'rule-identifier': string; 'friendly-error': string }[];
}
const rulesOf = (failures: Failures['failures']) => (failures ?? []).map((failure) => failure['rule-identifier']).sort();

/** The flows of one service, as a user and as the admin drive them. */
function flows(service: () => TestService) {
  const s = () => service();
  const flow = {
    change: (token: string, current_password: string, password: string) =>
      s().request({ method: 'PUT', url: api('/users/current/password'), token, payload: { current_password, password } }),
    /** Changes the password along `passwords` (each from the one before), expecting 200 each time; returns the login token used, which keeps working. */
    async changeThrough(login: string, passwords: string[]): Promise<string> {
      const token = await s().login(login, passwords[0] as string);
      for (let i = 1; i < passwords.length; i++) {
        const response = await flow.change(token, passwords[i - 1] as string, passwords[i] as string);
        assert.equal(response.statusCode, 200, `change to password ${i}: ${response.body}`);
      }
      return token;
    },
    issue: async (sid: string) => {
      const response = await s().request({ method: 'POST', url: api(`/users/${sid}/password/reset`), token: await s().adminToken() });
      assert.equal(response.statusCode, 201, response.body);
      return response.body;
    },
    reset: (token: string, password: string) => s().request({ method: 'POST', url: api('/auth/reset'), payload: { token, password } }),
    validate: (payload: Record<string, unknown>, token?: string) =>
      s().request({ method: 'POST', url: api('/command/validate-password'), payload, ...(token ? { token } : {}) }),
    canLogin: async (login: string, password: string) =>
      (await s().request({ method: 'POST', url: api('/auth/token'), payload: { login, password } })).statusCode === 200,
    userRow: (id: string) => s().store.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow(),
    /** The user's history rows, newest first. */
    historyRows: (id: string) => s().store.db.selectFrom('password_history').selectAll().where('user_id', '=', id).orderBy('id', 'desc').execute(),
    /** The previous-password refusal of a 400 answer, checked. */
    expectReused(response: Awaited<ReturnType<TestService['request']>>, kept: number) {
      const body = assertError(response, 400, 'invalid-password');
      const failures = (body.details as Failures).failures;
      assert.deepEqual(rulesOf(failures), ['previous-password']);
      assert.match(failures?.[0]?.['friendly-error'] ?? '', new RegExp(`last ${kept} password`));
    },
  };
  return flow;
}

describeEachDatabase('password history', (target) => {
  const KEPT = 3;
  let service: TestService;
  before(async () => {
    service = await startTestService(target.dialect, { numberOfPreviousPasswords: KEPT });
  });
  after(() => service?.close());
  const f = flows(() => service);

  test('reset by token: the current and an earlier password are refused as previous-password before anything is spent; the token then works with a fresh password', async () => {
    const id = await service.createUser('history-reset');
    const loginToken = await f.changeThrough('history-reset', [USER_PASSWORD, P(1)]);
    const token = await f.issue(id);
    const before = { row: await f.userRow(id), counts: { ...service.hasher.counts } };
    for (const reused of [P(1), USER_PASSWORD]) f.expectReused(await f.reset(token, reused), KEPT);
    assert.equal(service.hasher.counts.hash, before.counts.hash, 'no hash computed for a refused password');
    const spent = await service.store.db.selectFrom('reset_tokens').select('spent_at').where('jti', '=', decodeJwt(token).jti as string).executeTakeFirstOrThrow();
    assert.equal(spent.spent_at, null, 'the token is not spent');
    assert.deepEqual(await f.userRow(id), before.row, 'the user is unchanged');
    assert.equal((await service.request({ method: 'GET', url: api('/users/current'), token: loginToken })).statusCode, 200, 'no login token revoked');

    assert.equal((await f.reset(token, P(2))).statusCode, 200, 'the same token sets a fresh password');
    assert.ok(await f.canLogin('history-reset', P(2)));
  });

  test('a password the policy refuses is refused for that alone: the history costs no hash then', async () => {
    const id = await service.createUser('history-policy-first');
    const token = await f.issue(id);
    const verifies = service.hasher.counts.verify;
    const response = await f.reset(token, 'short');
    const body = assertError(response, 400, 'invalid-password');
    assert.ok(!rulesOf((body.details as Failures).failures).includes('previous-password'));
    assert.equal(service.hasher.counts.verify, verifies);
  });

  test('change own password: the current and an earlier password are refused as previous-password; nothing changes and no attempt is counted', async () => {
    const id = await service.createUser('history-change');
    const token = await f.changeThrough('history-change', [USER_PASSWORD, P(1)]);
    const other = await service.login('history-change', P(1));
    const before = await f.userRow(id);
    f.expectReused(await f.change(token, P(1), P(1)), KEPT);
    f.expectReused(await f.change(token, P(1), USER_PASSWORD), KEPT);
    assert.deepEqual(await f.userRow(id), before, 'hash and failed-attempt count unchanged');
    assert.equal((await service.request({ method: 'GET', url: api('/users/current'), token: other })).statusCode, 200, 'other login tokens still work');
    assert.equal((await f.change(token, P(1), P(2))).statusCode, 200);
  });

  test('change own password: current_password is checked first, so a wrong one with an earlier password is 403, counts, and costs one verification', async () => {
    const id = await service.createUser('history-change-order');
    const token = await f.changeThrough('history-change-order', [USER_PASSWORD, P(1)]);
    const verifies = service.hasher.counts.verify;
    const response = await f.change(token, 'not the current passphrase', USER_PASSWORD);
    assertError(response, 403, 'permission-denied');
    assert.equal(service.hasher.counts.verify - verifies, 1, 'the current password only: the history is not consulted');
    assert.equal((await f.userRow(id)).failed_attempts, 1);
  });

  test('the password given to POST /users counts: once replaced it is refused', async () => {
    await service.createUser('history-initial');
    const token = await f.changeThrough('history-initial', [USER_PASSWORD, P(1)]);
    f.expectReused(await f.change(token, P(1), USER_PASSWORD), KEPT);
  });

  test('validate-password with a reset token lists previous-password for the current and an earlier password; with a login token the history is not consulted', async () => {
    const id = await service.createUser('history-validate');
    const loginToken = await f.changeThrough('history-validate', [USER_PASSWORD, P(1)]);
    const resetToken = await f.issue(id);
    for (const reused of [P(1), USER_PASSWORD]) {
      const response = await f.validate({ password: reused, reset_token: resetToken });
      assert.equal(response.statusCode, 200, response.body);
      const result = response.json() as Failures & { valid: boolean };
      assert.equal(result.valid, false);
      assert.deepEqual(rulesOf(result.failures), ['previous-password']);
    }
    assert.deepEqual((await f.validate({ password: P(2), reset_token: resetToken })).json(), { valid: true });

    // A login token is no way to test guesses at the current password.
    const verifies = service.hasher.counts.verify;
    assert.deepEqual((await f.validate({ password: P(1) }, loginToken)).json(), { valid: true });
    assert.equal(service.hasher.counts.verify, verifies);
    assert.equal((await f.reset(resetToken, P(2))).statusCode, 200, 'validating spent nothing');
  });

  test('rows are pruned to the N − 1 most recently replaced passwords', async () => {
    const id = await service.createUser('history-pruned');
    await f.changeThrough('history-pruned', [USER_PASSWORD, P(1), P(2), P(3), P(4)]);
    const rows = await f.historyRows(id);
    assert.equal(rows.length, KEPT - 1);
    assert.ok(await service.hasher.verify(rows[0]?.password_hash as string, P(3)), 'the newest row is the password just replaced');
    assert.ok(await service.hasher.verify(rows[1]?.password_hash as string, P(2)));
  });

  test('deleting a user deletes its history', async () => {
    const id = await service.createUser('history-deleted');
    await f.changeThrough('history-deleted', [USER_PASSWORD, P(1), P(2)]);
    assert.equal((await f.historyRows(id)).length, 2);
    const response = await service.request({ method: 'DELETE', url: api(`/users/${id}`), token: await service.adminToken() });
    assert.equal(response.statusCode, 204, response.body);
    assert.equal((await f.historyRows(id)).length, 0);
  });

  test('remote users have no history', async () => {
    const id = await service.createUser('history-remote', { is_remote: true, password: null });
    assert.deepEqual(await passwordHistory.lastPasswords(service.store.db, id, KEPT), []);
    assert.equal((await f.historyRows(id)).length, 0);
    const verifies = service.hasher.counts.verify;
    assert.equal(await reusedPassword({ db: service.store.db, hasher: service.hasher, config: service.config }, id, USER_PASSWORD), undefined);
    assert.equal(service.hasher.counts.verify, verifies, 'nothing to verify against');
  });

  test('the check runs in the hashing pool: one verification per kept password, all at once, while the event loop keeps running', async () => {
    const id = await service.createUser('history-pool');
    await f.changeThrough('history-pool', [USER_PASSWORD, P(1), P(2)]);

    // Through the service's hasher (the pool): a reset verifies the candidate against each of the last N, then hashes it once.
    const before = { ...service.hasher.counts };
    assert.equal((await f.reset(await f.issue(id), P(3))).statusCode, 200);
    assert.equal(service.hasher.counts.verify - before.verify, KEPT);
    assert.equal(service.hasher.counts.hash - before.hash, 1);

    let inFlight = 0;
    let mostInFlight = 0;
    const watching: PasswordHasher = {
      ...service.hasher,
      async verify(stored, password) {
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        try {
          return await service.hasher.verify(stored, password);
        } finally {
          inFlight--;
        }
      },
    };
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      const reused = await reusedPassword({ db: service.store.db, hasher: watching, config: service.config }, id, P(4));
      assert.equal(reused, undefined);
    } finally {
      clearInterval(timer);
    }
    assert.equal(mostInFlight, KEPT, 'every verification started before the first one finished');
    assert.ok(ticks > 0, 'the event loop ran while the verifications ran');
  });
});

describeEachDatabase('password history: how many are kept', (target) => {
  test('N = 2: the current and the previous password are refused; the one before them is accepted again', async () => {
    const service = await startTestService(target.dialect, { numberOfPreviousPasswords: 2 });
    try {
      const f = flows(() => service);
      const id = await service.createUser('history-two');
      const token = await f.changeThrough('history-two', [USER_PASSWORD, P(1), P(2), P(3)]);
      f.expectReused(await f.change(token, P(3), P(3)), 2);
      f.expectReused(await f.change(token, P(3), P(2)), 2);
      assert.equal((await f.historyRows(id)).length, 1);
      const third = await f.change(token, P(3), P(1));
      assert.equal(third.statusCode, 200, `the password from three changes ago is accepted: ${third.body}`);
    } finally {
      await service.close();
    }
  });

  test('N = 1: only the current password is refused, and nothing is kept in the table', async () => {
    const service = await startTestService(target.dialect, { numberOfPreviousPasswords: 1 });
    try {
      const f = flows(() => service);
      const id = await service.createUser('history-one');
      const token = await f.changeThrough('history-one', [USER_PASSWORD, P(1)]);
      f.expectReused(await f.change(token, P(1), P(1)), 1);
      assert.equal((await f.historyRows(id)).length, 0);
      assert.equal((await f.change(token, P(1), USER_PASSWORD)).statusCode, 200);
    } finally {
      await service.close();
    }
  });

  test('N = 0: nothing is refused, not even the current password, and rows kept under a larger N are deleted on the next change', async () => {
    const keeping = await startTestService(target.dialect, { numberOfPreviousPasswords: 5 });
    try {
      const id = await keeping.createUser('history-none');
      await flows(() => keeping).changeThrough('history-none', [USER_PASSWORD, P(1), P(2)]);
      assert.equal((await flows(() => keeping).historyRows(id)).length, 2);

      // The same database, with the setting turned down to 0.
      const none = await startTestService(target.dialect, { numberOfPreviousPasswords: 0 }, { workspace: keeping.workspace });
      try {
        const f = flows(() => none);
        const token = await none.login('history-none', P(2));
        const verifies = none.hasher.counts.verify;
        assert.equal((await f.change(token, P(2), P(2))).statusCode, 200, 'the current password again');
        assert.equal(none.hasher.counts.verify - verifies, 1, 'the current password only: no history verification');
        assert.equal((await f.historyRows(id)).length, 0, 'the old rows are gone');
        assert.equal((await f.change(token, P(2), P(1))).statusCode, 200, 'an earlier password again');
        assert.equal((await f.historyRows(id)).length, 0, 'and none are written');
      } finally {
        await none.close();
      }
    } finally {
      await keeping.close();
    }
  });

  test("the admin reset script refuses the admin's current and earlier passwords and changes nothing", async () => {
    const service = await startTestService(target.dialect, { numberOfPreviousPasswords: 5 });
    try {
      const deps = { db: service.store.db, hasher: service.hasher, rules: service.config };
      const adminRow = () => service.store.db.selectFrom('users').selectAll().where('login_key', '=', loginKey('admin')).executeTakeFirstOrThrow();
      const refusedAsReused = (error: unknown) =>
        error instanceof ServiceError &&
        error.kind === 'invalid-password' &&
        rulesOf((error.details as Failures).failures).join() === 'previous-password';

      const before = await adminRow();
      await assert.rejects(resetAdminPassword(deps, ADMIN_PASSWORD, { operator: 'test' }), refusedAsReused);
      assert.deepEqual(await adminRow(), before, 'nothing changed');

      assert.deepEqual(await resetAdminPassword(deps, P(1), { operator: 'test' }), { created: false });
      await assert.rejects(resetAdminPassword(deps, ADMIN_PASSWORD, { operator: 'test' }), refusedAsReused, 'the replaced password is an earlier one now');
      assert.ok(await flows(() => service).canLogin('admin', P(1)));
    } finally {
      await service.close();
    }
  });

  test('a user from before migration 007: the current password counts, and moves into the history when replaced', async () => {
    const workspace = await freshWorkspace(target.dialect);
    try {
      const hasher = await createPasswordHasher();
      const old = openStore({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl });
      const id = randomUUID();
      try {
        await migrateTo(old, '006_locked_at');
        await old.db
          .insertInto('users')
          .values({
            id,
            login: 'history-upgraded',
            login_key: loginKey('history-upgraded'),
            email: '',
            display_name: '',
            is_remote: 0,
            is_superuser: 0,
            is_revoked: 0,
            password_hash: await hasher.hash(USER_PASSWORD),
            last_login: null,
            created_at: Date.now(),
          })
          .execute();
      } finally {
        await old.close();
      }

      const service = await startTestService(target.dialect, { numberOfPreviousPasswords: 3 }, { workspace });
      try {
        const f = flows(() => service);
        const token = await service.login('history-upgraded', USER_PASSWORD);
        f.expectReused(await f.change(token, USER_PASSWORD, USER_PASSWORD), 3);
        assert.equal((await f.change(token, USER_PASSWORD, P(1))).statusCode, 200);
        assert.equal((await f.historyRows(id)).length, 1);
        f.expectReused(await f.change(token, P(1), USER_PASSWORD), 3);
      } finally {
        await service.close();
      }
    } finally {
      await workspace.cleanup();
    }
  });
});
