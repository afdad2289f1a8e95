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
import { freePort, startChild } from '../test/kit/processes.js';
import { type Connection, type LoadResult, expectClean, load, perConnection } from './lib/load.js';
import { type CpuUse, cpuBetween, sampleCpu } from './lib/cpu.js';
import { type Dialect, type Service, type Settings, createUser, login, PASSWORD_A, startService } from './ours.js';

/** A load, and the CPU the serving process's main thread spent on it (bench/lib/cpu.ts). */
export type MeasuredLoad = LoadResult & { cpu?: CpuUse };

/** Main-thread CPU microseconds per answer of the serving process, when measured. */
export function cpuMicrosPerAnswer(result: MeasuredLoad): number | undefined {
  return result.cpu ? (result.cpu.eventLoop * 1e6) / Math.max(1, result.ok) : undefined;
}

export interface TokenCheckResults {
  bare: MeasuredLoad;
  /** The plain uncached check (bench/plain-check-server.ts) on the service's database: GET with the header, POST with a JSON body. */
  plain: { current: MeasuredLoad; introspect: MeasuredLoad };
  status: MeasuredLoad;
  current: MeasuredLoad;
  introspect: MeasuredLoad;
  /** Not measured by the narrow run (`--only token-check`). */
  introspectUpdating?: LoadResult | undefined;
  https?: { bare: LoadResult; current: LoadResult; introspect: LoadResult } | undefined;
}

export type TokenCheckSettings = Pick<Settings, 'fastConnections' | 'seconds' | 'warmupSeconds'>;

const json = { 'content-type': 'application/json' };

async function onService(
  dialect: Dialect,
  https: boolean,
  settings: TokenCheckSettings,
  log: (line: string) => void,
  runs: (run: (name: string, connection: (i: number, tokens: string[]) => Connection, server?: { url: string; pid: number }) => Promise<MeasuredLoad>, service: Service) => Promise<void>,
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
    await runs(async (name, connection, server = { url: service.url, pid: service.child.process.pid as number }) => {
      log(`  ${dialect}${https ? ' (HTTPS)' : ''}: ${name}`);
      const options = { url: server.url, connections: fc, ...perConnection((i) => connection(i, tokens)) };
      await load({ ...options, duration: warmupSeconds });
      const before = sampleCpu(server.pid);
      const result = expectClean(name, await load({ ...options, duration: seconds }));
      return { ...result, cpu: cpuBetween(before, sampleCpu(server.pid)) };
    }, service);
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

/** The plain check (bench/plain-check-server.ts) in its own process, on the service's database, while `measure` runs; the service idles meanwhile. */
async function withPlainCheck<T>(service: Service, measure: (server: { url: string; pid: number }) => Promise<T>): Promise<T> {
  const port = await freePort();
  const where = service.dialect === 'postgres' ? (service.databaseUrl as string) : service.dataDir;
  const child = await startChild(['bench/plain-check-server.ts', String(port), service.dialect, where], { port, readyPath: '/' });
  try {
    return await measure({ url: child.url, pid: child.process.pid as number });
  } finally {
    await child.stop();
  }
}

/**
 * The token check beside its limits, over HTTP: the bare route, then on one
 * service the plain check's GET and POST (its own process, the service's
 * database and tokens), the status route, the service's GET and
 * introspection. `narrow` (`--only token-check`) stops there; otherwise
 * introspection with `update_last_activity?` and the HTTPS runs follow.
 */
export async function runTokenChecks(dialect: Dialect, settings: TokenCheckSettings, log: (line: string) => void, narrow = false): Promise<TokenCheckResults> {
  log(`  ${dialect}: bare Fastify route`);
  const bare = await bareRouteLoad(settings.fastConnections, settings.seconds);
  const results = { bare } as unknown as TokenCheckResults;
  await onService(dialect, false, settings, log, async (run, service) => {
    results.plain = await withPlainCheck(service, async (url) => ({
      current: await run('plain check: GET /users/current', current, url),
      introspect: await run('plain check: POST /rbac-api/v2/auth/token/authenticate', introspecting(false), url),
    }));
    results.status = await run('GET /status/v1/simple', status);
    results.current = await run('GET /users/current', current);
    results.introspect = await run('POST /rbac-api/v2/auth/token/authenticate', introspecting(false));
    if (!narrow) results.introspectUpdating = await run('POST /rbac-api/v2/auth/token/authenticate (update_last_activity? true)', introspecting(true));
  });
  if (narrow) return results;
  log(`  ${dialect}: bare Fastify route over HTTPS`);
  const httpsBare = await bareRouteLoad(settings.fastConnections, settings.seconds, true);
  await onService(dialect, true, settings, log, async (run) => {
    const httpsCurrent = await run('GET /users/current', current);
    const httpsIntrospect = await run('POST /rbac-api/v2/auth/token/authenticate', introspecting(false));
    results.https = { bare: httpsBare, current: httpsCurrent, introspect: httpsIntrospect };
  });
  return results;
}
