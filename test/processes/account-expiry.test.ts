// Account expiry with two real service processes on one PostgreSQL
// database, both with account-expiry-days set, both sweeping as they start.
// The test holds a row lock on one idle account, so both sweeps stop inside
// their transaction — one holding the idle accounts it reached before that
// row, the other waiting behind it — and then logs in to idle accounts
// through all three instances: logins to accounts the sweep holds wait for
// it, the others finish while it waits. Then the lock goes. Whatever the
// sweeps had reached: each idle account is revoked by one sweep and recorded
// once, no request fails with a 5xx, and no login is lost — an account that
// logged in stays active with working tokens, one the sweep revoked never
// logged in (its login was answered 401 user-revoked).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createPasswordHasher } from '../../src/passwords/hashing.js';
import { openStore } from '../../src/store/database.js';
import { callApi } from '../kit/api.js';
import { POSTGRES, freshWorkspace, insertUser } from '../kit/databases.js';
import { USER_PASSWORD } from '../kit/passwords.js';
import { spawnService, type LogLine, type ServiceProcess } from '../kit/processes.js';

const DAY = 24 * 60 * 60 * 1000;
const DAYS = 30;
const NO_LIMITS = ['--rate-limit-per-address', '0', '--rate-limit-per-account', '0'];
const EXPIRY = ['--account-expiry-days', String(DAYS), ...NO_LIMITS];

const sweepDone = (line: LogLine) => line.msg === 'account expiry sweep done';

/** Statements of this database waiting for a lock whose text matches this LIKE pattern. */
async function waitingStatements(client: pg.Client, pattern: string): Promise<number> {
  const { rows } = await client.query<{ waiting: string }>(
    "select count(*) as waiting from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like $1",
    [pattern],
  );
  return Number(rows[0]?.waiting);
}

async function until(what: string, condition: () => Promise<boolean>): Promise<void> {
  for (const deadline = Date.now() + 30_000; !(await condition()); await sleep(20)) {
    if (Date.now() > deadline) throw new Error(`gave up waiting until ${what}`);
  }
}

const SWEEP = 'update "users" set "is_revoked"%';
// The login's lookup and claim are one statement (users.byLoginKeyClaiming): its claim is the UPDATE that waits.
const LOGIN = '%update users set failed_attempts = users.failed_attempts + 1%';

