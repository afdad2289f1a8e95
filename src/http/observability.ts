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
// Metrics: an onResponse hook counts and times each answer by method, route
// pattern and status. (Security events reach the metrics from the store, once
// their transaction commits: src/services.ts subscribes them.)

import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { ServiceMetrics } from '../metrics/metrics.js';

export const REQUEST_ID_HEADER = 'x-request-id';
const ACCEPTED_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Fastify's genReqId. */
export function requestIdOf(raw: IncomingMessage): string {
  const given = raw.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && ACCEPTED_REQUEST_ID.test(given) ? given : randomUUID();
}

export function registerObservability(app: FastifyInstance, metrics: ServiceMetrics | undefined): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    request.log.debug({ req: request }, 'incoming request'); // a no-op above debug
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ req: request, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime }, 'request completed');
  });
  if (!metrics) return;

  app.addHook('onResponse', async (request, reply) => {
    metrics.observeRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });
}
