// Every error a client can get, in one shape (docs/clients.md):
// `{"kind", "msg", "details"?}`, or the bare msg when the client accepts only
// text/plain or text/html. Framework errors (bad JSON, too large, unknown
// route, validation) are mapped here too, so no client input reaches a 5xx.

import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import Negotiator from 'negotiator';
import type { Logger } from 'pino';
import { ServiceError, type ErrorKind } from '../errors.js';
import { COMMA_LIST_PATTERN, MAX_LIST_ITEMS } from '../shapes.js';
import { isConstraintViolation, isTransientConflict } from '../store/errors.js';
import { REQUEST_ID_HEADER } from './observability.js';

/** True only when the client accepts text but not JSON at all ("accepts only text/html or text/plain"). */
export function prefersPlainText(request: FastifyRequest): boolean {
  if (!request.headers.accept) return false;
  const negotiator = new Negotiator(request);
  if (negotiator.mediaTypes(['application/json']).length > 0) return false;
  return negotiator.mediaTypes(['text/plain', 'text/html']).length > 0;
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: ServiceError): FastifyReply {
  reply.code(error.status).header('cache-control', 'no-store');
  if (error.retryAfter !== undefined) reply.header('retry-after', String(error.retryAfter));
  if (prefersPlainText(request)) {
    return reply.type('text/plain; charset=utf-8').send(error.message);
  }
  const body: { kind: ErrorKind; msg: string; details?: unknown } = { kind: error.kind, msg: error.message };
  if (error.details !== undefined) body.details = error.details;
  return reply.type('application/json; charset=utf-8').send(JSON.stringify(body));
}

/** What a failed check says: Ajv's words, except for a comma-separated list over its bound, whose pattern would say nothing to a reader. */
function problemOf(issue: { keyword: string; message?: string | undefined; params: Record<string, unknown> }): string {
  if (issue.keyword === 'pattern' && issue.params.pattern === COMMA_LIST_PATTERN) return `must name at most ${MAX_LIST_ITEMS} entries, comma-separated`;
  return issue.message ?? 'is invalid';
}

/** Turns anything thrown while handling a request into a ServiceError. */
export function toServiceError(error: unknown): ServiceError {
  if (error instanceof ServiceError) return error;
  const fastifyError = error as FastifyError & { validationContext?: string };

  if (fastifyError.validation) {
    const where = fastifyError.validationContext ?? 'body';
    const details = fastifyError.validation.map((issue) => ({
      in: where,
      path: issue.instancePath || '/',
      problem: problemOf(issue),
      ...(issue.keyword === 'additionalProperties' ? { key: (issue.params as { additionalProperty?: string }).additionalProperty } : {}),
    }));
    const first = details[0];
    const subject = first ? `${where}${first.path === '/' ? '' : first.path}` : where;
    const problem = first?.key !== undefined ? `has an unknown key "${first.key}"` : (first?.problem ?? 'is invalid');
    return new ServiceError('schema-violation', `The request ${subject} ${problem}.`, { errors: details });
  }

  switch (fastifyError.code) {
    case 'FST_ERR_BAD_URL':
      return new ServiceError('malformed-request', 'The request path is not valid percent-encoding.');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ServiceError('malformed-request', 'A path parameter is too long.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ServiceError('request-too-large', 'The request body is too large.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ServiceError('malformed-request', 'The Content-Length header does not match the body.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ServiceError('unsupported-media-type', 'A request body must be JSON, sent with Content-Type: application/json.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ServiceError('malformed-request', 'The request body is not valid JSON.');
  }
  if (isConstraintViolation(error) || isTransientConflict(error)) {
    return new ServiceError('conflict', 'The request collided with a concurrent change to the same data. Nothing was changed; try again.');
  }
  const status = fastifyError.statusCode;
  if (status === 413) return new ServiceError('request-too-large', 'The request is too large.');
  if (status === 415) return new ServiceError('unsupported-media-type', 'A request body must be JSON, sent with Content-Type: application/json.');
  if (status !== undefined && status >= 400 && status < 500) {
    return new ServiceError('malformed-request', 'The request could not be understood.');
  }
  return new ServiceError('server-error', 'An internal error occurred. The administrator can find it in the service log.');
}

/** Headers every answer carries, whichever path produced it. */
export function serviceHeaders(https: boolean): Record<string, string> {
  return {
    'x-content-type-options': 'nosniff',
    ...(https ? { 'strict-transport-security': 'max-age=31536000' } : {}),
  };
}

/**
 * Fastify's frameworkErrors: a path that is not valid percent-encoding or a
 * parameter over maxParamLength. These are answered before any hook runs, so
 * the request id and the service's headers are set here.
 */
export function frameworkErrorHandler(https: boolean) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    reply.headers(serviceHeaders(https)).header(REQUEST_ID_HEADER, request.id);
    sendError(request, reply, toServiceError(error));
    // No onResponse hook runs for these: the request line is written here (URL redacted by the serializer).
    request.log.info({ req: request, res: { statusCode: reply.statusCode } }, 'request completed');
  };
}

/** What Node's HTTP parser and timers report before a request reaches Fastify. */
function clientErrorOf(code: string | undefined): ServiceError {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return new ServiceError('request-timeout', 'The request did not arrive in time.');
  if (code === 'HPE_HEADER_OVERFLOW') return new ServiceError('request-header-too-large', 'The request headers are too large.');
  return new ServiceError('malformed-request', 'The request could not be understood.');
}

/**
 * Fastify's clientErrorHandler: Node reports a request it could not parse, a
 * header section too large, or a request not received within requestTimeout,
 * on the bare socket. The answer is written by hand in the service's shape,
 * then the connection is closed (its state is unknown).
 */
export function clientErrorHandler(https: boolean, log: () => Logger | undefined) {
  return (error: NodeJS.ErrnoException, socket: Duplex): void => {
    if (error.code === 'ECONNRESET' || error.code === 'EPIPE' || socket.destroyed) return;
    const serviceError = clientErrorOf(error.code);
    log()?.debug({ code: error.code, status: serviceError.status }, 'client error before a request was read');
    // As Node does: never write into an answer already under way on this socket.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) {
      const body = JSON.stringify({ kind: serviceError.kind, msg: serviceError.message });
      const headers: Record<string, string | number> = {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'cache-control': 'no-store',
        ...serviceHeaders(https),
        [REQUEST_ID_HEADER]: randomUUID(),
        connection: 'close',
      };
      const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
      socket.write(`HTTP/1.1 ${serviceError.status} ${STATUS_CODES[serviceError.status] ?? ''}\r\n${head}\r\n${body}`);
    }
    socket.destroy();
  };
}
