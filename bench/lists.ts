// What one request carrying a list at its bound (CONTRACT §7: 1,000 ids or
// permissions, a page of 1,000 activity events) costs the event loop: the
// request's time, its CPU time, and the longest the event loop was held at
// once while it ran, with 100 entries and with 1,000. The longest hold is
// the longest gap between turns of a chain of 1 ms timers that runs beside
// the request (perf_hooks' monitorEventLoopDelay missed these holds: it
// reported about 1 ms while a request held the loop for 20 ms). Work linear in the list takes about ten times as long with ten
// times the entries; work quadratic in it, a hundred times (remove-permissions
// on a role of 16,000 held the loop for 2–3 s before the lists were
// bounded and compared through sets). The service runs in this process, so
// its own event loop is the one watched; each figure is the median of a
// few runs.

import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { summarizeProfile } from './lib/profile.js';
import { insertUser } from '../test/kit/databases.js';
import { startTestService, type TestService } from '../test/kit/service.js';
import type { Dialect } from './ours.js';

const SIZES = [100, 1000] as const;
const RUNS = 5;
const V1 = '/rbac-api/v1';
const V2 = '/rbac-api/v2';

export interface ListCost {
  operation: string;
  /** By list size, medians: the request's milliseconds, the CPU milliseconds the process spent on it, and the longest the event loop was held while it ran. */
  bySize: Record<(typeof SIZES)[number], { requestMs: number; cpuMs: number; loopMs: number; loopCpuMs: number }>;
}

/** What one operation needs: the request to send with `n` entries, made fresh for each run (its state set up beforehand, not timed). */
interface Operation {
  name: string;
  prepare(n: number): Promise<{ method: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string; payload?: unknown; status: number }>;
}

/** Lets the event loop turn (and the watcher's last turn run). */
const tick = () => new Promise((resolve) => setTimeout(resolve, 3));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const permissions = (n: number) => Array.from({ length: n }, () => ({ object_type: 'users', action: 'edit', instance: randomUUID() }));

async function operations(service: TestService, admin: string): Promise<Operation[]> {
  const { db } = service.store;
  const max = Math.max(...SIZES);
  const userIds: string[] = [];
  const logins: string[] = [];
  for (let i = 0; i < max; i++) {
    logins.push(`bench-list-${i}`);
    userIds.push(await insertUser(db, `bench-list-${i}`));
  }
  const groupIds = Array.from({ length: max }, () => randomUUID());
  await db
    .insertInto('groups')
    .values(groupIds.map((id, i) => ({ id, login: `bench-group-${i}`, login_key: `bench-group-${i}`, display_name: `bench group ${i}`, directory_id: null, created_at: Date.now() })))
    .execute();
  await seedEvents(service, userIds, max);
  let roles = 0;
  const role = async (held: unknown[]) => {
    const response = await service.request({ method: 'POST', url: `${V1}/roles`, token: admin, payload: { display_name: `bench list role ${++roles}`, permissions: held } });
    if (response.statusCode !== 201) throw new Error(`role not created: ${response.statusCode} ${response.body.slice(0, 200)}`);
    return (response.json() as { id: number }).id;
  };
  return [
    {
      name: 'remove-permissions: all of a role of n',
      async prepare(n) {
        const held = permissions(n);
        return { method: 'POST', url: `${V1}/command/roles/remove-permissions`, payload: { role_id: await role(held), permissions: held }, status: 204 };
      },
    },
    {
      name: 'add-permissions: n to an empty role',
      prepare: async (n) => ({ method: 'POST', url: `${V1}/command/roles/add-permissions`, payload: { role_id: await role([]), permissions: permissions(n) }, status: 204 }),
    },
    {
      name: 'PUT /roles/:rid: n permissions for n others',
      prepare: async (n) => ({ method: 'PUT', url: `${V1}/roles/${await role(permissions(n))}`, payload: { permissions: permissions(n) }, status: 200 }),
    },
    {
      name: 'add-users: n users to a role',
      prepare: async (n) => ({ method: 'POST', url: `${V1}/command/roles/add-users`, payload: { role_id: await role([]), user_ids: userIds.slice(0, n) }, status: 204 }),
    },
    {
      name: 'add-groups: a role to n groups',
      prepare: async (n) => ({ method: 'POST', url: `${V1}/command/roles/add-groups`, payload: { role_id: await role([]), group_ids: groupIds.slice(0, n) }, status: 204 }),
    },
    {
      name: 'POST /permitted: n permissions',
      prepare: async (n) => ({ method: 'POST', url: `${V1}/permitted`, payload: { token: userIds[0], permissions: permissions(n) }, status: 200 }),
    },
    {
      name: 'DELETE /v2/tokens: n logins',
      prepare: async (n) => ({ method: 'DELETE', url: `${V2}/tokens`, payload: { revoke_tokens_by_usernames: logins.slice(0, n) }, status: 204 }),
    },
    {
      name: 'GET /activity-api/v1/events: a page of n',
      prepare: async (n) => ({ method: 'GET', url: `/activity-api/v1/events?service_id=rbac&limit=${n}`, status: 200 }),
    },
    {
      name: 'GET /activity-api/v2/events: a page of n',
      prepare: async (n) => ({ method: 'GET', url: `/activity-api/v2/events?limit=${n}`, status: 200 }),
    },
    {
      name: 'GET /activity-api/v2/events.csv: n rows',
      prepare: async (n) => ({ method: 'GET', url: `/activity-api/v2/events.csv?limit=${n}`, status: 200 }),
    },
  ];
}

