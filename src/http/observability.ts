// Request ids, the request log and request metrics for the HTTP app.
//
// Request ids: each request gets a UUID, or keeps the X-Request-ID a load
// balancer or client sent (when it is a plain token of at most 128
// characters), and the response carries it back in X-Request-ID. Fastify puts
// it in every log line of the request as `reqId`.
//
// Request log: one `request completed` line per answer, at info (method,
// URL with any token masked, address, status, time). The `incoming request`
// line Fastify would write first is logged at debug only: at info it doubled
// the logging cost of every request and adds nothing the completed line lacks
// except for requests that never finish, which debug is for.
//
// Metrics: the same onResponse hook counts and times each answer by method,
// route pattern and status (src/metrics/request-metrics.ts). (Security events reach the metrics from the store, once
// their transaction commits: src/services.ts subscribes them.)

import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
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
  // The request line carries only the serialised request (id, method, URL
  // with every secret query parameter and path token masked, address), the
  // status and the time: no field that redaction could find, so it skips
  // the redaction pass every other line gets. Bound once, not per request.
  const requestLog = logger?.child({}, { redact: [] });
  return {
    onRequest(request, reply) {
      reply.header(REQUEST_ID_HEADER, request.id);
      if (logger?.isLevelEnabled('debug')) request.log.debug({ req: request }, 'incoming request');
    },
    onResponse(request, reply) {
      if (requestLog?.isLevelEnabled('info')) {
        requestLog.info({ reqId: request.id, req: request, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime }, 'request completed');
      }
      metrics?.observeRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    },
  };
}
