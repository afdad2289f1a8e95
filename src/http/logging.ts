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
 * Where the service's log goes by default: stdout, in batches, written
 * asynchronously. Lines wait in memory until BATCH_BYTES have gathered or
 * BATCH_DELAY_MS have passed since the first of them, and then go out in one
 * write: under load tens of requests' lines per write instead of one write
 * per request (each write costs the event loop a hand-over to libuv's
 * thread pool, several times what formatting the line costs). The write
 * itself is asynchronous (pino's SonicBoom on fd 1; a batch handed on while
 * one is in flight follows it), so a slow reader of stdout never blocks a
 * request. flushLog() writes what waits and resolves once everything is
 * written, and the shutdown awaits it; a process that exits any other way
 * writes what is left synchronously on its way out.
 */
const BATCH_BYTES = 16 * 1024;
const BATCH_DELAY_MS = 50;

class BatchedStdout {
  private readonly sink: ReturnType<typeof pino.destination>;
  private pending: string[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor() {
    // Before pino's own exit handler (registered with the sink), which writes the sink's buffer synchronously.
    process.prependOnceListener('exit', () => {
      try {
        this.handOn();
        this.sink.flushSync();
      } catch {
        // stdout already gone: nothing to write to
      }
    });
    this.sink = pino.destination({ dest: 1, sync: false, minLength: 1 });
  }

  write(line: string): void {
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.pendingBytes >= BATCH_BYTES) this.handOn();
    else this.timer ??= setTimeout(this.handOn, BATCH_DELAY_MS).unref();
  }

  private readonly handOn = (): void => {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending.join('');
    this.pending = [];
    this.pendingBytes = 0;
    this.sink.write(batch);
  };

  /** Hands on what is pending, then calls back once the sink has written everything. */
  flush(callback: (error?: Error) => void): void {
    this.handOn();
    // minLength > 0: SonicBoom's flush waits for the writes in flight to end.
    this.sink.flush(() => callback());
  }
}

/** Resolves once every line logged so far is written (or the destination has no flush). */
export function flushLog(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}

export function createLogger(level: string, destination: pino.DestinationStream = new BatchedStdout()): Logger {
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
