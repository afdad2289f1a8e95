// GET /favicon.ico — browsers ask for it on every page the service serves (the
// reset page, the API reference). The service has no icon: 204 says so without
// a 404 in the log and the browser console, and the cache header keeps the
// browser from asking again for a day.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

export const FAVICON_PATH = '/favicon.ico';

export function faviconRoutes(): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(FAVICON_PATH, { schema: { summary: 'No icon: 204', hide: true } }, async (_request, reply) =>
      reply.code(204).header('cache-control', 'public, max-age=86400').send(),
    );
  };
}
