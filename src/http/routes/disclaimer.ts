// PE's disclaimer endpoints: GET /config/disclaimer,
// POST /command/config/set-disclaimer and remove-disclaimer.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { readDisclaimer, removeDisclaimer, setDisclaimer } from '../../disclaimer/disclaimer.js';
import { ServiceError } from '../../errors.js';
import { actorOf, contextOf, requireActor } from '../auth.js';
import type { Services } from '../../services.js';
import { Disclaimer, DisclaimerBody, ErrorBody } from '../../shapes.js';

export function disclaimerRoutes(services: Services): FastifyPluginAsyncTypebox {
  const { db } = services.store;
  const authenticated = requireActor(db);
  return async (app) => {
    app.get(
      '/config/disclaimer',
      { onRequest: authenticated, schema: { tags: ['disclaimer'], summary: 'The disclaimer shown on the reset page', response: { 200: Disclaimer, 403: ErrorBody, 404: ErrorBody } } },
      async (request) => ({ disclaimer: await readDisclaimer(db, actorOf(request)) }),
    );

    app.post(
      '/command/config/set-disclaimer',
      {
        onRequest: authenticated,
        schema: { tags: ['disclaimer'], summary: 'Set the disclaimer shown on the reset page', body: DisclaimerBody, response: { 204: Type.Null(), 400: ErrorBody, 403: ErrorBody } },
      },
      async (request, reply) => {
        await setDisclaimer(db, actorOf(request), request.body.disclaimer, contextOf(request));
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/command/config/remove-disclaimer',
      { onRequest: authenticated, schema: { tags: ['disclaimer'], summary: 'Remove the disclaimer', response: { 204: Type.Null(), 400: ErrorBody, 403: ErrorBody } } },
      async (request, reply) => {
        // No body, or {} (what PE's Ruby client sends with a POST that has none).
        const body: unknown = request.body;
        if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).length > 0)) {
          throw new ServiceError('schema-violation', 'remove-disclaimer takes no body, or {}.');
        }
        await removeDisclaimer(db, actorOf(request), contextOf(request));
        return reply.code(204).send(null);
      },
    );
  };
}
