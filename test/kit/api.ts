// The API client for a service listening on a local port: one raw HTTP(S)
// request, without connection reuse (agent: false), so a test sees exactly
// one exchange. Used by tests and bench/ alike.

import http from 'node:http';
import https from 'node:https';

export const API = '/rbac-api/v1';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface CallOptions {
  method?: string;
  path: string;
  token?: string | undefined;
  json?: unknown;
  /** HTTPS trusting only this CA certificate (checked against the name localhost); plain HTTP when absent. */
  ca?: string | undefined;
  /** Over HTTPS: the client certificate and key to present when the service asks for one. */
  clientCertificate?: { cert: string; key: string } | undefined;
  /** Default 15 s. */
  timeoutMs?: number;
  /** The Accept header; default application/json. */
  accept?: string;
}

/** The port of a base URL such as http://127.0.0.1:4433, or the port itself. */
function portOf(target: number | string): number {
  return typeof target === 'number' ? target : Number(new URL(target).port);
}

/** One request to the service at `target` (a port, or a base URL on this host). */
export function callPort(target: number | string, options: CallOptions): Promise<Reply> {
  const payload = options.json === undefined ? undefined : JSON.stringify(options.json);
  const headers: http.OutgoingHttpHeaders = { accept: options.accept ?? 'application/json' };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(payload);
  }
  if (options.token) headers['x-authentication'] = options.token;
  const common = { hostname: 'localhost', family: 4, port: portOf(target), path: options.path, method: options.method ?? 'GET', headers, agent: false as const };
  const timeoutMs = options.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const onResponse = (response: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    };
    const request = options.ca === undefined ? http.request(common, onResponse) : https.request({ ...common, ca: options.ca, ...(options.clientCertificate ? { cert: options.clientCertificate.cert, key: options.clientCertificate.key } : {}) }, onResponse);
    request.on('error', reject);
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`request to ${options.path} timed out`)));
    request.end(payload);
  });
}

/**
 * One JSON call under /rbac-api/v1 of the service at `base`: status and body
 * text. Accepts anything, as fetch() does (a reset token then comes as plain
 * text); patient (5 minutes), for calls made by the hundred at once.
 */
export async function callApi(base: number | string, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; text: string }> {
  const reply = await callPort(base, { method, path: `${API}${path}`, json: body, token, timeoutMs: 300_000, accept: '*/*' });
  return { status: reply.status, text: reply.body };
}

/** POST /auth/token with these credentials; the raw reply. */
export function loginOver(target: number | string, login: string, password: string, ca?: string): Promise<Reply> {
  return callPort(target, { method: 'POST', path: `${API}/auth/token`, json: { login, password }, ca });
}

/** The login token for these credentials; throws with the reply when the login is refused. */
export async function tokenOver(target: number | string, login: string, password: string, ca?: string): Promise<string> {
  const reply = await loginOver(target, login, password, ca);
  if (reply.status !== 200) throw new Error(`${login} login: ${reply.status} ${reply.body}`);
  return (JSON.parse(reply.body) as { token: string }).token;
}
