// One raw HTTP(S) request to a service listening on a local port, without
// connection reuse (agent: false), so a test sees exactly one exchange.

import http from 'node:http';
import https from 'node:https';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface CallOptions {
  method?: string;
  path: string;
  token?: string;
  json?: unknown;
  /** HTTPS trusting only this CA certificate (checked against the name localhost); plain HTTP when absent. */
  ca?: string | undefined;
}

export function callPort(port: number, options: CallOptions): Promise<Reply> {
  const payload = options.json === undefined ? undefined : JSON.stringify(options.json);
  const headers: http.OutgoingHttpHeaders = { accept: 'application/json' };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(payload);
  }
  if (options.token) headers['x-authentication'] = options.token;
  const common = { hostname: 'localhost', family: 4, port, path: options.path, method: options.method ?? 'GET', headers, agent: false as const };
  return new Promise((resolve, reject) => {
    const onResponse = (response: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    };
    const request = options.ca === undefined ? http.request(common, onResponse) : https.request({ ...common, ca: options.ca }, onResponse);
    request.on('error', reject);
    request.setTimeout(15_000, () => request.destroy(new Error(`request to ${options.path} timed out`)));
    request.end(payload);
  });
}
