// A V8 CPU profile (.cpuprofile, from `node --cpu-prof`) summarised: where
// the main thread's busy time went, by component (the service's own code,
// Fastify, Kysely, pino, the database drivers, Node's HTTP and socket code,
// garbage collection) and by function, self time (the time a function itself
// ran, not what it called).

import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  startTime: number;
  endTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Busy milliseconds: every sample but (idle). */
  busyMs: number;
  totalMs: number;
  components: { name: string; ms: number; share: number }[];
  functions: { name: string; where: string; component: string; ms: number; share: number }[];
}

/** Which part of the program a frame belongs to, by its script's path. */
function componentOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(program)') return 'V8 and native code outside JavaScript (program)';
  if (url === '') return functionName.startsWith('(') ? functionName : 'native (no script)';
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (inModules) {
    const name = inModules[1] as string;
    if (name === 'fastify' || name.startsWith('@fastify/') || ['find-my-way', 'light-my-request', 'avvio', 'fast-json-stringify', 'toad-cache', 'ajv', 'fast-uri', 'secure-json-parse', 'process-warning', 'rfdc', 'abstract-logging'].includes(name)) {
      return 'Fastify (and its routing, serialisation)';
    }
    if (['pino', 'pino-std-serializers', 'fast-redact', 'sonic-boom', 'quick-format-unescaped', 'on-exit-leak-free', 'atomic-sleep', 'thread-stream', 'safe-stable-stringify', 'fast-safe-stringify'].includes(name)) return 'pino (request log)';
    if (name === 'kysely') return 'Kysely (query building, execution)';
    if (name === 'better-sqlite3') return 'better-sqlite3 (SQLite calls)';
    if (name.startsWith('pg') || name === 'postgres-array' || name === 'postgres-date' || name === 'buffer-writer' || name === 'packet-reader') return 'pg (PostgreSQL protocol)';
    if (name === 'prom-client' || name === 'tdigest' || name === 'bintrees') return 'prom-client (metrics)';
    if (name === 'tsx' || name === 'esbuild' || name === 'get-tsconfig') return 'tsx (loader)';
    return `other packages (${name})`;
  }
  if (url.startsWith('node:') || !url.includes('/')) {
    if (/node:(_http|http|net|stream|internal\/streams|internal\/http|_stream|internal\/stream_base)/.test(url)) return 'Node HTTP, streams and sockets';
    return 'Node core (other)';
  }
  if (url.includes('/src/')) return 'the service (src/)';
  return 'other scripts';
}

/**
 * `window`: only the samples between these many seconds before the
 * profile's end (the process's exit), e.g. the measured load and not the
 * start-up.
 */
export function summarizeProfile(file: string, topFunctions = 15, window?: { fromSecondsBeforeEnd: number; toSecondsBeforeEnd: number }): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  const from = window ? profile.endTime - window.fromSecondsBeforeEnd * 1e6 : -Infinity;
  const to = window ? profile.endTime - window.toSecondsBeforeEnd * 1e6 : Infinity;
  // timeDeltas[i] is the time before sample i; attribute it to that sample's node.
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = Math.max(0, profile.timeDeltas[i] ?? 0);
    at += delta;
    if (at < from || at > to) continue;
    const id = profile.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }
  let totalUs = 0;
  let idleUs = 0;
  const components = new Map<string, number>();
  const functions = new Map<string, { name: string; where: string; component: string; us: number }>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id) as ProfileNode;
    totalUs += us;
    if (node.callFrame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const component = componentOf(node);
    components.set(component, (components.get(component) ?? 0) + us);
    const shortUrl = node.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|bench|test)\//, '$1/');
    const where = shortUrl ? `${shortUrl}:${node.callFrame.lineNumber + 1}` : '';
    const name = node.callFrame.functionName || '(anonymous)';
    const key = `${name}@${where}`;
    const entry = functions.get(key) ?? { name, where, component, us: 0 };
    entry.us += us;
    functions.set(key, entry);
  }
  const busyUs = totalUs - idleUs;
  const share = (us: number) => (busyUs > 0 ? us / busyUs : 0);
  return {
    busyMs: busyUs / 1000,
    totalMs: totalUs / 1000,
    components: [...components].map(([name, us]) => ({ name, ms: us / 1000, share: share(us) })).sort((a, b) => b.ms - a.ms),
    functions: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topFunctions)
      .map((entry) => ({ name: entry.name, where: entry.where, component: entry.component, ms: entry.us / 1000, share: share(entry.us) })),
  };
}

// `node --import tsx bench/lib/profile.ts FILE.cpuprofile`: the summary as text.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/bench\//, 'bench/'))) {
  const summary = summarizeProfile(process.argv[2] as string, 30);
  console.log(`busy ${summary.busyMs.toFixed(0)} ms of ${summary.totalMs.toFixed(0)} ms`);
  for (const c of summary.components) console.log(`${(c.share * 100).toFixed(1).padStart(5)}%  ${c.name}`);
  console.log('');
  for (const f of summary.functions) console.log(`${(f.share * 100).toFixed(1).padStart(5)}%  ${f.name}  ${f.where}  [${f.component}]`);
}
