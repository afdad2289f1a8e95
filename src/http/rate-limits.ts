// Rate limits on the endpoints that check a secret (POST /auth/token,
// POST /auth/reset, POST /command/validate-password, PUT
// /users/current/password): per source address (an IPv6 /64 counting as one,
// src/http/address-group.ts) and per account, answering 429 rate-limited with
// Retry-After. Both are counted by one call to the instance's counter
// (src/http/rate-limit-counters.ts): shared by every instance on PostgreSQL
// or Redis, one round trip per limited request; in memory on SQLite.
//
// The check runs as a preValidation hook: the body is parsed (the account is
// in it) but not yet validated, and an authenticated route (PUT
// /users/current/password) has checked its token, so a token check is never
// put behind a round trip for the count.

import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ServiceError } from '../errors.js';
import { addressGroup } from './address-group.js';
import type { HitCounter } from './rate-limit-counters.js';

export interface RateLimitSettings {
  rateLimitPerAddress: number;
  rateLimitPerAccount: number;
}

type Hook = (request: FastifyRequest) => Promise<void>;

const WINDOW_MS = 60_000;

declare module 'fastify' {
  interface FastifyInstance {
    /** Where this instance counts its rate limits (set up by buildApp). */
    rateLimitCounter: HitCounter;
  }
}

/** A count's key: not secret, and no login or address in the clear where the count is kept (a shared store). */
const countKey = (route: string, kind: 'address' | 'account', value: string) => createHash('sha256').update(`${route}|${kind}|${value}`).digest('base64url');

/**
 * The rate limits of one route (its counts are its own): a preValidation hook.
 * `accountOf` names the account the request is about (from the parsed body,
 * or the authenticated user), or undefined.
 */
export function secretRateLimits(app: FastifyInstance, route: string, settings: RateLimitSettings) {
  return (accountOf: (request: FastifyRequest) => string | undefined): Hook =>
    async (request) => {
      const limits: { key: string; max: number }[] = [];
      if (settings.rateLimitPerAddress > 0) limits.push({ key: countKey(route, 'address', addressGroup(request.ip)), max: settings.rateLimitPerAddress });
      const account = settings.rateLimitPerAccount > 0 ? accountOf(request) : undefined;
      if (account !== undefined) limits.push({ key: countKey(route, 'account', account), max: settings.rateLimitPerAccount });
      if (limits.length === 0) return;
      const counts = await app.rateLimitCounter.hit(
        limits.map((limit) => limit.key),
        WINDOW_MS,
      );
      const exceeded = counts.filter((count, index) => count.hits > (limits[index] as { max: number }).max);
      if (exceeded.length > 0) {
        const retryAfterSeconds = Math.max(1, ...exceeded.map((count) => Math.ceil(count.resetInMs / 1000)));
        throw new ServiceError('rate-limited', 'Too many requests. Try again later.', undefined, retryAfterSeconds);
      }
    };
}

/** A stable, non-secret key for a token: its hash, so no token sits in the limiter's memory. */
export function tokenKey(token: unknown): string | undefined {
  return typeof token === 'string' && token !== '' ? createHash('sha256').update(token).digest('base64url') : undefined;
}
