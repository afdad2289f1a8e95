import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../../services.js';
import { Running } from '../../shapes.js';

export function statusRoutes(_services: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/status/v1/simple',
      { schema: { summary: 'Readiness: `running` once the service accepts requests', response: { 200: { description: 'running', content: { 'text/plain': { schema: Running } } } } } },
      async (_request, reply) => reply.type('text/plain; charset=utf-8').send('running'),
    );
  };
}
