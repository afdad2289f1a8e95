// Every error a client can get, in the contract's shape (CONTRACT §7):
// `{"kind", "msg", "details"?}`, or the bare msg when the client accepts only
// text/plain or text/html. Framework errors (bad JSON, too large, unknown
// route, validation) are mapped here too, so no client input reaches a 5xx.

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import Negotiator from 'negotiator';
import { ServiceError, type ErrorKind } from '../errors.js';

/** True only when the client accepts text but not JSON at all (CONTRACT §7: "accepts only text/html or text/plain"). */
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

/** Turns anything thrown while handling a request into a ServiceError. */
export function toServiceError(error: unknown): ServiceError {
  if (error instanceof ServiceError) return error;
  const fastifyError = error as FastifyError & { validationContext?: string };

  if (fastifyError.validation) {
    const where = fastifyError.validationContext ?? 'body';
    const details = fastifyError.validation.map((issue) => ({
      in: where,
      path: issue.instancePath || '/',
      problem: issue.message ?? 'is invalid',
      ...(issue.keyword === 'additionalProperties' ? { key: (issue.params as { additionalProperty?: string }).additionalProperty } : {}),
    }));
    const first = details[0];
    const subject = first ? `${where}${first.path === '/' ? '' : first.path}` : where;
    const problem = first?.key !== undefined ? `has an unknown key "${first.key}"` : (first?.problem ?? 'is invalid');
    return new ServiceError('schema-violation', `The request ${subject} ${problem}.`, { errors: details });
  }

  switch (fastifyError.code) {
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
  const status = fastifyError.statusCode;
  if (status === 413) return new ServiceError('request-too-large', 'The request is too large.');
  if (status === 415) return new ServiceError('unsupported-media-type', 'A request body must be JSON, sent with Content-Type: application/json.');
  if (status !== undefined && status >= 400 && status < 500) {
    return new ServiceError('malformed-request', 'The request could not be understood.');
  }
  return new ServiceError('server-error', 'An internal error occurred. The administrator can find it in the service log.');
}
