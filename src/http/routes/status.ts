// GET /status/v1/simple (and /status/v1/simple/rbac-service): PE's
// readiness answer. `running` (200) only while the service can serve, that
// is while its database answers; otherwise 503 service-unavailable with the
// reason. Balancers call it as often as they like, so the database check
// behind it is shared and reused for up to SIMPLE_CHECK_MAX_AGE_MS
// (src/http/database-health.ts). Another service name is 404, as PE answers.
// During the shutdown grace period (src/http/shutdown-grace.ts) it is 503 too,
// whatever the database says, so balancers take the instance out.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { ServiceError } from '../../errors.js';
import type { Services } from '../../services.js';
import { ErrorBody, Running } from '../../shapes.js';
import { DATABASE_CHECK_TIMEOUT_MS, SIMPLE_CHECK_MAX_AGE_MS, type DatabaseHealth } from '../database-health.js';
import type { StoppingState } from '../shutdown-grace.js';
import { SERVICE_NAME } from './status-services.js';

const RESPONSES = {
  200: { description: 'running', content: { 'text/plain': { schema: Running } } },
  503: ErrorBody,
};

export function statusRoutes(_services: Services, health: DatabaseHealth, shutdown: StoppingState): FastifyPluginAsyncTypebox {
  const answer = async (reply: FastifyReply) => {
    if (shutdown.stopping) throw new ServiceError('service-unavailable', 'The service is shutting down; send requests to another instance.');
    const check = await health.recent(SIMPLE_CHECK_MAX_AGE_MS, DATABASE_CHECK_TIMEOUT_MS);
    if (check.state !== 'running') throw new ServiceError('service-unavailable', `The service cannot serve requests: ${check.error ?? 'the database does not answer'}.`);
    return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send('running');
  };
  return async (app) => {
    app.get(
      '/status/v1/simple',
      { schema: { tags: ['status'], security: [], summary: 'Readiness: running while the service can serve (its database answers), else 503 (also while it shuts down)', response: RESPONSES } },
      async (_request, reply) => answer(reply),
    );
    app.get(
      '/status/v1/simple/:service_name',
      {
        schema: {
          tags: ['status'],
          security: [],
          summary: 'Readiness of one service (rbac-service), as GET /status/v1/simple',
          params: Type.Object({ service_name: Type.String() }, { additionalProperties: false }),
          response: { ...RESPONSES, 404: ErrorBody },
        },
      },
      async (request, reply) => {
        if (request.params.service_name !== SERVICE_NAME) {
          throw new ServiceError('not-found', `There is no service named ${JSON.stringify(request.params.service_name.slice(0, 64))}; this one is ${SERVICE_NAME}.`);
        }
        return answer(reply);
      },
    );
  };
}
