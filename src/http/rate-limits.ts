// Rate limits on the endpoints that check a secret (POST /auth/token,
// POST /auth/reset, POST /command/validate-password, PUT
// /users/current/password): per source address (an IPv6 /64 counting as one,
// src/http/address-group.ts) and per account, answering 429 rate-limited with Retry-After. Counting is done
// by @fastify/rate-limit's store, in memory per instance: the lockout, which
// lives in the database, already bounds guesses per account across every
// instance; these limits only slow floods down, so N instances allowing N
// times the rate is acceptable (docs/decisions.md).

import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ServiceError } from '../errors.js';
import { addressGroup } from './address-group.js';

export interface RateLimitSettings {
  rateLimitPerAddress: number;
  rateLimitPerAccount: number;
}

type Hook = (request: FastifyRequest) => Promise<void>;

const WINDOW = '1 minute';
const noLimit: Hook = async () => {};

export interface SecretRateLimits {
  /** onRequest: before the body is read. */
  byAddress: Hook;
  /** preHandler: `accountOf` names the account the request is about (from the parsed body), or undefined. */
  byAccount(accountOf: (request: FastifyRequest) => string | undefined): Hook;
}

export function secretRateLimits(app: FastifyInstance, route: string, settings: RateLimitSettings): SecretRateLimits {
  const limiter = (max: number, keyOf: (request: FastifyRequest) => string | undefined): Hook => {
    if (max === 0) return noLimit;
    const check = app.createRateLimit({ max, timeWindow: WINDOW, keyGenerator: (request) => `${route}|${keyOf(request) ?? ''}` });
    return async (request) => {
      if (keyOf(request) === undefined) return;
      const result = await check(request);
      if (!result.isAllowed && result.isExceeded) {
        throw new ServiceError('rate-limited', 'Too many requests. Try again later.', undefined, Math.max(1, result.ttlInSeconds));
      }
    };
  };
  return {
    byAddress: limiter(settings.rateLimitPerAddress, (request) => addressGroup(request.ip)),
    byAccount: (accountOf) => limiter(settings.rateLimitPerAccount, accountOf),
  };
}

/** A stable, non-secret key for a token: its hash, so no token sits in the limiter's memory. */
export function tokenKey(token: unknown): string | undefined {
  return typeof token === 'string' && token !== '' ? createHash('sha256').update(token).digest('base64url') : undefined;
}
