// The service under load: `rbac serve --insecure-http` in a child process,
// on SQLite (a temporary data dir) or PostgreSQL (a throwaway database,
// dropped afterwards), with the rate limits off. Hashes are counted from the
// service's own instrumented hasher (src/metrics/hasher.ts), read from its
// Prometheus listener.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { callPort } from '../test/kit/api.js';
import { mapLimit } from '../test/kit/concurrency.js';
import { ADMIN_PASSWORD } from '../test/kit/passwords.js';
import { createThrowawayDatabase, type ThrowawayDatabase } from '../test/kit/postgres.js';
import { type Child, freePort, startChild } from '../test/kit/processes.js';
import { type Connection, type LoadResult, expectClean, load, perConnection, startLoad } from './lib/load.js';
import { type Rate, bareRouteLoad, rawHashRate, rawSignRate } from './baselines.js';
import { type CpuUse, cpuBetween, sampleCpu } from './lib/cpu.js';
import { loadOrCreateCertificate } from '../src/tls/certificate.js';

export const POSTGRES_ADMIN_URL = process.env.RBAC_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
// Two good passwords to alternate between, and the one resets set.
export const PASSWORD_A = 'quiet river stone garden';
export const PASSWORD_B = 'lantern harbor morning tide';
export const PASSWORD_C = 'amber orchard winter signal';

export type Dialect = 'sqlite' | 'postgres';
const V1 = '/rbac-api/v1';

