// Request logging that never carries a secret: a logged URL keeps only what
// cannot be one (redactUrl), and secret-bearing fields are redacted wherever
// they appear in a log object (except in the request line, which has none:
// src/http/observability.ts).

import { unescape } from 'node:querystring';
import type { FastifyRequest } from 'fastify';
import pino, { type Logger } from 'pino';
import { isUuid } from '../permissions/user-ids.js';

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

const REDACTED = '[REDACTED]';

/**
 * The service's own query parameters whose values are never secrets. Any
 * other parameter's value is logged redacted, whatever its name (`token`,
 * `revoke_tokens`, the reset form's `password` and `confirm`, a name no
 * form uses yet): a list of what may be logged cannot miss a new way of
 * sending a secret, a list of what may not can.
 */
const HARMLESS_QUERY_PARAMETERS = new Set([
  'offset',
  'limit',
  'order',
  'order_by',
  'filter',
  'include_roles',
  'id',
  'level',
  'timeout',
  'revoke_tokens_by_ids',
  'revoke_tokens_by_usernames',
  'revoke_tokens_by_labels',
]);

// Every literal segment of the service's routes has this shape, as do PE's
// words in paths (object types, actions, service names); no login token
// (43 characters, mixed case) or reset token (a JWT) has it.
const PLAIN_WORD = /^[a-z0-9][a-z0-9._-]{0,31}$/;

/** As the parser reads it: `+` is a space, and malformed %-sequences are kept, not thrown on (querystring.unescape). */
const decoded = (raw: string, plus: boolean) => (raw.includes('%') || (plus && raw.includes('+')) ? unescape(plus ? raw.replace(/\+/g, ' ') : raw) : raw);

/** A plain word or an id (a UUID, a number): something that may be logged as sent. */
const isLoggable = (text: string) => PLAIN_WORD.test(text) || isUuid(text);

function redactedPath(path: string): string {
  return path
    .split('/')
    .map((segment) => (segment === '' || isLoggable(decoded(segment, false)) ? segment : REDACTED))
    .join('/');
}

function redactedPair(pair: string): string {
  const equals = pair.indexOf('=');
  const rawName = equals === -1 ? pair : pair.slice(0, equals);
  // The parser decodes names, so `%63onfirm` is `confirm` and is judged as such.
  const name = decoded(rawName, true);
  const shownName = name === '' || isLoggable(name) ? rawName : REDACTED;
  if (equals === -1) return shownName;
  const rawValue = pair.slice(equals + 1);
  // PE's documents quote values (order="desc"); a list (id=a,b) is judged item by item.
  const harmless =
    rawValue === '' ||
    (HARMLESS_QUERY_PARAMETERS.has(name) && decoded(rawValue, true).replace(/^"(.*)"$/, '$1').split(',').every((item) => item === '' || isLoggable(item)));
  return `${shownName}=${harmless ? rawValue : REDACTED}`;
}

/**
 * The URL as the log shows it (CONTRACT §7: no password or token in a log,
 * however the client spells it, nor a token sent where an id belongs):
 * - each path segment as sent only when it is a plain word or an id (every
 *   route's literal segments are), otherwise [REDACTED] — so the token of
 *   DELETE /rbac-api/v2/tokens/<token>, or one sent as /users/<token>, never
 *   reaches the log, matched route or not;
 * - each query parameter's value as sent only when the parameter is one of
 *   HARMLESS_QUERY_PARAMETERS (judged by its decoded name) and the value is
 *   plain words or ids, otherwise [REDACTED]; a name that is not a plain word
 *   is redacted too (`?<token>`).
 */
export function redactUrl(rawUrl: string): string {
  const start = rawUrl.indexOf('?');
  if (start === -1) return redactedPath(rawUrl);
  const query = rawUrl.slice(start + 1);
  return `${redactedPath(rawUrl.slice(0, start))}?${query === '' ? '' : query.split('&').map(redactedPair).join('&')}`;
}

/** The path alone, redacted (redactUrl): what an error message may say about the request's URL. */
export function redactedPathOf(rawUrl: string): string {
  const start = rawUrl.indexOf('?');
  return redactedPath(start === -1 ? rawUrl : rawUrl.slice(0, start));
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
          return { id: request.id, method: request.method, url: redactUrl(request.url), remoteAddress: request.ip };
        },
      },
    },
    destination,
  );
}
