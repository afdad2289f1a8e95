// The HTTP application: Fastify with TypeBox schemas, the contract's error
// model for every failure, and the routes. Routes are thin: they validate,
// authenticate, and call the domain functions.

import type { IncomingHttpHeaders } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { closeIdleDirectoryConnections } from '../directory/connection-pool.js';
import { ServiceError } from '../errors.js';
import type { Services } from '../services.js';
import type { CertificateAllowlist } from '../tls/allowlist.js';
import { ping } from '../store/database.js';
import { clientErrorHandler, frameworkErrorHandler, sendError, serviceHeaders, toServiceError } from './errors.js';
import { limitConnectionsPerAddress, trustedProxyMatcher } from './connection-limits.js';
import { DatabaseHealth } from './database-health.js';
import { redactedPathOf } from './logging.js';
import { closeGracefully } from './graceful-close.js';
import type { StoppingState } from './shutdown-grace.js';
import { refuseNulCharacters } from './nul-characters.js';
import { nullListsAsEmpty } from './null-lists.js';
import { lazyRequestLogger, requestIdOf, requestObservation } from './observability.js';
import { registerOpenApi } from './openapi.js';
import { rateLimitCounter as rateLimitCounterFor } from './rate-limit-counters.js';
import { activityRoutes, ACTIVITY_PREFIX } from './routes/activity.js';
import { authRoutes } from './routes/auth.js';
import { directoryRoutes, directoryRoutesV2 } from './routes/directory.js';
import { disclaimerRoutes } from './routes/disclaimer.js';
import { groupRoutes, groupRoutesV2 } from './routes/groups.js';
import { eventRoutes } from './routes/events.js';
import { faviconRoutes } from './routes/favicon.js';
import { landingPageRoutes } from './routes/landing.js';
import { passwordRoutes } from './routes/passwords.js';
import { permissionRoutes } from './routes/permissions.js';
import { resetPageRoutes } from './routes/reset-page.js';
import { roleRoutes, rootTypesRoutes } from './routes/roles.js';
import { statusRoutes } from './routes/status.js';
import { statusServiceRoutes } from './routes/status-services.js';
import { tokenRoutes, tokenRoutesV2 } from './routes/tokens.js';
import { userRoutes, userRoutesV2 } from './routes/users.js';

declare module 'fastify' {
  interface FastifySchema {
    summary?: string;
    description?: string;
    hide?: boolean;
    tags?: readonly string[];
  }
}


export interface AppOptions {
  logger?: Logger | undefined;
  /** The listener's key and certificate, and with client-ca the options that ask clients for a certificate (src/tls/client-certificates.ts). */
  https?: { key: string | Buffer; cert: string | Buffer; ca?: string; requestCert?: boolean; rejectUnauthorized?: boolean } | undefined;
  /** certificate-allowlist, opened at start: whose verified client certificates act as api_user. */
  certificateAllowlist?: CertificateAllowlist | undefined;
  /** Whether the instance is in its shutdown grace period (src/http/shutdown-grace.ts); never, unless given. */
  shutdown?: StoppingState | undefined;
}

export const API_PREFIX = '/rbac-api/v1';
const BODY_LIMIT = 64 * 1024;

/** `application/json` or `application/<anything>+json`, parameters allowed; judged by the type before any `;`. */
export function isJsonMediaType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const essence = (header.split(';', 1)[0] ?? '').trim().toLowerCase();
  return /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json$/.test(essence);
}

function hasBody(headers: IncomingHttpHeaders): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && length.trim() !== '0';
}

const unsupportedMediaType = () =>
  new ServiceError('unsupported-media-type', 'A request body must be JSON, sent with Content-Type: application/json.');

