// Where the hottest routes spend the service's CPU: the service runs under
// `node --cpu-prof`, one process per route, loaded as in the token section;
// the profile's samples from the measured load alone (not the start-up) are
// summarised by component and by function (bench/lib/profile.ts).

import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ADMIN_PASSWORD } from '../test/kit/passwords.js';
import { type Connection, type LoadResult, expectClean, load, perConnection } from './lib/load.js';
import { type ProfileSummary, summarizeProfile } from './lib/profile.js';
import { type Dialect, type Settings, createUser, login, PASSWORD_A, startService } from './ours.js';

export interface RouteProfile {
  route: string;
  dialect: Dialect;
  load: LoadResult;
  summary: ProfileSummary;
}

export type ProfileSettings = Pick<Settings, 'fastConnections' | 'seconds' | 'warmupSeconds'>;

const json = { 'content-type': 'application/json' };

const ROUTES: Record<string, (token: string) => Connection> = {
  'GET /status/v1/simple': () => ({ next: () => ({ method: 'GET', path: '/status/v1/simple' }) }),
  'GET /rbac-api/v1/users/current': (token) => {
    const headers = { 'x-authentication': token };
    return { next: () => ({ method: 'GET', path: '/rbac-api/v1/users/current', headers }) };
  },
  'POST /rbac-api/v2/auth/token/authenticate': (token) => {
    const body = JSON.stringify({ token });
    return { next: () => ({ method: 'POST', path: '/rbac-api/v2/auth/token/authenticate', headers: json, body }) };
  },
};

export const PROFILED_ROUTES = Object.keys(ROUTES);

export async function profileRoute(dialect: Dialect, route: string, settings: ProfileSettings, log: (line: string) => void): Promise<RouteProfile> {
  const connection = ROUTES[route];
  if (!connection) throw new Error(`no such profiled route: ${route}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'rbac-bench-profile-'));
  try {
    const service = await startService(dialect, ['--failed-attempts-lockout', '1000000'], { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir] });
    let result: LoadResult;
    let started: number;
    let ended: number;
    try {
      const adminToken = await login(service, 'admin', ADMIN_PASSWORD);
      const name = `bench-profile-${process.pid}`;
      await createUser(service, adminToken, name, PASSWORD_A);
      const token = await login(service, name, PASSWORD_A);
      log(`  ${dialect}: ${route} under --cpu-prof`);
      const options = { url: service.url, connections: settings.fastConnections, ...perConnection(() => connection(token)) };
      await load({ ...options, duration: settings.warmupSeconds });
      started = performance.now();
      result = expectClean(route, await load({ ...options, duration: settings.seconds }));
      ended = performance.now() - 250; // load() waits 250 ms after the run
    } finally {
      await service.stop();
    }
    const exited = performance.now();
    const file = readdirSync(dir).find((entry) => entry.endsWith('.cpuprofile'));
    if (!file) throw new Error('the service wrote no CPU profile');
    // RBAC_BENCH_KEEP_PROFILE=DIR keeps the profile (for a flame graph: open it in Chrome DevTools or speedscope).
    if (process.env.RBAC_BENCH_KEEP_PROFILE) copyFileSync(path.join(dir, file), path.join(process.env.RBAC_BENCH_KEEP_PROFILE, `${dialect}-${route.replace(/[^a-z0-9]+/gi, '-')}.cpuprofile`));
    const summary = summarizeProfile(path.join(dir, file), 15, { fromSecondsBeforeEnd: (exited - started) / 1000, toSecondsBeforeEnd: (exited - ended) / 1000 });
    return { route, dialect, load: result, summary };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