/**
 * Security events for the activity pages, as a busy service records them: role
 * edits naming permissions, gifts of roles to users (some of roles since
 * deleted, whose names the page looks up), logins, user edits.
 */
async function seedEvents(service: TestService, userIds: readonly string[], count: number): Promise<void> {
  const at = Date.now() - 60_000;
  const rows = Array.from({ length: count }, (_, i) => {
    const userId = userIds[i % userIds.length] as string;
    const kind = i % 4;
    const base = { at: at + i, actor_id: userIds[0] as string, actor_login: 'bench-list-0', actor_certname: null, subject_id: userId, subject_login: `bench-list-${i % userIds.length}`, source_address: '192.0.2.7' };
    if (kind === 0) return { ...base, type: 'role-assigned', details: JSON.stringify({ role_id: 1000 + (i % 50) }) };
    if (kind === 1) return { ...base, type: 'role-edited', subject_id: null, subject_login: null, details: JSON.stringify({ role_id: 1 + (i % 3), fields: ['permissions'], permissions_added: [`users:edit:${randomUUID()}`, `users:disable:${randomUUID()}`] }) };
    if (kind === 2) return { ...base, type: 'login-succeeded', details: JSON.stringify({}) };
    return { ...base, type: 'user-edited', details: JSON.stringify({ fields: ['email', 'display_name'] }) };
  });
  for (let i = 0; i < rows.length; i += 200) await service.store.db.insertInto('audit_events').values(rows.slice(i, i + 200)).execute();
}

/**
 * With RBAC_BENCH_LISTS_PROFILE=<directory>, the 1,000-entry runs of each
 * operation are CPU-profiled (V8's sampling profiler, 100 µs interval) into
 * <directory>/<database>-<operation>.cpuprofile, and the functions that took
 * the most self time are logged: where the event loop's time went.
 */
const PROFILE_DIRECTORY = process.env.RBAC_BENCH_LISTS_PROFILE;

async function profiler(): Promise<{ start(): Promise<void>; stop(file: string): Promise<void> } | undefined> {
  if (!PROFILE_DIRECTORY) return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  return {
    start: async () => void (await session.post('Profiler.start')),
    async stop(file) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
    },
  };
}

/**
 * Watches the event loop from now until stop(): a chain of 1 ms timers
 * notes the time at each turn; the longest gap between two turns is the
 * longest the loop was held at once. In wall time (milliseconds; at least
 * the timer's 1 ms), which on a shared machine includes the time the
 * process waited for a core, and in the process's CPU time across the same
 * gap, which does not (nor the timer's wait).
 */
function watchLoop(): { stop(): { wallMs: number; cpuMs: number } } {
  const cpuNow = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  let last = performance.now();
  let lastCpu = cpuNow();
  let longest = 0;
  let longestCpu = 0;
  let watching = true;
  const turn = () => {
    const now = performance.now();
    const cpu = cpuNow();
    longest = Math.max(longest, now - last);
    longestCpu = Math.max(longestCpu, cpu - lastCpu);
    last = now;
    lastCpu = cpu;
    if (watching) setTimeout(turn, 1);
  };
  setTimeout(turn, 1);
  return {
    stop() {
      watching = false;
      return { wallMs: longest, cpuMs: longestCpu };
    },
  };
}