export async function buildApp(services: Services, options: AppOptions = {}): Promise<FastifyInstance> {
  const https = options.https !== undefined;
  const { config } = services;
  // Node checks these timeouts every connectionsCheckingInterval (30 s by
  // default, too coarse for a 30 s bound); headersTimeout may not exceed requestTimeout.
  const requestTimeout = config.requestTimeoutSeconds * 1000;
  const timeouts = { headersTimeout: requestTimeout, connectionsCheckingInterval: Math.min(1000, requestTimeout / 4) };
  const app = Fastify({
    ...(options.https
      ? { https: { ...options.https, ...timeouts, handshakeTimeout: config.tlsHandshakeTimeoutSeconds * 1000 } }
      : { http: timeouts }),
    // Headers and body must have arrived within this; a slower request is 408 (clientErrorHandler).
    requestTimeout,
    loggerInstance: options.logger as FastifyBaseLogger | undefined,
    bodyLimit: BODY_LIMIT,
    // Exact validation: unknown keys and wrong types are errors, never coerced or dropped.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
    return503OnClosing: true,
    genReqId: requestIdOf,
    // Behind a trusted proxy, request.ip (rate limits, audit events, logs) is the
    // client it forwards for, and reset links use its X-Forwarded-Proto/-Host.
    trustProxy: services.config.trustedProxies ?? false,
    // src/http/observability.ts writes one line per request instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // request.log is made only when a request logs through it (src/http/observability.ts).
    childLoggerFactory: lazyRequestLogger,
    // Errors Fastify and Node answer themselves get the service's shape and headers too.
    frameworkErrors: frameworkErrorHandler(https),
    clientErrorHandler: clientErrorHandler(https, () => options.logger),
    // Longer than any id the API takes (a UUID, a role number); longer ones are 400.
    routerOptions: { maxParamLength: 100 },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Bodies are parsed as JSON only when Content-Type says JSON (checked in
  // the onRequest hook below, before anything is read): text/plain and form
  // bodies are what a web page can make a browser send cross-site without a
  // preflight. Empty bodies (curl -X POST without -d, DELETE) need no type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    if (!isJsonMediaType(request.headers['content-type'])) return done(unsupportedMediaType(), undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new ServiceError('malformed-request', 'The request body is not valid JSON.'), undefined);
    }
  });

  // What every login token check needs besides the token (src/http/auth.ts).
  app.decorate('tokenInactivityTimeoutSeconds', config.tokenInactivityTimeoutSeconds);
  app.decorate('certificateAllowlist', options.certificateAllowlist);

  // One hook for both body rules (each hook Fastify runs costs about as much as a small route).
  app.addHook('preValidation', (request, reply, done) => refuseNulCharacters(request, reply, (error) => (error ? done(error) : nullListsAsEmpty(request, reply, done))));

  app.setErrorHandler((error, request, reply) => {
    const serviceError = toServiceError(error);
    if (serviceError.kind === 'server-error') request.log.error({ err: error }, 'request failed');
    if (serviceError.log) request.log.warn(serviceError.log.detail, serviceError.log.message);
    return sendError(request, reply, serviceError);
  });

  // The path as the log shows it: a token sent in a mistyped route is not echoed.
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new ServiceError('not-found', `There is no ${request.method} ${redactedPathOf(request.url)} endpoint.`)),
  );

  limitConnectionsPerAddress(app.server, config.maxConnectionsPerAddress, trustedProxyMatcher(config.trustedProxies), options.logger);
  // One hook per stage for what every request needs, callback-style (no
  // promise per hook): each hook Fastify runs costs about as much as a small route.
  const observation = requestObservation(options.logger, services.metrics);
  const closing = closeGracefully(app);
  const headers = Object.entries(serviceHeaders(https));
  app.addHook('onRequest', (request, reply, done) => {
    observation.onRequest(request, reply);
    // After the request id is set, before any route's hooks (rate limits, authentication).
    if (hasBody(request.headers) && !isJsonMediaType(request.headers['content-type'])) return done(unsupportedMediaType());
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    for (const [name, value] of headers) reply.header(name, value);
    // src/http/graceful-close.ts: a keep-alive connection must not outlive the close.
    if (closing.closing && request.raw.httpVersionMajor < 2) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    observation.onResponse(request, reply);
    done();
  });
  await registerOpenApi(app); // before the routes: it collects them as they are added

  // Limits are attached per route (src/http/rate-limits.ts), counted where the settings and database say.
  const rateLimitCounter = await rateLimitCounterFor({ rateLimitStore: services.config.rateLimitStore, store: services.store, log: app.log });
  app.decorate('rateLimitCounter', rateLimitCounter);
  app.addHook('onClose', () => rateLimitCounter.close());
  // Directory logins' idle connections (src/directory/connection-pool.ts) keep nothing open after the service.
  app.addHook('onClose', () => closeIdleDirectoryConnections());
  // One database check for both status routes: at most one query in flight.
  const health = new DatabaseHealth(() => ping(services.store.db));
  const shutdown = options.shutdown ?? { stopping: false };
  await app.register(statusRoutes(services, health, shutdown));
  await app.register(statusServiceRoutes(services, health, shutdown));
  await app.register(resetPageRoutes(services));
  await app.register(faviconRoutes());
  await app.register(landingPageRoutes());
  await app.register(authRoutes(services), { prefix: API_PREFIX });
  await app.register(tokenRoutesV2(services), { prefix: '/rbac-api/v2' });
  await app.register(userRoutes(services), { prefix: API_PREFIX });
  await app.register(userRoutesV2(services), { prefix: '/rbac-api/v2' });
  await app.register(tokenRoutes(services), { prefix: API_PREFIX });
  await app.register(roleRoutes(services), { prefix: API_PREFIX });
  await app.register(rootTypesRoutes(services));
  await app.register(permissionRoutes(services), { prefix: API_PREFIX });
  await app.register(passwordRoutes(services), { prefix: API_PREFIX });
  await app.register(eventRoutes(services), { prefix: API_PREFIX });
  await app.register(activityRoutes(services), { prefix: ACTIVITY_PREFIX });
  await app.register(disclaimerRoutes(services), { prefix: API_PREFIX });
  await app.register(directoryRoutes(services), { prefix: API_PREFIX });
  await app.register(directoryRoutesV2(services), { prefix: '/rbac-api/v2' });
  await app.register(groupRoutes(services, API_PREFIX), { prefix: API_PREFIX });
  await app.register(groupRoutesV2(services), { prefix: '/rbac-api/v2' });
  return app;
}
