// Account expiry (account-expiry-days): who a sweep revokes, by a clock the
// test controls (users are back-dated relative to it), what it records and
// what it leaves alone; the expired user's tokens and logins; many sweeps at
// once on separate connections; a login racing a sweep, in both orders; the
// schedule the service runs (timers mocked); and the service's start.

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { defaultConfig } from '../../src/config/config.js';
import { ServiceError } from '../../src/errors.js';
import { createLogger } from '../../src/http/logging.js';
import { login } from '../../src/login/login.js';
import type { PasswordHasher } from '../../src/passwords/hashing.js';
import { startService } from '../../src/server.js';
import { openServices } from '../../src/services.js';
import { openStore, type Store } from '../../src/store/database.js';
import * as users from '../../src/store/users.js';
import { expireIdleAccounts, scheduleAccountExpiry, type ExpiryLogger } from '../../src/users/account-expiry.js';
import { atOnce } from '../kit/concurrency.js';
import { describeEachDatabase, insertUser, withWorkspace, type DialectName } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { ADMIN_PASSWORD, USER_PASSWORD, startTestService, type TestService } from '../kit/service.js';
import { api } from './support.js';

const DAY = 24 * 60 * 60 * 1000;
const DAYS = 30;

async function withService(dialect: DialectName, body: (service: TestService) => Promise<void>): Promise<void> {
  const service = await startTestService(dialect);
  try {
    await service.adminToken(); // once, before tests create users in parallel with it
    await body(service);
  } finally {
    await service.close();
  }
}

/** One sweep at `now` with account-expiry-days = DAYS, on the service's store or another one. */
const sweep = (store: Pick<Store, 'db'>, now: Date, batchSize?: number) => expireIdleAccounts({ db: store.db, config: { accountExpiryDays: DAYS } }, now, undefined, batchSize);

/** Sets when the user last logged in (null: never) and when it was created. */
async function backDate(service: TestService, id: string, times: { lastLogin?: number | null; createdAt?: number }): Promise<void> {
  await service.store.db
    .updateTable('users')
    .set({ ...(times.lastLogin !== undefined ? { last_login: times.lastLogin } : {}), ...(times.createdAt !== undefined ? { created_at: times.createdAt } : {}) })
    .where('id', '=', id)
    .execute();
}

const rowOf = (service: TestService, id: string) => service.store.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

const expiredEvents = (service: TestService, id: string) =>
  service.store.db.selectFrom('audit_events').selectAll().where('type', '=', 'account-expired').where('subject_id', '=', id).execute();

/** A user created now, whose last login was `idleMs` before `now`. */
async function idleUser(service: TestService, login: string, now: Date, idleMs: number): Promise<string> {
  const id = await service.createUser(login);
  await backDate(service, id, { lastLogin: now.getTime() - idleMs, createdAt: now.getTime() - idleMs - DAY });
  return id;
}