export interface Service {
  url: string;
  /** The certificate to trust, when the service serves HTTPS. */
  ca: string | undefined;
  dialect: Dialect;
  child: Child;
  /** The service's data directory (its SQLite file, rbac.sqlite, on SQLite). */
  dataDir: string;
  /** Its PostgreSQL database, on PostgreSQL. */
  databaseUrl: string | undefined;
  /** argon2id operations the service has run so far, by operation (hash, verify, verify-dummy). */
  hashCounts(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  /** HTTPS with the self-signed certificate the service would make itself (made here first, so the bench can trust it); plain HTTP otherwise. */
  https?: boolean;
  /** Node options for the service process (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

export async function startService(dialect: Dialect, extraArgs: string[] = [], options: ServiceOptions = {}): Promise<Service> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'rbac-bench-'));
  const ca = options.https ? (await loadOrCreateCertificate({ dataDir })).cert : undefined;
  const database: ThrowawayDatabase | undefined = dialect === 'postgres' ? await createThrowawayDatabase('rbac_bench', POSTGRES_ADMIN_URL) : undefined;
  const databaseUrl = database?.url;
  const dropDatabase = async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await database?.drop();
  };
  const port = await freePort();
  const metricsPort = await freePort();
  const args = [
    'src/cli/main.ts', 'serve', ...(ca === undefined ? ['--insecure-http'] : ['--host', '127.0.0.1']), '--port', String(port), '--data-dir', dataDir,
    '--metrics-port', String(metricsPort),
    '--rate-limit-per-address', '0', '--rate-limit-per-account', '0',
    '--shutdown-grace-period', '0',
    ...(databaseUrl ? ['--database-url', databaseUrl] : []),
    ...extraArgs,
  ];
  const env: NodeJS.ProcessEnv = {};
  for (const name of Object.keys(process.env)) if (name.startsWith('RBAC_')) env[name] = undefined;
  env.RBAC_ADMIN_PASSWORD = ADMIN_PASSWORD;
  // RBAC_BENCH_NODE_ARGS: e.g. --cpu-prof, to profile the service under load.
  const nodeArgs = [...(process.env.RBAC_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), ...(options.nodeArgs ?? [])];
  let child: Child;
  try {
    child = await startChild([...nodeArgs, ...args], { port, readyPath: '/status/v1/simple', env, ...(ca === undefined ? {} : { ca }) });
  } catch (error) {
    await dropDatabase();
    throw error;
  }
  return {
    url: child.url,
    ca,
    dialect,
    child,
    dataDir,
    databaseUrl,
    async hashCounts() {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const counts: Record<string, number> = { hash: 0, verify: 0, 'verify-dummy': 0 };
      for (const match of text.matchAll(/^rbac_password_hash_duration_seconds_count\{operation="([^"]+)"\} (\d+)/gm)) {
        counts[match[1] as string] = Number(match[2]);
      }
      return counts;
    },
    async stop() {
      await child.stop();
      await dropDatabase();
    },
  };
}

// --- plain API calls for setting up users and tokens ---------------------------

async function call(service: Service, method: string, url: string, options: { token?: string; body?: unknown } = {}) {
  // Accepting anything, as fetch() does: a reset token then comes as plain text.
  const reply = await callPort(service.url, { method, path: url, json: options.body, token: options.token, accept: '*/*', timeoutMs: 300_000, ca: service.ca });
  return { status: reply.status, text: reply.body };
}

async function expectStatus(service: Service, status: number, method: string, url: string, options: { token?: string; body?: unknown } = {}) {
  const response = await call(service, method, url, options);
  if (response.status !== status) throw new Error(`${method} ${url}: expected ${status}, got ${response.status} ${response.text}`);
  return response.text;
}

export async function login(service: Service, loginName: string, password: string): Promise<string> {
  const text = await expectStatus(service, 200, 'POST', `${V1}/auth/token`, { body: { login: loginName, password } });
  return (JSON.parse(text) as { token: string }).token;
}

/** The status POST /auth/token answers for this login and password. */
export async function loginStatus(service: Service, loginName: string, password: string): Promise<number> {
  return (await call(service, 'POST', `${V1}/auth/token`, { body: { login: loginName, password } })).status;
}

export async function createUser(service: Service, adminToken: string, loginName: string, password?: string): Promise<string> {
  const body = { login: loginName, email: `${loginName}@example.com`, display_name: loginName, ...(password ? { password } : {}) };
  const text = await expectStatus(service, 201, 'POST', `${V1}/users`, { token: adminToken, body });
  return (JSON.parse(text) as { id: string }).id;
}

async function issueResetToken(service: Service, adminToken: string, sid: string): Promise<string> {
  return expectStatus(service, 201, 'POST', `${V1}/users/${sid}/password/reset`, { token: adminToken });
}

// --- the flows ----------------------------------------------------------------

export interface Settings {
  /** Connections for the flows that hash (and in-flight hashes of the raw baseline). */
  hashConnections: number;
  /** Connections for the flows that do not hash (and in-flight signatures of the raw baseline). */
  fastConnections: number;
  seconds: number;
  warmupSeconds: number;
  /** Raw hashes a second, to size the reset-token pool so the reset run lasts about `seconds`. */
  rawHashRate: number;
}

export interface FlowResult extends LoadResult {
  /** argon2id operations per request, counted by the service's hasher during the measured run. */
  hashesPerRequest: number;
  /** argon2id operations during the measured run. */
  hashes: number;
  /** CPU seconds by consumer during the measured run. */
  cpu: CpuUse;
  /**
   * The flow's physical limit, measured in the bench process just before and
   * just after the run (the service idle) and averaged, so that both see the
   * machine in the same state; `baselineSpread` is the two measurements.
   */
  baseline?: Rate;
  baselineSpread?: [Rate, Rate];
}

export interface OurResults {
  login: FlowResult;
  current: FlowResult;
  issue: FlowResult;
  change: FlowResult;
  reset: FlowResult;
  status: FlowResult;
  saturation: { login: LoadResult; status: LoadResult; current: LoadResult };
}

const json = { 'content-type': 'application/json' };

export async function counted(service: Service, run: () => Promise<LoadResult>, measureBaseline?: () => Promise<Rate>): Promise<FlowResult> {
  const baselineBefore = measureBaseline ? await measureBaseline() : undefined;
  const before = await service.hashCounts();
  const cpuBefore = sampleCpu(service.child.process.pid as number);
  const result = await run();
  const cpu = cpuBetween(cpuBefore, sampleCpu(service.child.process.pid as number));
  const after = await service.hashCounts();
  const hashes = Object.keys(after).reduce((sum, key) => sum + (after[key] ?? 0) - (before[key] ?? 0), 0);
  let baseline: Rate | undefined;
  let baselineSpread: [Rate, Rate] | undefined;
  if (measureBaseline && baselineBefore) {
    await new Promise((resolve) => setTimeout(resolve, 500)); // the service finishes what was in flight
    const baselineAfter = await measureBaseline();
    baselineSpread = [baselineBefore, baselineAfter];
    baseline = { rate: (baselineBefore.rate + baselineAfter.rate) / 2, cpuPerOperation: (baselineBefore.cpuPerOperation + baselineAfter.cpuPerOperation) / 2 };
  }
  return { ...result, hashes, cpu, baseline, baselineSpread, hashesPerRequest: result.ok + result.non2xx > 0 ? hashes / (result.ok + result.non2xx) : 0 };
}

export async function runOurFlows(dialect: Dialect, settings: Settings, log: (line: string) => void): Promise<OurResults> {
  const { hashConnections: hc, fastConnections: fc, seconds, warmupSeconds } = settings;
  // Lockout far out of reach: every login here is correct, but concurrent
  // checks of one account each claim an attempt while they run. No password
  // history: the change flow alternates between two passwords, and
  // bench/history.ts measures what the history costs.
  const service = await startService(dialect, ['--failed-attempts-lockout', '1000000', '--number-of-previous-passwords', '0']);
  try {
    const url = service.url;
    const adminToken = await login(service, 'admin', ADMIN_PASSWORD);
    const tag = randomBytes(3).toString('hex');

    // One user per connection, for the flows with a password.
    const users = await mapLimit(
      Array.from({ length: Math.max(2 * hc, fc) }, (_, i) => `bench-${tag}-${i}`),
      4,
      async (name) => ({ login: name, id: await createUser(service, adminToken, name, PASSWORD_A) }),
    );

    log(`  ${dialect}: POST /auth/token`);
    // Users 0..hc-1 log in; users hc..2hc-1 change their passwords below.
    const loginConnection = (i: number): Connection => {
      const user = users[i % hc]!;
      const body = JSON.stringify({ login: user.login, password: PASSWORD_A });
      return { next: () => ({ method: 'POST', path: `${V1}/auth/token`, headers: json, body }) };
    };
    const loginOptions = { url, connections: hc, ...perConnection(loginConnection) };
    await load({ ...loginOptions, duration: warmupSeconds });
    const hashBaseline = () => rawHashRate(hc, seconds);
    // The bare route just before and just after a fast flow, as the hashing flows get their raw rate: the machine drifts over minutes.
    const bareBaseline = async (): Promise<Rate> => {
      const bare = await bareRouteLoad(fc, seconds);
      return { rate: bare.rps, cpuPerOperation: (bare.cpu.eventLoop + bare.cpu.workers) / bare.ok };
    };
    const loginResult = await counted(service, async () => expectClean('login', await load({ ...loginOptions, duration: seconds })), hashBaseline);

    log(`  ${dialect}: GET /users/current`);
    const tokens = await mapLimit(users, 4, (user) => login(service, user.login, PASSWORD_A));
    const currentConnection = (i: number): Connection => {
      const headers = { 'x-authentication': tokens[i % tokens.length]! };
      return { next: () => ({ method: 'GET', path: `${V1}/users/current`, headers }) };
    };
    const currentOptions = { url, connections: fc, ...perConnection(currentConnection) };
    await load({ ...currentOptions, duration: warmupSeconds });
    const current = await counted(service, async () => expectClean('users/current', await load({ ...currentOptions, duration: seconds })), bareBaseline);

    log(`  ${dialect}: POST /users/:sid/password/reset`);
    const issueConnection = (i: number): Connection => {
      let n = i;
      const headers = { 'x-authentication': adminToken };
      return { next: () => ({ method: 'POST', path: `${V1}/users/${users[n++ % users.length]!.id}/password/reset`, headers }) };
    };
    const issueOptions = { url, connections: fc, ...perConnection(issueConnection) };
    await load({ ...issueOptions, duration: warmupSeconds });
    const issue = await counted(service, async () => expectClean('password/reset', await load({ ...issueOptions, duration: seconds })), () => rawSignRate(fc, seconds));

    log(`  ${dialect}: PUT /users/current/password`);
    // A fresh login token per connection (the flow revokes the user's other tokens).
    const changeUsers = users.slice(hc, 2 * hc);
    const changeTokens = await mapLimit(changeUsers, 4, (user) => login(service, user.login, PASSWORD_A));
    const changeState = changeTokens.map(() => ({ current: PASSWORD_A, next: PASSWORD_B }));
    const changeConnection = (i: number): Connection => {
      const state = changeState[i % hc]!;
      const headers = { ...json, 'x-authentication': changeTokens[i % hc]! };
      return {
        next: () => ({ method: 'PUT', path: `${V1}/users/current/password`, headers, body: JSON.stringify({ current_password: state.current, password: state.next }) }),
        answered(status) {
          // 403: a change whose answer the previous run did not wait for went through; the other password is current.
          if (status === 200 || status === 403) [state.current, state.next] = [state.next, state.current];
        },
      };
    };
    const changeOptions = { url, connections: hc, ...perConnection(changeConnection) };
    await load({ ...changeOptions, duration: warmupSeconds });
    await new Promise((resolve) => setTimeout(resolve, 500)); // let the changes in flight finish
    // Resynchronise with the changes in flight when the warm-up stopped.
    await mapLimit(changeUsers, 4, async (user, i) => {
      const state = changeState[i]!;
      if ((await loginStatus(service, user.login, state.current)) !== 200) {
        [state.current, state.next] = [state.next, state.current];
      }
    });
    const change = await counted(service, async () => expectClean('users/current/password', await load({ ...changeOptions, duration: seconds })), hashBaseline);

    log(`  ${dialect}: POST /auth/reset`);
    // One fresh token per request, each for its own user (a newer token supersedes a user's older one).
    const warmupCount = Math.max(hc, Math.round(settings.rawHashRate * warmupSeconds));
    const measuredCount = Math.max(hc * 4, Math.round(settings.rawHashRate * seconds));
    const spare = hc * 2;
    const resetUsers = await mapLimit(Array.from({ length: warmupCount + measuredCount + spare }, (_, i) => `bench-${tag}-r${i}`), 8, (name) =>
      createUser(service, adminToken, name),
    );
    const resetTokens = await mapLimit(resetUsers, 8, (sid) => issueResetToken(service, adminToken, sid));
    const resetConnection = (): Connection => ({
      next: () => {
        const token = resetTokens.shift();
        if (!token) throw new Error('the reset-token pool ran out');
        return { method: 'POST', path: `${V1}/auth/reset`, headers: json, body: JSON.stringify({ token, password: PASSWORD_C }) };
      },
    });
    const resetOptions = { url, connections: hc, ...perConnection(resetConnection) };
    await load({ ...resetOptions, amount: warmupCount });
    const reset = await counted(service, async () => expectClean('auth/reset', await load({ ...resetOptions, amount: measuredCount })), hashBaseline);

    log(`  ${dialect}: GET /status/v1/simple`);
    // The service's own per-request cost (hooks, request log) with no database work, beside the bare route.
    const statusOptions = { url: `${url}/status/v1/simple`, connections: fc };
    await load({ ...statusOptions, duration: warmupSeconds });
    const status = await counted(service, async () => expectClean('status', await load({ ...statusOptions, duration: seconds })), bareBaseline);

    log(`  ${dialect}: GET /status/v1/simple and GET /users/current while POST /auth/token is saturated`);
    const probeRate = 50;
    // Each probe connection sends every 40 ms and gets its answer long before
    // the next is due, so no sample is held back (no coordinated omission).
    // autocannon's correction for it would take the interval as 1 ms here
    // (Math.ceil(1 / rate)) and record a 20 ms answer as twenty samples.
    const probe = { connections: 2, overallRate: probeRate, duration: seconds, ignoreCoordinatedOmission: true };
    const statusProbe = startLoad({ url: `${url}/status/v1/simple`, ...probe });
    const currentProbe = startLoad({ url: `${url}${V1}/users/current`, headers: { 'x-authentication': adminToken }, ...probe });
    const saturatingLogin = load({ ...loginOptions, duration: seconds });
    const [satLogin, satStatus, satCurrent] = await Promise.all([saturatingLogin, statusProbe.result, currentProbe.result]);
    const saturation = {
      login: expectClean('saturating login', satLogin),
      status: expectClean('status probe', satStatus),
      current: expectClean('users/current probe', satCurrent),
    };

    return { login: loginResult, current, issue, change, reset, status, saturation };
  } finally {
    await service.stop();
  }
}

// --- the lockout flood --------------------------------------------------------

export interface FloodResult {
  requests: number;
  seconds: number;
  /** Answers by status code. */
  statuses: Record<string, number>;
  /** argon2id operations during the flood alone (must be 0). */
  hashesAlone: number;
  /** Other users' logins, alone and while a second flood of the same size runs. */
  othersAlone: LoadResult;
  othersDuringFlood: LoadResult;
  secondFlood: LoadResult;
  /** argon2id operations during the second flood beyond one verify per successful other login (must be 0). */
  extraHashesDuringFlood: number;
}

export async function runLockoutFlood(dialect: Dialect, settings: Settings, requests: number, log: (line: string) => void): Promise<FloodResult> {
  const { hashConnections: hc, fastConnections: fc, seconds } = settings;
  const service = await startService(dialect); // failed-attempts-lockout: the default 10
  try {
    const url = service.url;
    const adminToken = await login(service, 'admin', ADMIN_PASSWORD);
    const tag = randomBytes(3).toString('hex');
    const victim = `bench-${tag}-victim`;
    await createUser(service, adminToken, victim, PASSWORD_A);
    const others = await mapLimit(Array.from({ length: hc }, (_, i) => `bench-${tag}-o${i}`), 4, async (name) => {
      await createUser(service, adminToken, name, PASSWORD_A);
      return name;
    });
    // Lock the victim the way an attacker would: wrong passwords until the lockout revokes it.
    for (let i = 0; i < 10; i++) await expectStatus(service, 401, 'POST', `${V1}/auth/token`, { body: { login: victim, password: `wrong guess ${i}` } });
    const locked = await call(service, 'POST', `${V1}/auth/token`, { body: { login: victim, password: PASSWORD_A } });
    if (locked.status !== 401 || !locked.text.includes('user-revoked')) throw new Error(`the victim is not locked: ${locked.status} ${locked.text}`);

    log(`  ${dialect}: ${requests} logins against a locked account`);
    const floodOptions = { url: `${url}${V1}/auth/token`, method: 'POST' as const, headers: json, body: JSON.stringify({ login: victim, password: PASSWORD_A }), connections: fc };
    const before = await service.hashCounts();
    const flood = await load({ ...floodOptions, amount: requests });
    const after = await service.hashCounts();
    const hashesAlone = Object.keys(after).reduce((sum, key) => sum + (after[key] ?? 0) - (before[key] ?? 0), 0);

    log(`  ${dialect}: other users' logins, alone and during a second flood`);
    const othersOptions = {
      url,
      connections: hc,
      ...perConnection((i) => {
        const body = JSON.stringify({ login: others[i % others.length], password: PASSWORD_A });
        return { next: () => ({ method: 'POST', path: `${V1}/auth/token`, headers: json, body }) };
      }),
    };
    await load({ ...othersOptions, duration: 1 });
    const othersAlone = expectClean('other logins alone', await load({ ...othersOptions, duration: seconds / 2 }));
    const before2 = await service.hashCounts();
    const othersRun = startLoad({ ...othersOptions, duration: 600 });
    const secondFlood = await load({ ...floodOptions, amount: requests });
    othersRun.stop();
    const othersDuringFlood = expectClean('other logins during the flood', await othersRun.result);
    const after2 = await service.hashCounts();
    const hashes2 = Object.keys(after2).reduce((sum, key) => sum + (after2[key] ?? 0) - (before2[key] ?? 0), 0);
    // Requests in flight when the run stopped may have been hashed without their answer counted.
    return {
      requests,
      seconds: flood.seconds,
      statuses: flood.statuses,
      hashesAlone,
      othersAlone,
      othersDuringFlood,
      secondFlood,
      extraHashesDuringFlood: Math.max(0, hashes2 - othersDuringFlood.ok - hc),
    };
  } finally {
    await service.stop();
  }
}
