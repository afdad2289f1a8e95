// GET / — a small page for whoever opens the service's address in a browser:
// what it is, its version, and links to the API reference, the status route
// and the reset page, instead of a JSON 404. Static, under the same strict
// Content-Security-Policy as the reset page (no script at all).

import { readFileSync } from 'node:fs';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { SERVICE_VERSION } from '../../version.js';
import { PAGE_SECURITY_HEADERS, escapeHtml } from './reset-page.js';

export const LANDING_PAGE_PATH = '/';

export function landingPageRoutes(): FastifyPluginAsyncTypebox {
  const html = readFileSync(new URL('../../../web/landing/index.html', import.meta.url), 'utf8').replaceAll('{{VERSION}}', escapeHtml(SERVICE_VERSION));
  return async (app) => {
    app.get(LANDING_PAGE_PATH, { schema: { summary: 'A page naming the service, its version and where to go', hide: true } }, async (_request, reply) =>
      reply.headers(PAGE_SECURITY_HEADERS).header('cache-control', 'public, max-age=300').type('text/html; charset=utf-8').send(html),
    );
  };
}
