// Rate limits across instances (docs/decisions.md, "Rate limits across
// instances"): on PostgreSQL every instance counts in the database, with
// `rate-limit-store` in Redis, so two instances allow what one does; on
// SQLite each instance counts in its own memory. While the shared count
// cannot be reached each instance counts in its own memory (fail-open to
// per-instance limits), and says so in its log once.
// The recipe with HAProxy in front: test/processes/two-instances.test.ts.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { memoryCounter } from '../../src/http/rate-limit-counters.js';
import * as rateLimits from '../../src/store/rate-limits.js';
import { POSTGRES, openMigratedStore } from '../kit/databases.js';
import { REDIS_SKIP, startRedis, type ThrowawayRedis } from '../kit/redis.js';
import { ADMIN_PASSWORD, startTestService, type TestService } from '../kit/service.js';

class MemoryLog extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

const LIMITS = { rateLimitPerAddress: 5, rateLimitPerAccount: 3 };

/** A login nobody else in this run (or another run within the minute, on a shared Redis) counts. */
const fresh = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

const attempt = (service: TestService, login: string, remoteAddress: string) =>
  service.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: { login, password: 'not the password' }, remoteAddress });

/** Status codes of `count` login attempts, taking turns between the instances (as a round-robin balancer does). */
async function alternating(instances: TestService[], count: number, login: (i: number) => string, address: (i: number) => string): Promise<number[]> {
  const codes: number[] = [];
  for (let i = 0; i < count; i++) codes.push((await attempt(instances[i % instances.length] as TestService, login(i), address(i))).statusCode);
  return codes;
}

/** The pair allows what one instance allows: per account 3 (then 429 on either), per address 5. */
async function assertLimitsHoldForThePair(a: TestService, b: TestService, tag: string) {
  const account = fresh(`pair-${tag}`);
  assert.deepEqual(await alternating([a, b], 5, () => account, (i) => `10.60.${tag === 'pg' ? 1 : 2}.${i}`), [401, 401, 401, 429, 429], 'per account, across both instances');
  const address = `10.61.${tag === 'pg' ? 1 : 2}.${Math.floor(Math.random() * 250)}`;
  assert.deepEqual(await alternating([b, a], 7, (i) => fresh(`addr-${i}`), () => address), [401, 401, 401, 401, 401, 429, 429], 'per address, across both instances');
}

