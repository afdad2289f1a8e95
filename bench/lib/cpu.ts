// Where the machine's CPU time goes during a measured run, read from /proc:
// the service's main thread (the event loop: HTTP, JSON, logging, queries,
// SQLite itself), the service's other threads (the hashing pool, where argon2id
// runs, and V8's helpers), the PostgreSQL server's processes, and the bench
// process (the load generator).

import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU seconds (user + system) a process (or, with a /proc/<pid>/task/<tid> path, a thread) has used so far; 0 once it is gone. */
function processCpuSeconds(pid: number | string): number {
  try {
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

function postgresPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

export interface CpuSample {
  at: number;
  service: number;
  serviceMainThread: number;
  postgres: Map<number, number>;
  bench: number;
}

export function sampleCpu(servicePid: number): CpuSample {
  const usage = process.cpuUsage();
  return {
    at: performance.now(),
    service: processCpuSeconds(servicePid),
    serviceMainThread: processCpuSeconds(`${servicePid}/task/${servicePid}`),
    postgres: new Map(postgresPids().map((pid) => [pid, processCpuSeconds(pid)])),
    bench: (usage.user + usage.system) / 1e6,
  };
}

/** CPU seconds each consumer used between two samples, and the wall time between them. */
export interface CpuUse {
  seconds: number;
  /** The service's main thread: its event loop. */
  eventLoop: number;
  /** The service's other threads: the hashing pool (argon2id), libuv's pool and V8's helpers. */
  workers: number;
  postgres: number;
  loadGenerator: number;
}

export function cpuBetween(before: CpuSample, after: CpuSample): CpuUse {
  let postgres = 0;
  // Backends that started during the run count from 0; those that ended are lost (a pool keeps its connections).
  for (const [pid, seconds] of after.postgres) postgres += seconds - (before.postgres.get(pid) ?? 0);
  return {
    seconds: (after.at - before.at) / 1000,
    eventLoop: after.serviceMainThread - before.serviceMainThread,
    workers: after.service - before.service - (after.serviceMainThread - before.serviceMainThread),
    postgres,
    loadGenerator: after.bench - before.bench,
  };
}
