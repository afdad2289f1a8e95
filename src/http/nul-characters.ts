// No text the service takes may contain U+0000. PostgreSQL's text type
// cannot store it (the insert fails), SQLite would store it, and a login or
// label that is cut short by it in one tool and not another is a way to hide
// in the audit trail. So a request that carries one in its body, query
// string or path is refused before anything runs, the same on both
// databases. Path parameters too: not every route's parameter has a shape
// that excludes it (a directory id, a status service name), and one that
// reaches a PostgreSQL query is a 500 where SQLite answers 404.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { ServiceError } from '../errors.js';

// Keys and values alike, walked in place: no array is made per request.
function carriesNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (value === null || typeof value !== 'object' || depth > 32) return false;
  if (Array.isArray(value)) {
    for (const entry of value) if (carriesNul(entry, depth + 1)) return true;
    return false;
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (key.includes('\u0000') || carriesNul((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}

const nulIn = (part: string) => new ServiceError('schema-violation', `The request ${part} contains a NUL character (U+0000), which no field accepts.`);

/** A preValidation hook (callback-style: no promise per request): 400 schema-violation when the request carries a NUL character. */
export function refuseNulCharacters(request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void {
  if (carriesNul(request.body)) return done(nulIn('body'));
  if (carriesNul(request.query)) return done(nulIn('query string'));
  if (carriesNul(request.params)) return done(nulIn('path'));
  done();
}
