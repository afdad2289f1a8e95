// Where the rate limits count (src/http/rate-limits.ts), chosen once at start:
// - `rate-limit-store` set: in that Redis, shared by every instance using it;
// - else on PostgreSQL: in the database (src/store/rate-limits.ts), shared by
//   every instance on it;
// - else (SQLite): in this instance's memory.
// Either shared count costs one round trip per limited request, however many
// keys (the address and the account) it counts.
//
// While the shared count cannot be reached, each instance counts in its own
// memory instead (docs/decisions.md, "Rate limits across instances"): the
// limits keep refusing floods, per instance, and logins the database can
// still serve are not refused because a counter is away.

import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import type { Store } from '../store/database.js';
import * as rateLimits from '../store/rate-limits.js';

export interface WindowCount {
  /** Hits in the key's current window, this one included. */
  hits: number;
  /** Milliseconds until the window ends. */
  resetInMs: number;
}

export interface HitCounter {
  /** Where the counts are kept, for the log: `memory`, `database` or `redis`. */
  readonly kind: 'memory' | 'database' | 'redis';
  /** Counts one hit on each key (all distinct) in its fixed window of `windowMs`; the counts in the keys' order. */
  hit(keys: readonly string[], windowMs: number): Promise<WindowCount[]>;
  close(): Promise<void>;
}

/** The most keys one instance keeps in memory: past it, ended windows go first, then the oldest. */
const MEMORY_KEYS = 10_000;

/** Fixed windows in this process's memory. */
export function memoryCounter(now: () => number = Date.now): HitCounter {
  const windows = new Map<string, { hits: number; endsAt: number }>();
  const makeRoom = (at: number) => {
    for (const [key, window] of windows) if (window.endsAt <= at) windows.delete(key);
    for (const key of windows.keys()) {
      if (windows.size < MEMORY_KEYS) break;
      windows.delete(key);
    }
  };
  return {
    kind: 'memory',
    async hit(keys, windowMs) {
      const at = now();
      return keys.map((key) => {
        let window = windows.get(key);
        if (!window || window.endsAt <= at) {
          if (!window && windows.size >= MEMORY_KEYS) makeRoom(at);
          window = { hits: 0, endsAt: at + windowMs };
          windows.set(key, window);
        }
        window.hits++;
        return { hits: window.hits, resetInMs: window.endsAt - at };
      });
    },
    async close() {
      windows.clear();
    },
  };
}

const SWEEP_INTERVAL_MS = 60_000;

/** Counts in PostgreSQL's rate_limits table; ended windows are swept once a minute. */
export function databaseCounter(store: Store): HitCounter {
  const sweep = setInterval(() => void rateLimits.sweepEnded(store.db).catch(() => {}), SWEEP_INTERVAL_MS).unref();
  return {
    kind: 'database',
    hit: (keys, windowMs) => rateLimits.countHits(store.db, keys, windowMs),
    async close() {
      clearInterval(sweep);
    },
  };
}

// One script for all of a request's keys: one round trip. A key's first hit
// starts its window (PEXPIRE); a key that somehow lost its expiry gets one.
const HIT_SCRIPT = `
local counts = {}
for i, key in ipairs(KEYS) do
  local hits = redis.call('INCR', key)
  if hits == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, ARGV[1])
    ttl = tonumber(ARGV[1])
  end
  counts[i] = {hits, ttl}
end
return counts`;

const REDIS_PREFIX = 'rbac:rate-limit:';
/** A command waits no longer than this for Redis; then the instance counts in memory. */
const REDIS_COMMAND_TIMEOUT_MS = 500;

type HitCommand = (count: number, ...args: (string | number)[]) => Promise<[number, number][]>;

/** Counts in Redis; connects before the first request, and keeps reconnecting while Redis is away. */
export async function redisCounter(url: string): Promise<HitCounter> {
  const redis = new Redis(url, {
    lazyConnect: true,
    // A command while disconnected fails at once instead of queueing: the caller counts in memory meanwhile.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout: 2000,
  });
  // Connection errors are what hit() reports; without a listener ioredis would print each one.
  redis.on('error', () => {});
  redis.defineCommand('rbacRateLimitHit', { lua: HIT_SCRIPT });
  const hitCommand = (redis as unknown as { rbacRateLimitHit: HitCommand }).rbacRateLimitHit.bind(redis);
  // Not reachable at start: counted in memory until it is (ioredis goes on reconnecting).
  await redis.connect().catch(() => {});
  return {
    kind: 'redis',
    async hit(keys, windowMs) {
      const counts = await hitCommand(keys.length, ...keys.map((key) => REDIS_PREFIX + key), windowMs);
      return counts.map(([hits, ttl]) => ({ hits, resetInMs: ttl }));
    },
    async close() {
      redis.disconnect();
    },
  };
}

/**
 * A shared counter that counts in this instance's memory while it fails;
 * the log says when that starts and ends (once each, not per request).
 */
export function withLocalFallback(shared: HitCounter, log: FastifyBaseLogger): HitCounter {
  const local = memoryCounter();
  let away = false;
  return {
    kind: shared.kind,
    async hit(keys, windowMs) {
      try {
        const counts = await shared.hit(keys, windowMs);
        if (away) log.info({ rateLimitStore: shared.kind }, 'rate limits are counted in the shared store again');
        away = false;
        return counts;
      } catch (error) {
        if (!away) log.warn({ rateLimitStore: shared.kind, reason: (error as Error).message }, 'the rate limits\' shared store cannot be reached: each instance counts in its own memory until it can');
        away = true;
        return local.hit(keys, windowMs);
      }
    },
    async close() {
      await Promise.all([shared.close(), local.close()]);
    },
  };
}

/** The counter this instance uses, by its settings and database. */
export async function rateLimitCounter(options: { rateLimitStore: string | undefined; store: Store; log: FastifyBaseLogger }): Promise<HitCounter> {
  if (options.rateLimitStore) return withLocalFallback(await redisCounter(options.rateLimitStore), options.log);
  if (options.store.dialect === 'postgres') return withLocalFallback(databaseCounter(options.store), options.log);
  return memoryCounter();
}
