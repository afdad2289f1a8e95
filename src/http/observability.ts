// Request ids, the request log and request metrics for the HTTP app.
//
// Request ids: each request gets a UUID, or keeps the X-Request-ID a load
// balancer or client sent (when it is a plain token of at most 128
// characters), and the response carries it back in X-Request-ID. Fastify puts
// it in every log line of the request as `reqId`.
//
// Request log: one `request completed` line per answer, at info (method,
// URL with anything that could be a secret redacted, address, status, time), formatted here
// (requestLineWriter below). The `incoming request`
// line Fastify would write first is logged at debug only: at info it doubled
// the logging cost of every request and adds nothing the completed line lacks
// except for requests that never finish, which debug is for.
//
// Metrics: the same onResponse hook counts and times each answer by method,
// route pattern and status (src/metrics/request-metrics.ts). (Security events reach the metrics from the store, once
// their transaction commits: src/services.ts subscribes them.)

import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import pino, { type Bindings, type ChildLoggerOptions, type Logger } from 'pino';
import { redactUrl } from './logging.js';
import type { ServiceMetrics } from '../metrics/metrics.js';

export const REQUEST_ID_HEADER = 'x-request-id';
const ACCEPTED_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Fastify's genReqId. */
export function requestIdOf(raw: IncomingMessage): string {
  const given = raw.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && ACCEPTED_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * What the service does for every request, as one hook of each kind that
 * runs per request (app.ts registers them; each hook Fastify runs costs as
 * much as a small route):
 * - onRequest: the request id header (and the `incoming request` line at debug);
 * - onResponse: the `request completed` line and the request metrics.
 */
export interface RequestObservation {
  onRequest(request: FastifyRequest, reply: FastifyReply): void;
  onResponse(request: FastifyRequest, reply: FastifyReply): void;
}

export function requestObservation(logger: Logger | undefined, metrics: ServiceMetrics | undefined): RequestObservation {
  const requestLine = logger ? requestLineWriter(logger) : undefined;
  return {
    onRequest(request, reply) {
      reply.header(REQUEST_ID_HEADER, request.id);
      if (logger?.isLevelEnabled('debug')) request.log.debug({ req: request }, 'incoming request');
    },
    onResponse(request, reply) {
      requestLine?.(request, reply);
      metrics?.observeRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    },
  };
}

/**
 * The `request completed` line, written straight to the logger's
 * destination in the logger's own format (level, time, the logger's
 * bindings, then the fields), the line pino would write for
 * `info({ reqId, req, res, responseTime }, 'request completed')`. It carries
 * only the request id, method, URL with anything that could be a secret
 * redacted (redactUrl), address, status and time: no field
 * that redaction could find, so it skips pino's redaction and generic
 * serialisation, which cost three times what the rest of a cheap request
 * does. Strings are escaped with JSON.stringify.
 */
function requestLineWriter(logger: Logger): (request: FastifyRequest, reply: FastifyReply) => void {
  const symbols = pino.symbols as typeof pino.symbols & { chindingsSym: symbol };
  const internals = logger as unknown as Record<symbol, unknown>;
  const destination = internals[symbols.streamSym] as { write(line: string): void } | undefined;
  const bindings = internals[symbols.chindingsSym];
  const info = logger.levels.values.info as number;
  if (!destination || typeof bindings !== 'string') {
    // Not a plain pino logger: let it write the line itself.
    return (request, reply) => logger.info({ reqId: request.id, req: request, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime }, 'request completed');
  }
  return (request, reply) => {
    if (!logger.isLevelEnabled('info')) return;
    // ?? null: JSON.stringify(undefined) is no JSON (a request whose socket is gone has no ip).
    const id = JSON.stringify(request.id ?? null);
    destination.write(
      `{"level":${info},"time":${Date.now()}${bindings},"reqId":${id},"req":{"id":${id},"method":${JSON.stringify(request.method)},"url":${JSON.stringify(redactUrl(request.url))},"remoteAddress":${JSON.stringify(request.ip ?? null)}},` +
        `"res":{"statusCode":${reply.statusCode}},"responseTime":${reply.elapsedTime},"msg":"request completed"}\n`,
    );
  };
}

/**
 * Fastify's childLoggerFactory: each request's logger (request.log, with the
 * request id as `reqId`) is made by pino only when the request logs through
 * it — an error, a warning, a debug line. Most requests never do: their one
 * line is the request line above, written with request.id directly, so
 * making a pino child per request (its bindings serialised, its methods
 * bound) was work for nothing. A line logged through request.log is the
 * same line, at the same moment, as before.
 */
export function lazyRequestLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new LazyRequestLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
}

type Method = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

// Methods on the prototype: a request's logger allocates nothing but itself.
class LazyRequestLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  private get logger(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  private log(method: Method, args: unknown[]): void {
    const logger = this.logger;
    (logger[method] as (...args: unknown[]) => void).apply(logger, args);
  }

  get level(): string {
    return this.made?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.logger.level = level;
  }

  fatal(...args: unknown[]): void {
    this.log('fatal', args);
  }
  error(...args: unknown[]): void {
    this.log('error', args);
  }
  warn(...args: unknown[]): void {
    this.log('warn', args);
  }
  info(...args: unknown[]): void {
    this.log('info', args);
  }
  debug(...args: unknown[]): void {
    this.log('debug', args);
  }
  trace(...args: unknown[]): void {
    this.log('trace', args);
  }
  silent(...args: unknown[]): void {
    this.log('silent', args);
  }
  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }
}
