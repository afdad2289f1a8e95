// What checking a login token costs, beside the bare Fastify route: an
// authenticated GET /users/current and POST /rbac-api/v2/auth/token/authenticate
// (PE's introspection), both the one prepared token-check statement (the
// token, its user's flags and role ids), introspection also without and with
// `update_last_activity?` (a conditional UPDATE on every call); GET
// /status/v1/simple (the service's per-request cost without the database);
// and the GET and introspection again over HTTPS with keep-alive, beside a
// bare HTTPS route. One service per database and scheme, under the same load;
// the bare routes are measured in the same section, just before, so the
// machine's drift over minutes does not enter the ratios.

import { randomBytes } from 'node:crypto';
import { mapLimit } from '../test/kit/concurrency.js';
import { ADMIN_PASSWORD } from '../test/kit/passwords.js';
import { bareRouteLoad } from './baselines.js';
import { type Connection, type LoadResult, expectClean, load, perConnection } from './lib/load.js';
import { type Dialect, type Settings, createUser, login, PASSWORD_A, startService } from './ours.js';

export interface TokenCheckResults {
  bare: LoadResult;
  status: LoadResult;
  current: LoadResult;
  introspect: LoadResult;
  introspectUpdating: LoadResult;
  https: { bare: LoadResult; current: LoadResult; introspect: LoadResult };
}

export type TokenCheckSettings = Pick<Settings, 'fastConnections' | 'seconds' | 'warmupSeconds'>;

const json = { 'content-type': 'application/json' };

async function onService(
  dialect: Dialect,
  https: boolean,
  settings: TokenCheckSettings,
  log: (line: string) => void,
  runs: (run: (name: string, connection: (i: number, tokens: string[]) => Connection) => Promise<LoadResult>) => Promise<void>,
): Promise<void> {
  const { fastConnections: fc, seconds, warmupSeconds } = settings;
  const service = await startService(dialect, ['--failed-attempts-lockout', '1000000'], { https });
  try {
    const adminToken = await login(service, 'admin', ADMIN_PASSWORD);
    const tag = randomBytes(3).toString('hex');
    const users = await mapLimit(Array.from({ length: fc }, (_, i) => `bench-${tag}-t${i}`), 4, async (name) => {
      await createUser(service, adminToken, name, PASSWORD_A);
      return name;
    });
    const tokens = await mapLimit(users, 4, (name) => login(service, name, PASSWORD_A));
    await runs(async (name, connection) => {
      log(`  ${dialect}${https ? ' (HTTPS)' : ''}: ${name}`);
      const options = { url: service.url, connections: fc, ...perConnection((i) => connection(i, tokens)) };
      await load({ ...options, duration: warmupSeconds });
      return expectClean(name, await load({ ...options, duration: seconds }));
    });
  } finally {
    await service.stop();
  }
}

const current = (i: number, tokens: string[]): Connection => {
  const headers = { 'x-authentication': tokens[i % tokens.length] as string };
  return { next: () => ({ method: 'GET', path: '/rbac-api/v1/users/current', headers }) };
};
const introspecting = (update: boolean) => (i: number, tokens: string[]): Connection => {
  const body = JSON.stringify({ token: tokens[i % tokens.length], 'update_last_activity?': update });
  return { next: () => ({ method: 'POST', path: '/rbac-api/v2/auth/token/authenticate', headers: json, body }) };
};
const status = (): Connection => ({ next: () => ({ method: 'GET', path: '/status/v1/simple' }) });

export async function runTokenChecks(dialect: Dialect, settings: TokenCheckSettings, log: (line: string) => void): Promise<TokenCheckResults> {
  log(`  ${dialect}: bare Fastify route`);
  const bare = await bareRouteLoad(settings.fastConnections, settings.seconds);
  const results = { bare } as unknown as TokenCheckResults;
  await onService(dialect, false, settings, log, async (run) => {
    results.status = await run('GET /status/v1/simple', status);
    results.current = await run('GET /users/current', current);
    results.introspect = await run('POST /rbac-api/v2/auth/token/authenticate', introspecting(false));
    results.introspectUpdating = await run('POST /rbac-api/v2/auth/token/authenticate (update_last_activity? true)', introspecting(true));
  });
  log(`  ${dialect}: bare Fastify route over HTTPS`);
  const httpsBare = await bareRouteLoad(settings.fastConnections, settings.seconds, true);
  await onService(dialect, true, settings, log, async (run) => {
    const httpsCurrent = await run('GET /users/current', current);
    const httpsIntrospect = await run('POST /rbac-api/v2/auth/token/authenticate', introspecting(false));
    results.https = { bare: httpsBare, current: httpsCurrent, introspect: httpsIntrospect };
  });
  return results;
}
