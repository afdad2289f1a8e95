// The metrics listener: GET /metrics in Prometheus' text format, on its own
// port (metrics-port, default 9464) bound to metrics-host (default
// 127.0.0.1), so the numbers are not public with the API. Plain HTTP: scrape
// it from the host, or through your own tunnel or proxy.
//
// Only requests whose Host is an IP literal, localhost or a name in
// metrics-allowed-hosts are answered: a web page whose name an attacker
// re-points at 127.0.0.1 (DNS rebinding) would otherwise read the metrics from
// a browser on the server, since its requests carry the attacker's name.

import http from 'node:http';
import { isIPv4, isIPv6, type AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ServiceMetrics } from './metrics.js';

// A Host header: a name or IPv4 address, or an IPv6 address in brackets, and an optional port.
const HOST_HEADER = /^(?:\[([^\]]*)\]|([^:[\]]*))(?::\d{1,5})?$/;

/** Whether the listener answers a request with this Host header. */
export function hostAllowed(host: string | undefined, allowedNames: ReadonlySet<string>): boolean {
  const match = HOST_HEADER.exec(host ?? '');
  if (!match) return false;
  const [, bracketed, plain] = match;
  if (bracketed !== undefined) return isIPv6(bracketed);
  const name = (plain ?? '').toLowerCase();
  return isIPv4(name) || name === 'localhost' || allowedNames.has(name);
}

export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

/**
 * Starts the listener. When the port is taken (a second instance on one host
 * with the same metrics-port) the service still starts: metrics are logged as
 * unavailable rather than keeping the API down.
 */
export async function startMetricsListener(
  metrics: ServiceMetrics,
  where: { host: string; port: number; allowedHosts?: string | undefined },
  logger: Logger,
): Promise<MetricsListener | undefined> {
  const allowedNames = new Set((where.allowedHosts ?? '').split(',').filter((name) => name !== ''));
  const server = http.createServer((request, response) => {
    if (!hostAllowed(request.headers.host, allowedNames)) {
      response.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end('Forbidden: this Host is not allowed (see metrics-allowed-hosts)\n');
      return;
    }
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found: metrics are at GET /metrics\n');
      return;
    }
    metrics.exposition().then(
      ({ contentType, body }) => {
        response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
        response.end(request.method === 'HEAD' ? undefined : body);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'collecting metrics failed');
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('collecting metrics failed\n');
      },
    );
  });
  server.keepAliveTimeout = 5_000;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(where.port, where.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    logger.error({ err: error, host: where.host, port: where.port }, 'metrics listener could not start; metrics are not served');
    return undefined;
  }

  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}/metrics`;
  logger.info({ url }, 'metrics listening');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