describeEachDatabase('account expiry', (target) => {
  describe('who a sweep revokes', () => {
    test('an account idle for longer than account-expiry-days is revoked; one idle exactly that long, or shorter, is not', async () => {
      await withService(target.dialect, async (service) => {
        const now = new Date();
        const idle = await idleUser(service, 'expiry-idle', now, DAYS * DAY + 1);
        const boundary = await idleUser(service, 'expiry-boundary', now, DAYS * DAY);
        const recent = await idleUser(service, 'expiry-recent', now, (DAYS - 1) * DAY);

        assert.deepEqual(await sweep(service.store, now), [{ id: idle, login: 'expiry-idle' }]);
        assert.equal((await rowOf(service, idle)).is_revoked, 1);
        assert.equal((await rowOf(service, idle)).locked_at, null, 'not a lockout: no lockout duration lifts it');
        assert.equal((await rowOf(service, boundary)).is_revoked, 0, 'exactly account-expiry-days idle is not longer');
        assert.equal((await rowOf(service, recent)).is_revoked, 0);
        assert.deepEqual(await expiredEvents(service, boundary), []);
        assert.deepEqual(await expiredEvents(service, recent), []);

        const [event, ...more] = await expiredEvents(service, idle);
        assert.deepEqual(more, [], 'one event');
        assert.ok(event);
        assert.deepEqual(
          { actor_id: event.actor_id, actor_login: event.actor_login, subject_login: event.subject_login, source_address: event.source_address, at: event.at },
          { actor_id: null, actor_login: null, subject_login: 'expiry-idle', source_address: null, at: now.getTime() },
        );
        const lastLogin = new Date(now.getTime() - DAYS * DAY - 1).toISOString();
        assert.deepEqual(JSON.parse(event.details), { idle_days: DAYS, idle_since: lastLogin, last_login: lastLogin });
      });
    });

    test('a user who never logged in is idle since its creation', async () => {
      await withService(target.dialect, async (service) => {
        const now = new Date();
        const old = await service.createUser('expiry-never-old');
        const young = await service.createUser('expiry-never-young');
        await backDate(service, old, { lastLogin: null, createdAt: now.getTime() - (DAYS + 1) * DAY });
        await backDate(service, young, { lastLogin: null, createdAt: now.getTime() - (DAYS - 1) * DAY });

        assert.deepEqual(await sweep(service.store, now), [{ id: old, login: 'expiry-never-old' }]);
        assert.equal((await rowOf(service, young)).is_revoked, 0);
        const [event] = await expiredEvents(service, old);
        assert.deepEqual(JSON.parse(event?.details ?? '{}'), { idle_days: DAYS + 1, idle_since: new Date(now.getTime() - (DAYS + 1) * DAY).toISOString(), last_login: null });
      });
    });

    test('a recent login counts, however old the account', async () => {
      await withService(target.dialect, async (service) => {
        const now = new Date();
        const id = await service.createUser('expiry-old-but-active');
        await backDate(service, id, { createdAt: now.getTime() - 10 * DAYS * DAY, lastLogin: now.getTime() - DAY });
        assert.deepEqual(await sweep(service.store, now), []);
        assert.equal((await rowOf(service, id)).is_revoked, 0);
      });
    });

    test('superusers are never expired', async () => {
      await withService(target.dialect, async (service) => {
        const now = new Date();
        const admin = await service.store.db.selectFrom('users').select('id').where('login_key', '=', 'admin').executeTakeFirstOrThrow();
        await backDate(service, admin.id, { lastLogin: now.getTime() - 1000 * DAY, createdAt: now.getTime() - 2000 * DAY });
        assert.deepEqual(await sweep(service.store, now), []);
        assert.equal((await rowOf(service, admin.id)).is_revoked, 0);
        assert.deepEqual(await expiredEvents(service, admin.id), []);
      });
    });

    test('remote users are not expired: this service never sees them log in', async () => {
      await withService(target.dialect, async (service) => {
        const now = new Date();
        const id = await service.createUser('expiry-remote', { is_remote: true, password: undefined });
        await backDate(service, id, { lastLogin: null, createdAt: now.getTime() - 1000 * DAY });
        assert.deepEqual(await sweep(service.store, now), []);
        assert.equal((await rowOf(service, id)).is_revoked, 0);
      });
    });

    test('revoked users get no account-expired event, and their revocation stays what it was', async () => {
      await withService(target.dialect, async (service) => {
        const now = new Date();
        const byAdmin = await idleUser(service, 'expiry-revoked-by-admin', now, 100 * DAY);
        const locked = await idleUser(service, 'expiry-locked', now, 100 * DAY);
        const put = await service.request({ method: 'PUT', url: api(`/users/${byAdmin}`), token: await service.adminToken(), payload: { is_revoked: true } });
        assert.equal(put.statusCode, 200, put.body);
        const lockedAt = now.getTime() - DAY;
        await service.store.db.updateTable('users').set({ is_revoked: 1, locked_at: lockedAt, failed_attempts: 10 }).where('id', '=', locked).execute();

        assert.deepEqual(await sweep(service.store, now), []);
        assert.deepEqual(await expiredEvents(service, byAdmin), []);
        assert.deepEqual(await expiredEvents(service, locked), []);
        assert.equal((await rowOf(service, locked)).locked_at, lockedAt, 'a lockout stays a lockout (its duration can still lift it)');
      });
    });

    test('a second sweep records nothing more: exactly one account-expired event per account', async () => {
      await withService(target.dialect, async (service) => {
        const now = new Date();
        const id = await idleUser(service, 'expiry-once', now, 100 * DAY);
        assert.equal((await sweep(service.store, now)).length, 1);
        assert.deepEqual(await sweep(service.store, now), []);
        assert.deepEqual(await sweep(service.store, new Date(now.getTime() + 365 * DAY)), []);
        assert.equal((await expiredEvents(service, id)).length, 1);
      });
    });

    test('in batches: every idle account is revoked once, however many there are', async () => {
      await withService(target.dialect, async (service) => {
        const now = new Date();
        const ids = await Promise.all(Array.from({ length: 7 }, (_, i) => idleUser(service, `expiry-batch-${i}`, now, 100 * DAY)));
        const expired = await sweep(service.store, now, 2);
        assert.deepEqual(expired.map((user) => user.id).sort(), [...ids].sort());
        for (const id of ids) assert.equal((await expiredEvents(service, id)).length, 1);
      });
    });

    test('account-expiry-days unset: a sweep revokes no one', async () => {
      await withService(target.dialect, async (service) => {
        const now = new Date();
        const id = await idleUser(service, 'expiry-off', now, 1000 * DAY);
        assert.equal(service.config.accountExpiryDays, undefined, 'unset by default');
        assert.deepEqual(await expireIdleAccounts({ db: service.store.db, config: service.config }, now), []);
        assert.equal((await rowOf(service, id)).is_revoked, 0);
      });
    });
  });

  describe('the expired user', () => {
    test("its login token stops working, its login answers 401 user-revoked, and GET /events shows the expiry", async () => {
      await withService(target.dialect, async (service) => {
        const now = new Date();
        const id = await service.createUser('expiry-token');
        const token = await service.login('expiry-token', USER_PASSWORD);
        await backDate(service, id, { lastLogin: now.getTime() - (DAYS + 2) * DAY, createdAt: now.getTime() - 100 * DAY });
        const current = () => service.request({ method: 'GET', url: api('/users/current'), token });
        assert.equal((await current()).statusCode, 200);

        await sweep(service.store, now);
        assertError(await current(), 401, 'user-unauthenticated');
        assertError(await service.request({ method: 'POST', url: api('/auth/token'), payload: { login: 'expiry-token', password: USER_PASSWORD } }), 401, 'user-revoked');

        const listed = await service.request({ method: 'GET', url: api('/events?limit=1000'), token: await service.adminToken() });
        assert.equal(listed.statusCode, 200, listed.body);
        const events = (listed.json() as { events: { type: string; actor: unknown; subject: { id: string; login: string } | null; source_address: string | null; details: unknown }[] }).events;
        const expiries = events.filter((event) => event.type === 'account-expired');
        assert.deepEqual(expiries, [
          {
            ...expiries[0],
            actor: null,
            subject: { id, login: 'expiry-token' },
            source_address: null,
            details: { idle_days: DAYS + 2, idle_since: new Date(now.getTime() - (DAYS + 2) * DAY).toISOString(), last_login: new Date(now.getTime() - (DAYS + 2) * DAY).toISOString() },
          },
        ]);

        // Reinstated, it logs in again; the token from before stays revoked.
        const put = await service.request({ method: 'PUT', url: api(`/users/${id}`), token: await service.adminToken(), payload: { is_revoked: false } });
        assert.equal(put.statusCode, 200, put.body);
        await service.login('expiry-token', USER_PASSWORD);
        assertError(await current(), 401, 'user-unauthenticated');
      });
    });

    test('reinstated by an administrator, it has a whole period to log in before it expires again', async () => {
      await withService(target.dialect, async (service) => {
        const id = await idleUser(service, 'expiry-reinstated', new Date(), 100 * DAY);
        assert.equal((await sweep(service.store, new Date())).length, 1);
        const put = await service.request({ method: 'PUT', url: api(`/users/${id}`), token: await service.adminToken(), payload: { is_revoked: false } });
        assert.equal(put.statusCode, 200, put.body);
        const reinstatedAt = (await rowOf(service, id)).reinstated_at;
        assert.ok(reinstatedAt !== null, 'the reinstatement is recorded');

        assert.deepEqual(await sweep(service.store, new Date(reinstatedAt + DAYS * DAY)), [], 'not again within account-expiry-days of the reinstatement');
        assert.deepEqual(await sweep(service.store, new Date(reinstatedAt + DAYS * DAY + 1)), [{ id, login: 'expiry-reinstated' }], 'expires again when it never logs in');
        assert.equal((await expiredEvents(service, id)).length, 2);
      });
    });

    test('an unused reset token issued before the expiry still works: it reinstates the account and starts its period again', async () => {
      await withService(target.dialect, async (service) => {
        const now = new Date();
        const id = await idleUser(service, 'expiry-reset', now, 100 * DAY);
        const issued = await service.request({ method: 'POST', url: api(`/users/${id}/password/reset`), token: await service.adminToken() });
        assert.equal(issued.statusCode, 201, issued.body);
        assert.equal((await sweep(service.store, now)).length, 1);

        const reset = await service.request({ method: 'POST', url: api('/auth/reset'), payload: { token: issued.body, password: 'expired but back again' } });
        assert.equal(reset.statusCode, 200, reset.body);
        assert.equal((await rowOf(service, id)).is_revoked, 0);
        assert.deepEqual(await sweep(service.store, new Date()), [], 'the reset starts a new period');
        await service.login('expiry-reset', 'expired but back again');
      });
    });
  });

  describe('concurrency', () => {
    test('eight sweeps at once on four connections: each idle account revoked once, with one event', async () => {
      await withService(target.dialect, async (service) => {
        const now = new Date();
        const idle = await Promise.all(Array.from({ length: 12 }, (_, i) => idleUser(service, `expiry-race-${i}`, now, 100 * DAY)));
        const active = await idleUser(service, 'expiry-race-active', now, DAY);
        const stores = Array.from({ length: 4 }, () => openStore({ dataDir: service.workspace.dataDir, databaseUrl: service.workspace.databaseUrl, poolSize: 2 }));
        try {
          const results = await atOnce(8, (i) => sweep(stores[i % stores.length] as Store, now, 3));
          const revoked = results.flat().map((user) => user.id);
          assert.deepEqual([...revoked].sort(), [...idle].sort(), 'every idle account, each by exactly one sweep');
        } finally {
          await Promise.all(stores.map((store) => store.close()));
        }
        for (const id of idle) {
          assert.equal((await rowOf(service, id)).is_revoked, 1);
          assert.equal((await expiredEvents(service, id)).length, 1, `one event for ${id}`);
        }
        assert.equal((await rowOf(service, active)).is_revoked, 0);
      });
    });

    test('a login whose password check was under way when the sweep revoked the account gets 401 user-revoked and no token', async () => {
      await withService(target.dialect, async (service) => {
        const now = new Date();
        const idleSince = now.getTime() - 100 * DAY;
        const id = await idleUser(service, 'expiry-race-login-late', now, 100 * DAY);
        // The real hasher, held at verify until the sweep has committed.
        let verifying!: () => void;
        const checking = new Promise<void>((resolve) => (verifying = resolve));
        let release!: () => void;
        const released = new Promise<void>((resolve) => (release = resolve));
        const held: PasswordHasher = {
          ...service.hasher,
          async verify(stored, password) {
            verifying();
            await released;
            return service.hasher.verify(stored, password);
          },
        };

        const loggingIn = login({ db: service.store.db, hasher: held, config: service.config }, { login: 'expiry-race-login-late', password: USER_PASSWORD }, null);
        await checking;
        assert.deepEqual(await sweep(service.store, now), [{ id, login: 'expiry-race-login-late' }]);
        release();
        await assert.rejects(loggingIn, (error) => error instanceof ServiceError && error.kind === 'user-revoked');

        const row = await rowOf(service, id);
        assert.deepEqual({ is_revoked: row.is_revoked, last_login: row.last_login, failed_attempts: row.failed_attempts }, { is_revoked: 1, last_login: idleSince, failed_attempts: 0 });
        assert.deepEqual(await service.store.db.selectFrom('login_tokens').select('token_hash').where('user_id', '=', id).execute(), [], 'no token was stored');
        assert.equal((await expiredEvents(service, id)).length, 1);
      });
    });

    test('a login recorded before the sweep reached the account keeps it: the sweep decides on the row the login wrote', async () => {
      await withService(target.dialect, async (service) => {
        const now = new Date();
        const id = await idleUser(service, 'expiry-race-login-early', now, 100 * DAY);
        const other = openStore({ dataDir: service.workspace.dataDir, databaseUrl: service.workspace.databaseUrl, poolSize: 2 });
        try {
          let sweeping: Promise<unknown> | undefined;
          // What a login's transaction does first (recordLogin), held open
          // while a sweep on another connection runs into it.
          await service.store.db.transaction().execute(async (trx) => {
            assert.equal(await users.recordLogin(trx, id, now.getTime()), true);
            sweeping = sweep(other, now);
            // PostgreSQL: wait until the sweep waits for this row. SQLite: the
            // sweep cannot begin its transaction before this one ends.
            if (target.dialect === 'postgres') await untilWaitingForLock(service);
          });
          assert.deepEqual(await sweeping, []);
        } finally {
          await other.close();
        }
        const row = await rowOf(service, id);
        assert.deepEqual({ is_revoked: row.is_revoked, last_login: row.last_login }, { is_revoked: 0, last_login: now.getTime() });
        assert.deepEqual(await expiredEvents(service, id), []);
      });
    });
  });

  describe('the schedule', () => {
    /** A logger that keeps what was logged and lets a test wait for the n-th line of a message. */
    function recordingLogger() {
      const lines: { level: 'info' | 'error'; facts: Record<string, unknown>; message: string }[] = [];
      const waiters: (() => void)[] = [];
      const log = (level: 'info' | 'error') => (facts: object, message: string) => {
        lines.push({ level, facts: facts as Record<string, unknown>, message });
        waiters.splice(0).forEach((wake) => wake());
      };
      const logger: ExpiryLogger = { info: log('info'), error: log('error') };
      const untilLines = async (count: number) => {
        while (lines.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
        return lines;
      };
      return { logger, lines, untilLines };
    }

    const MINUTES = 5;

    test('sweeps right after start, then every account-expiry-check-minutes, by the clock it is given; stop() ends it', async (t: TestContext) => {
      await withService(target.dialect, async (service) => {
        const now = new Date();
        let clockReads = 0;
        const clock = () => (clockReads++, now);
        const first = await idleUser(service, 'expiry-schedule-first', now, 100 * DAY);
        const second = await idleUser(service, 'expiry-schedule-second', now, DAY);
        const { logger, untilLines } = recordingLogger();
        t.mock.timers.enable({ apis: ['setTimeout'] });

        const schedule = scheduleAccountExpiry({ db: service.store.db, config: { accountExpiryDays: DAYS, accountExpiryCheckMinutes: MINUTES } }, { logger, now: clock });
        assert.ok(schedule);
        assert.equal(clockReads, 0);
        t.mock.timers.tick(0);
        assert.equal(clockReads, 1, 'the first sweep starts at once');
        assert.deepEqual((await untilLines(1))[0], { level: 'info', facts: { expired: 1, accountExpiryDays: DAYS }, message: 'account expiry sweep done' });
        assert.equal((await rowOf(service, first)).is_revoked, 1);

        assert.equal((await rowOf(service, second)).is_revoked, 0);
        await backDate(service, second, { lastLogin: now.getTime() - 100 * DAY });
        t.mock.timers.tick(MINUTES * 60 * 1000 - 1);
        assert.equal(clockReads, 1, 'not before account-expiry-check-minutes');
        t.mock.timers.tick(1);
        assert.equal(clockReads, 2, 'the next sweep after account-expiry-check-minutes');
        assert.deepEqual((await untilLines(2))[1]?.facts, { expired: 1, accountExpiryDays: DAYS });
        assert.equal((await rowOf(service, second)).is_revoked, 1);

        await schedule.stop();
        t.mock.timers.tick(100 * MINUTES * 60 * 1000);
        assert.equal(clockReads, 2, 'no sweep after stop()');
      });
    });

    test('a failing sweep is logged as an error, and the next one still runs', async (t: TestContext) => {
      await withWorkspace(target.dialect, async (workspace) => {
        const broken = openStore({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl, poolSize: 1 });
        await broken.close();
        t.mock.timers.enable({ apis: ['setTimeout'] });
        const { logger, untilLines } = recordingLogger();
        const schedule = scheduleAccountExpiry({ db: broken.db, config: { accountExpiryDays: DAYS, accountExpiryCheckMinutes: MINUTES } }, { logger });
        t.mock.timers.tick(0);
        const [failure] = await untilLines(1);
        assert.equal(failure?.level, 'error');
        assert.equal(failure?.message, 'account expiry sweep failed; the next one runs as planned');
        assert.ok(failure?.facts.err instanceof Error);
        t.mock.timers.tick(MINUTES * 60 * 1000);
        assert.equal((await untilLines(2))[1]?.level, 'error', 'the next sweep ran');
        await schedule?.stop();
      });
    });

    test('no schedule, and no sweep, when account-expiry-days is unset', async (t: TestContext) => {
      t.mock.timers.enable({ apis: ['setTimeout'] });
      let clockReads = 0;
      const { logger, lines } = recordingLogger();
      const unset = defaultConfig({});
      const schedule = scheduleAccountExpiry({ db: undefined as never, config: unset }, { logger, now: () => (clockReads++, new Date()) });
      assert.equal(schedule, undefined);
      t.mock.timers.tick(7 * 24 * 60 * 60 * 1000);
      assert.equal(clockReads, 0);
      assert.deepEqual(lines, []);
    });

    test('the service sweeps right after it starts, by the clock it is given, and stops sweeping when closed', async () => {
      await withWorkspace(target.dialect, async (workspace) => {
        const config = defaultConfig({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl, insecureHttp: true, port: 0, metricsPort: 0, accountExpiryDays: DAYS });
        // A user idle for DAYS - 1 days by the real clock, prepared before the start.
        const prepared = await openServices(config, { hasher: 'lazy' });
        let id: string;
        try {
          id = await insertUser(prepared.store.db, 'expiry-at-start', { created_at: Date.now() - (DAYS - 1) * DAY });
        } finally {
          await prepared.close();
        }

        // The service's clock runs two days ahead: by it the user is idle.
        const swept: Record<string, unknown>[] = [];
        let sweptOnce!: () => void;
        const firstSweep = new Promise<void>((resolve) => (sweptOnce = resolve));
        const logStream = new Writable({
          write(chunk: Buffer, _encoding, done) {
            for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
              const entry = JSON.parse(line) as Record<string, unknown>;
              if (entry.msg === 'account expiry sweep done') {
                swept.push(entry);
                sweptOnce();
              }
            }
            done();
          },
        });
        const clock = () => new Date(Date.now() + 2 * DAY);
        const service = await startService(config, { logger: createLogger('info', logStream), adminPassword: ADMIN_PASSWORD, announce: () => {}, now: clock });
        try {
          await firstSweep;
          assert.equal(swept[0]?.expired, 1);
          const row = await rowOfStore(service.store, id);
          assert.equal(row.is_revoked, 1);
        } finally {
          await service.close();
        }
      });
    });
  });
});

const rowOfStore = (store: Store, id: string) => store.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

/** Until a statement of this database waits for a row lock (PostgreSQL): the sweep has reached the locked row. */
async function untilWaitingForLock(service: TestService): Promise<void> {
  for (const deadline = Date.now() + 20_000; ; ) {
    if (Date.now() > deadline) throw new Error('the sweep never waited for the locked row');
    const { rows } = await sql<{ waiting: number | string }>`
      select count(*) as waiting from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock' and query ilike 'update "users"%'`.execute(service.store.db);
    if (Number(rows[0]?.waiting) > 0) return;
    await sleep(10);
  }
}
