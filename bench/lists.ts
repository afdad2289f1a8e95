// What one request carrying a list at its bound (CONTRACT §7: 1,000 ids or
// permissions) costs the event loop: the request's time, and the longest the
// event loop was held at once while it ran (perf_hooks'
// monitorEventLoopDelay at 1 ms resolution), with 100 entries and with
// 1,000. Work linear in the list takes about ten times as long with ten
// times the entries; work quadratic in it, a hundred times (remove-permissions
// on a role of 16,000 held the loop for 2–3 s before the lists were
// bounded and compared through sets). The service runs in this process, so
// its own event loop is the one watched; each figure is the median of a
// few runs.

import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
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
  bySize: Record<(typeof SIZES)[number], { requestMs: number; cpuMs: number; loopMs: number }>;
}

/** What one operation needs: the request to send with `n` entries, made fresh for each run (its state set up beforehand, not timed). */
interface Operation {
  name: string;
  prepare(n: number): Promise<{ method: 'POST' | 'PUT' | 'DELETE'; url: string; payload: unknown; status: number }>;
}

/** Lets the event loop turn (and the delay monitor's timer run). */
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
  ];
}

export async function runListCosts(dialect: Dialect, log: (line: string) => void): Promise<ListCost[]> {
  const service = await startTestService(dialect, {}, { logStream: { write: () => undefined } });
  try {
    const admin = await service.adminToken();
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const costs: ListCost[] = [];
    for (const operation of await operations(service, admin)) {
      log(`  ${dialect}: ${operation.name}`);
      const bySize = {} as ListCost['bySize'];
      for (const n of SIZES) {
        const requestMs: number[] = [];
        const cpuMs: number[] = [];
        const loopMs: number[] = [];
        for (let run = 0; run < RUNS; run++) {
          const { status, ...request } = await operation.prepare(n);
          await tick();
          loop.reset();
          const cpu = process.cpuUsage();
          const started = performance.now();
          const response = await service.request({ ...request, token: admin, payload: request.payload as Record<string, unknown> });
          requestMs.push(performance.now() - started);
          const used = process.cpuUsage(cpu);
          cpuMs.push((used.user + used.system) / 1000);
          // The sample that measured the longest hold is taken when the timer finally runs, after the request.
          await tick();
          loopMs.push(loop.max / 1e6);
          if (response.statusCode !== status) throw new Error(`${operation.name}, n = ${n}: ${response.statusCode} ${response.body.slice(0, 200)}`);
        }
        bySize[n] = { requestMs: median(requestMs), cpuMs: median(cpuMs), loopMs: median(loopMs) };
      }
      costs.push({ operation: operation.name, bySize });
    }
    loop.disable();
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
    `Each request sent with 100 and with 1,000 entries, on a service in the benchmark's own process (its event loop watched by \`monitorEventLoopDelay\`, 1 ms resolution), the median of ${RUNS} runs: the request's time, the CPU time the process spent meanwhile, and "loop held", the longest the event loop was busy at once while the request ran (on a machine shared with other work this includes the time the process waited for a core). The last column is the CPU time with 1,000 entries over the CPU time with 100: about 10 for work linear in the list (less where a fixed cost dominates), about 100 for quadratic work.`,
    '',
    '| operation | database | 100: request ms | CPU ms | loop held ms | 1,000: request ms | CPU ms | loop held ms | CPU 1,000 / 100 |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [dialect, costs] of Object.entries(results) as [Dialect, ListCost[]][]) {
    for (const { operation, bySize } of costs) {
      const small = bySize[100];
      const large = bySize[1000];
      const figures = (size: ListCost['bySize'][100]) => `${ms(size.requestMs)} | ${ms(size.cpuMs)} | ${ms(size.loopMs)}`;
      lines.push(`| ${operation} | ${dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'} | ${figures(small)} | ${figures(large)} | ${(large.cpuMs / small.cpuMs).toFixed(1)} |`);
    }
  }
  return [...lines, ''];
}
