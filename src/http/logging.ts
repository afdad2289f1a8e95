// Request logging that never carries a secret: query parameters named like
// a token or password are masked in logged URLs, and secret-bearing fields are redacted wherever
// they appear in a log object (except in the request line, which has none:
// src/http/observability.ts).

import { unescape } from 'node:querystring';
import type { FastifyRequest } from 'fastify';
import pino, { type Logger } from 'pino';

export const REDACTED_PATHS = [
  'password',
  'current_password',
  'token',
  'reset_token',
  '*.password',
  '*.current_password',
  '*.token',
  '*.reset_token',
  'req.headers["x-authentication"]',
  'req.headers.authorization',
  'req.headers.cookie',
];

/** Query parameter names whose values are secrets, judged after decoding (as the query parser sees them). */
function isSecretName(rawName: string): boolean {
  // querystring.unescape tolerates malformed %-sequences instead of throwing.
  const name = unescape(rawName.replace(/\+/g, ' ')).toLowerCase();
  return name.includes('token') || name.includes('password') || name.includes('secret');
}

// PE's DELETE /rbac-api/v2/tokens/<token> carries a whole login token in the path.
const TOKEN_IN_PATH = /^(\/rbac-api\/v2\/tokens\/)[^/?]+/i;

/**
 * The URL with the value of every secret-named query parameter replaced:
 * `token`, `reset_token`, `password`… however they are spelt (`%74oken`,
 * `TOKEN`), since the query parser decodes the name before the service reads it;
 * and the token of DELETE /rbac-api/v2/tokens/<token>.
 */
export function maskTokenInUrl(rawUrl: string): string {
  const url = rawUrl.replace(TOKEN_IN_PATH, '$1[REDACTED]');
  const start = url.indexOf('?');
  if (start === -1) return url;
  const pairs = url
    .slice(start + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      if (equals === -1) return pair;
      return isSecretName(pair.slice(0, equals)) ? `${pair.slice(0, equals)}=[REDACTED]` : pair;
    });
  return `${url.slice(0, start)}?${pairs.join('&')}`;
}

/**
 * Where the service's log goes by default: stdout, written asynchronously.
 * A line is handed to the kernel by a write that does not block the event
 * loop; lines logged while a write is in flight wait in memory and go out
 * together in the next one, so under load the log costs one write per batch,
 * not one per request. flushLog() waits until everything is written (the
 * shutdown awaits it), and pino writes what is left synchronously if the
 * process exits any other way.
 */
function stdoutInBatches(): pino.DestinationStream {
  // minLength 1: write as soon as nothing is in flight (no line waits for a
  // batch to fill), and flush() waits for the writes to end (it does not with 0).
  return pino.destination({ dest: 1, sync: false, minLength: 1 });
}

/** Resolves once every line logged so far is written (or the destination has no flush). */
export function flushLog(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}

export function createLogger(level: string, destination: pino.DestinationStream = stdoutInBatches()): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      serializers: {
        req(request: FastifyRequest) {
          return { id: request.id, method: request.method, url: maskTokenInUrl(request.url), remoteAddress: request.ip };
        },
      },
    },
    destination,
  );
}