export async function runListCosts(dialect: Dialect, log: (line: string) => void): Promise<ListCost[]> {
  const profile = await profiler();
  const service = await startTestService(dialect, {}, { logStream: { write: () => undefined } });
  try {
    const admin = await service.adminToken();
    const costs: ListCost[] = [];
    for (const operation of await operations(service, admin)) {
      log(`  ${dialect}: ${operation.name}`);
      const bySize = {} as ListCost['bySize'];
      for (const n of SIZES) {
        const requestMs: number[] = [];
        const cpuMs: number[] = [];
        const loopMs: number[] = [];
        const loopCpuMs: number[] = [];
        const profiled = profile !== undefined && n === 1000;
        for (let run = 0; run < RUNS; run++) {
          const { status, payload, ...request } = await operation.prepare(n);
          await tick();
          if (profiled) await profile.start();
          const loop = watchLoop();
          const cpu = process.cpuUsage();
          const started = performance.now();
          const response = await service.request({ ...request, token: admin, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
          requestMs.push(performance.now() - started);
          const used = process.cpuUsage(cpu);
          cpuMs.push((used.user + used.system) / 1000);
          // The sample that measured the longest hold is taken when the timer finally runs, after the request.
          await tick();
          const held = loop.stop();
          loopMs.push(held.wallMs);
          loopCpuMs.push(held.cpuMs);
          if (profiled) {
            const file = path.join(PROFILE_DIRECTORY as string, `${dialect}-${operation.name.replace(/[^a-z0-9]+/gi, '-')}-${run}.cpuprofile`);
            await profile.stop(file);
            if (run === RUNS - 1) {
              const summary = summarizeProfile(file, 12);
              // The profiler's own Profiler.stop (the native "dispatch") is in the profile: left out.
              const own = summary.functions.filter((f) => f.name !== 'dispatch');
              log(`    profiled run: ${(summary.busyMs - (summary.functions.find((f) => f.name === 'dispatch')?.ms ?? 0)).toFixed(1)} ms busy besides the profiler`);
              for (const f of own) log(`      ${f.ms.toFixed(2)} ms ${f.name} ${f.where}`);
            }
          }
          if (response.statusCode !== status) throw new Error(`${operation.name}, n = ${n}: ${response.statusCode} ${response.body.slice(0, 200)}`);
        }
        bySize[n] = { requestMs: median(requestMs), cpuMs: median(cpuMs), loopMs: median(loopMs), loopCpuMs: median(loopCpuMs) };
      }
      costs.push({ operation: operation.name, bySize });
    }
    return costs;
  } finally {
    await service.close();
  }
}

export function renderListCosts(results: Record<Dialect, ListCost[]>): string[] {
  const ms = (value: number) => value.toFixed(1);
  const lines = [
    '## One request carrying a list at its bound',
    '',
    `Each request sent with 100 and with 1,000 entries, on a service in the benchmark's own process (its event loop watched by a chain of 1 ms timers running beside the request), the median of ${RUNS} runs: the request's time, the CPU time the process spent meanwhile, "loop held", the longest the event loop was busy at once while the request ran (on a machine shared with other work this includes the time the process waited for a core), and "held CPU", the CPU time the process spent across that longest gap (which does not). CONTRACT §7 asks that no request hold the loop for more than a few milliseconds. The last column is the CPU time with 1,000 entries over the CPU time with 100: about 10 for work linear in the list (less where a fixed cost dominates), about 100 for quadratic work.`,
    '',
    '| operation | database | 100: request ms | CPU ms | loop held ms | held CPU ms | 1,000: request ms | CPU ms | loop held ms | held CPU ms | CPU 1,000 / 100 |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [dialect, costs] of Object.entries(results) as [Dialect, ListCost[]][]) {
    for (const { operation, bySize } of costs) {
      const small = bySize[100];
      const large = bySize[1000];
      const figures = (size: ListCost['bySize'][100]) => `${ms(size.requestMs)} | ${ms(size.cpuMs)} | ${ms(size.loopMs)} | ${ms(size.loopCpuMs)}`;
      lines.push(`| ${operation} | ${dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'} | ${figures(small)} | ${figures(large)} | ${(large.cpuMs / small.cpuMs).toFixed(1)} |`);
    }
  }
  return [...lines, ''];
}