describe('account expiry with two service processes on one PostgreSQL database', { skip: POSTGRES.skip }, () => {
  test('both sweep as they start: one account-expired event per idle account, no 5xx, and a login racing the sweeps is never lost', async () => {
    const workspace = await freshWorkspace('postgres');
    const processes: ServiceProcess[] = [];
    // One connection holds the lock; the other watches (outside a transaction, which would keep one snapshot of pg_stat_activity).
    const client = new pg.Client({ connectionString: workspace.databaseUrl });
    const observer = new pg.Client({ connectionString: workspace.databaseUrl });
    try {
      // An instance without expiry: it creates the schema and serves logins from the start.
      const plain = await spawnService({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl, extraArgs: NO_LIMITS });
      processes.push(plain);

      // Idle accounts, back-dated through the store, in this order (the
      // order the sweeps meet them): racing ones the logins below go for,
      // the one the test locks, more racing ones, and ones nobody logs in
      // to; then recent ones.
      const now = Date.now();
      const idleLogin = now - (DAYS + 5) * DAY;
      const racing = Array.from({ length: 40 }, (_, i) => `racing-${i}`);
      const untouched = [...Array.from({ length: 15 }, (_, i) => `idle-${i}`), 'blocker'];
      const recent = Array.from({ length: 5 }, (_, i) => `recent-${i}`);
      const hash = await (await createPasswordHasher()).hash(USER_PASSWORD);
      const store = openStore({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl, poolSize: 2 });
      try {
        for (const login of [...racing.slice(0, 20), 'blocker', ...racing.slice(20), ...untouched.slice(0, -1), ...recent]) {
          await insertUser(store.db, login, { password_hash: hash, created_at: now - 100 * DAY, last_login: recent.includes(login) ? now - DAY : idleLogin });
        }
      } finally {
        await store.close();
      }

      // The test holds the blocker's row: both sweeps stop inside their transaction.
      await client.connect();
      await observer.connect();
      await client.query('begin');
      await client.query("select id from users where login = 'blocker' for update");
      const expiring = await Promise.all([0, 1].map((i) => spawnService({ dataDir: `${workspace.dataDir}/expiring-${i}`, databaseUrl: workspace.databaseUrl, extraArgs: EXPIRY })));
      processes.push(...expiring);
      await until('both sweeps wait', async () => (await waitingStatements(observer, SWEEP)) === 2);

      // One login to each racing account, all at once, through the three
      // instances; until every one has either finished or waits for a sweep.
      const answers = new Map<string, { status: number; kind?: string; token?: string }>();
      const pending = new Set(racing);
      const logins = Promise.all(
        racing.map(async (login, i) => {
          const reply = await callApi((processes[i % processes.length] as ServiceProcess).url, 'POST', '/auth/token', { login, password: USER_PASSWORD });
          const body = JSON.parse(reply.text) as { token?: string; kind?: string };
          answers.set(login, { status: reply.status, ...(body.kind ? { kind: body.kind } : {}), ...(body.token ? { token: body.token } : {}) });
          pending.delete(login);
        }),
      );
      await until('every login finished or waits for a sweep', async () => {
        const waiting = await waitingStatements(observer, LOGIN);
        return waiting === pending.size;
      });
      const heldBySweep = [...pending];
      await client.query('commit');
      await logins;
      const sweeps = await Promise.all(expiring.map((service) => service.waitForLog(sweepDone)));

      const unexpected = [...answers].filter(([, answer]) => answer.status !== 200 && !(answer.status === 401 && answer.kind === 'user-revoked'));
      assert.deepEqual(unexpected, [], 'every login is answered 200, or 401 user-revoked');
      for (const service of processes) {
        const failures = service.log.filter((line) => line.level >= 50 || (line.res?.statusCode ?? 0) >= 500);
        assert.deepEqual(failures, [], `no errors and no 5xx on port ${service.port}`);
      }

      const { rows } = await observer.query<{ login: string; is_revoked: number; last_login: string; events: string }>(
        `select u.login, u.is_revoked, u.last_login, (select count(*) from audit_events e where e.subject_id = u.id and e.type = 'account-expired') as events
         from users u where u.is_superuser = 0`,
      );
      const state = new Map(rows.map((row) => [row.login, { revoked: row.is_revoked === 1, lastLogin: Number(row.last_login), events: Number(row.events) }]));
      assert.equal(
        rows.reduce((sum, row) => sum + Number(row.events), 0),
        sweeps.reduce((sum, line) => sum + Number(line.expired), 0),
        'the two sweeps together recorded exactly as many events as they said they revoked',
      );
      for (const login of untouched) assert.deepEqual(state.get(login), { revoked: true, lastLogin: idleLogin, events: 1 }, login);
      for (const login of recent) assert.deepEqual({ revoked: state.get(login)?.revoked, events: state.get(login)?.events }, { revoked: false, events: 0 }, login);

      for (const login of racing) {
        const answer = answers.get(login);
        const row = state.get(login);
        if (answer?.status === 200) {
          assert.deepEqual({ revoked: row?.revoked, events: row?.events }, { revoked: false, events: 0 }, `${login} logged in, so it was not expired`);
          assert.ok((row?.lastLogin ?? 0) > idleLogin, `${login}: the login is recorded`);
          for (const service of processes) {
            assert.equal((await callApi(service.url, 'GET', '/users/current', undefined, answer.token)).status, 200, `${login}'s token works on port ${service.port}`);
          }
        } else {
          assert.deepEqual(row, { revoked: true, lastLogin: idleLogin, events: 1 }, `${login} was expired before it could log in (${JSON.stringify(answer)})`);
        }
      }
      // Which accounts the sweep held depends on the plan PostgreSQL chose;
      // the rules above hold either way. Logins it held answer 401.
      for (const login of heldBySweep) assert.equal(answers.get(login)?.status, 401, `${login} waited for the sweep, which revoked it`);
      process.stdout.write(`# racing accounts: ${racing.length - heldBySweep.length} logged in while the sweeps waited, ${heldBySweep.length} waited for a sweep\n`);
    } finally {
      await client.end().catch(() => {});
      await observer.end().catch(() => {});
      await Promise.all(processes.map((service) => service.stop()));
      await workspace.cleanup();
    }
  });
});
