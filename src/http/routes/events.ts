import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { listEvents } from '../../audit/audit.js';
import { actorOf, requireActor } from '../auth.js';
import type { Services } from '../../services.js';
import { ErrorBody, EventsPage, ListQuery } from '../../shapes.js';

export function eventRoutes(services: Services): FastifyPluginAsyncTypebox {
  const { db } = services.store;
  return async (app) => {
    app.get(
      '/events',
      {
        onRequest: requireActor(db),
        schema: {
          tags: ['activity'],
          summary: 'Security events, newest first (superusers only)',
          querystring: ListQuery({
            limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: '1 to 1000, default 100' })),
            offset: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$', description: 'events to skip, default 0' })),
          }),
          response: { 200: EventsPage, 403: ErrorBody },
        },
      },
      async (request) => {
        const limit = Math.min(Math.max(Number(request.query.limit ?? 100), 1), 1000);
        const offset = Number(request.query.offset ?? 0);
        const { events, total } = await listEvents(db, actorOf(request), { limit, offset });
        return { events, pagination: { limit, offset, total } };
      },
    );
  };
}