describe('rate limits shared by two instances on one PostgreSQL database', { skip: POSTGRES.skip }, () => {
  let a: TestService;
  let b: TestService;
  const log = new MemoryLog();
  before(async () => {
    a = await startTestService('postgres', LIMITS, { logStream: log });
    b = await startTestService('postgres', LIMITS, { workspace: a.workspace });
  });
  after(async () => {
    await b?.close();
    await a?.close();
  });

  test('the limits hold for the pair: two instances do not allow twice the limit', async () => {
    await assertLimitsHoldForThePair(a, b, 'pg');
    const rows = await a.store.db.selectFrom('rate_limits').selectAll().execute();
    assert.ok(rows.length >= 2, 'counted in the rate_limits table');
    for (const row of rows) assert.doesNotMatch(row.key, /pair-|10\.6/, 'the table holds hashes, no login or address');
  });

  test('a window that has ended starts over (rows back-dated), and the sweep deletes ended rows', async () => {
    const account = fresh('ended');
    assert.deepEqual(await alternating([a, b], 4, () => account, (i) => `10.62.0.${i}`), [401, 401, 401, 429]);
    await a.store.db.updateTable('rate_limits').set({ window_ends_at: 0 }).execute();
    assert.equal((await attempt(b, account, '10.62.0.9')).statusCode, 401, 'a new window');
    await a.store.db.updateTable('rate_limits').set({ window_ends_at: 0 }).execute();
    await rateLimits.sweepEnded(a.store.db);
    assert.equal((await a.store.db.selectFrom('rate_limits').select('key').execute()).length, 0);
  });

  test('while the table cannot be used, each instance limits in its own memory (fail-open to per-instance limits), then the shared count is back', async () => {
    await sql`alter table rate_limits rename to rate_limits_away`.execute(a.store.db);
    try {
      const account = fresh('pg-away');
      // Per instance now: a allows 3 and refuses the fourth; b counts its own 3.
      assert.deepEqual(await alternating([a], 4, () => account, (i) => `10.63.0.${i}`), [401, 401, 401, 429], 'instance a still limits');
      assert.deepEqual(await alternating([b], 4, () => account, (i) => `10.63.1.${i}`), [401, 401, 401, 429], 'instance b still limits');
      assert.match(log.text, /rate limits' shared store cannot be reached/);
      assert.equal(log.text.match(/shared store cannot be reached/g)?.length, 1, 'said once, not per request');
    } finally {
      await sql`alter table rate_limits_away rename to rate_limits`.execute(a.store.db);
    }
    const account = fresh('pg-back');
    assert.deepEqual(await alternating([a, b], 4, () => account, (i) => `10.64.0.${i}`), [401, 401, 401, 429], 'shared again');
    assert.match(log.text, /counted in the shared store again/);
  });
});

describe('rate limits shared through Redis (rate-limit-store)', { skip: REDIS_SKIP }, () => {
  let redis: ThrowawayRedis;
  let a: TestService;
  let b: TestService;
  const logA = new MemoryLog();
  const logB = new MemoryLog();
  before(async () => {
    redis = await startRedis();
    // Two instances on databases of their own: Redis alone is what they share.
    a = await startTestService('sqlite', { ...LIMITS, rateLimitStore: redis.url }, { logStream: logA });
    b = await startTestService('sqlite', { ...LIMITS, rateLimitStore: redis.url }, { logStream: logB });
  });
  after(async () => {
    await b?.close();
    await a?.close();
    await redis?.stop();
  });

  test('the limits hold for the pair', async () => {
    await assertLimitsHoldForThePair(a, b, 'redis');
  });

  test('Redis stopped: each instance limits in its own memory and logins go on (no 5xx); Redis back: shared again', async () => {
    await redis.stop();
    const account = fresh('redis-away');
    assert.deepEqual(await alternating([a], 4, () => account, (i) => `10.65.0.${i}`), [401, 401, 401, 429], 'instance a still limits');
    assert.deepEqual(await alternating([b], 4, () => account, (i) => `10.65.1.${i}`), [401, 401, 401, 429], 'instance b still limits, counting its own');
    assert.equal((await a.login('admin', ADMIN_PASSWORD)).length > 0, true, 'a login goes on');
    assert.equal(logA.text.match(/shared store cannot be reached/g)?.length, 1, 'said once, not per request');

    await redis.start();
    // ioredis reconnects by itself: go on (bounded) until both instances count in Redis again.
    const deadline = Date.now() + 30_000;
    while (!(logA.text.includes('counted in the shared store again') && logB.text.includes('counted in the shared store again'))) {
      assert.ok(Date.now() < deadline, 'both instances went back to Redis');
      await attempt(a, fresh('probe'), '10.66.0.1');
      await attempt(b, fresh('probe'), '10.66.0.1');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const shared = fresh('redis-back');
    assert.deepEqual(await alternating([a, b], 4, () => shared, (i) => `10.68.0.${i}`), [401, 401, 401, 429], 'shared again');
  });
});

describe('rate limits on SQLite stay in each instance\'s memory', () => {
  let a: TestService;
  let b: TestService;
  before(async () => {
    a = await startTestService('sqlite', LIMITS);
    b = await startTestService('sqlite', LIMITS, { workspace: a.workspace });
  });
  after(async () => {
    await b?.close();
    await a?.close();
  });

  test('two instances on one SQLite file count apart, and no rate_limits table exists', async () => {
    assert.equal(a.app.rateLimitCounter.kind, 'memory');
    const account = fresh('sqlite');
    assert.deepEqual(await alternating([a, b], 8, () => account, (i) => `10.70.0.${i}`), [401, 401, 401, 401, 401, 401, 429, 429]);
    const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name = 'rate_limits'`.execute(a.store.db);
    assert.equal(tables.rows.length, 0);
  });
});

test('the memory counter: fixed windows that start over when they end, and a bounded number of keys', async () => {
  let now = 1_000_000;
  const counter = memoryCounter(() => now);
  assert.deepEqual(await counter.hit(['x', 'y'], 60_000), [
    { hits: 1, resetInMs: 60_000 },
    { hits: 1, resetInMs: 60_000 },
  ]);
  now += 59_000;
  assert.deepEqual(await counter.hit(['x'], 60_000), [{ hits: 2, resetInMs: 1_000 }]);
  now += 1_000;
  assert.deepEqual(await counter.hit(['x'], 60_000), [{ hits: 1, resetInMs: 60_000 }], 'the window ended: a new one');
  for (let i = 0; i < 20_000; i++) await counter.hit([`k${i}`], 60_000);
  assert.deepEqual(await counter.hit(['k19999'], 60_000), [{ hits: 2, resetInMs: 60_000 }], 'recent keys are kept');
  assert.deepEqual(await counter.hit(['k0'], 60_000), [{ hits: 1, resetInMs: 60_000 }], 'the oldest made room');
});

test('countHits on PostgreSQL: one statement counts several keys in their own windows', { skip: POSTGRES.skip }, async () => {
  const { store, cleanup } = await openMigratedStore('postgres');
  try {
    assert.deepEqual((await rateLimits.countHits(store.db, ['p', 'q'], 60_000)).map((count) => count.hits), [1, 1]);
    const [p, q] = await rateLimits.countHits(store.db, ['p', 'q'], 60_000);
    assert.deepEqual([p?.hits, q?.hits], [2, 2]);
    assert.ok(p && p.resetInMs > 0 && p.resetInMs <= 60_000);
  } finally {
    await cleanup();
  }
});
