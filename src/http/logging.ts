// Request logging that never carries a secret: the `token` query parameter
// is masked in logged URLs, and secret-bearing fields are redacted wherever
// they appear in a log object.

import type { FastifyRequest } from 'fastify';
import pino, { type Logger } from 'pino';

export const REDACTED_PATHS = [
  'password',
  'current_password',
  'token',
  'reset_token',
  '*.password',
  '*.current_password',
  '*.token',
  '*.reset_token',
  'req.headers["x-authentication"]',
  'req.headers.authorization',
  'req.headers.cookie',
];

export function maskTokenInUrl(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[REDACTED]');
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      serializers: {
        req(request: FastifyRequest) {
          return { id: request.id, method: request.method, url: maskTokenInUrl(request.url), remoteAddress: request.ip };
        },
      },
    },
    destination,
  );
}
