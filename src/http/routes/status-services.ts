// PE's status service: GET /status/v1/services and
// GET /status/v1/services/rbac-service, in PE's shape, with a real database
// check (src/http/database-health.ts) bounded by a short timeout. 200 when
// running, 503 when the database does not answer; the next request checks
// again, so the state recovers as soon as the database does. During the
// shutdown grace period (src/http/shutdown-grace.ts) the state is `stopping`
// and the answer 503, so balancers checking here take the instance out. 400 for a bad
// `level`, 404 for a service name other than rbac-service.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ServiceError } from '../../errors.js';
import { SERVICE_VERSION } from '../../version.js';
import type { Services } from '../../services.js';
import { ErrorBody, ServiceStatus, ServiceStatuses } from '../../shapes.js';
import { DATABASE_CHECK_TIMEOUT_MS, type DatabaseHealth } from '../database-health.js';
import type { StoppingState } from '../shutdown-grace.js';

export const SERVICE_NAME = 'rbac-service';

type Level = 'critical' | 'info' | 'debug';

const Query = Type.Object(
  {
    level: Type.Optional(Type.String({ description: 'critical, info (default) or debug' })),
    timeout: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: 'seconds; the database check waits at most 2 s' })),
  },
  { additionalProperties: false },
);

function levelOf(raw: string | undefined): Level {
  if (raw === undefined) return 'info';
  if (raw === 'critical' || raw === 'info' || raw === 'debug') return raw;
  throw new ServiceError('schema-violation', 'The level parameter must be critical, info or debug.');
}

export function statusServiceRoutes(services: Services, health: DatabaseHealth, shutdown: StoppingState): FastifyPluginAsyncTypebox {
  const { store } = services;

  const poolStats = () => {
    const pool = store.pool;
    return pool ? { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount } : undefined;
  };

  const serviceStatus = async (level: Level, timeoutSeconds: number | undefined) => {
    const timeoutMs = Math.max(1, Math.min(DATABASE_CHECK_TIMEOUT_MS, (timeoutSeconds ?? 30) * 1000));
    const check = await health.check(timeoutMs);
    const database: { state: 'running' | 'error'; dialect: string; response_time_ms?: number; error?: string } = { state: check.state, dialect: store.dialect };
    if (check.response_time_ms !== undefined) database.response_time_ms = check.response_time_ms;
    if (check.error !== undefined) database.error = level === 'debug' && check.detail ? check.detail : check.error;
    const pool = level === 'debug' ? poolStats() : undefined;
    // PE's state for a service on its way down: the database may well still answer.
    const state = shutdown.stopping ? ('stopping' as const) : check.state;
    return {
      service_version: SERVICE_VERSION,
      service_status_version: 1,
      detail_level: level,
      state,
      status: { db_up: check.state === 'running', database, ...(pool ? { db_pool: pool } : {}) },
      active_alerts: shutdown.stopping ? [{ severity: 'warning', message: 'The service is shutting down; send requests to another instance.' }] : [],
      service_name: SERVICE_NAME,
    };
  };

  return async (app) => {
    app.get(
      '/status/v1/services',
      {
        schema: {
          tags: ['status'],
          security: [],
          summary: "PE's status service: the state of every service here (only rbac-service), with a database check",
          description: '200 when every service is running, 503 when one is not (the database does not answer, or the service is shutting down: state stopping).',
          querystring: Query,
          response: { 200: ServiceStatuses, 400: ErrorBody, 503: ServiceStatuses },
        },
      },
      async (request, reply) => {
        const status = await serviceStatus(levelOf(request.query.level), request.query.timeout === undefined ? undefined : Number(request.query.timeout));
        return reply
          .code(status.state === 'running' ? 200 : 503)
          .header('cache-control', 'no-store')
          .send({ [SERVICE_NAME]: status });
      },
    );

    app.get(
      '/status/v1/services/:service_name',
      {
        schema: {
          tags: ['status'],
          security: [],
          summary: "PE's status service: the state of one service (rbac-service)",
          params: Type.Object({ service_name: Type.String() }, { additionalProperties: false }),
          querystring: Query,
          response: { 200: ServiceStatus, 400: ErrorBody, 404: ErrorBody, 503: ServiceStatus },
        },
      },
      async (request, reply) => {
        const level = levelOf(request.query.level);
        if (request.params.service_name !== SERVICE_NAME) {
          throw new ServiceError('not-found', `There is no service named ${JSON.stringify(request.params.service_name.slice(0, 64))}; this one is ${SERVICE_NAME}.`);
        }
        const status = await serviceStatus(level, request.query.timeout === undefined ? undefined : Number(request.query.timeout));
        return reply
          .code(status.state === 'running' ? 200 : 503)
          .header('cache-control', 'no-store')
          .send(status);
      },
    );
  };
}
