// docs/benchmarks.md, written by `npm run bench` from one run's numbers.

import type { HistoryRun, HistorySettings } from './history.js';
import { cpuMicrosPerAnswer, type MeasuredLoad, type TokenCheckResults, type TokenCheckSettings } from './tokens.js';
import type { LoadResult } from './lib/load.js';
import type { CpuUse } from './lib/cpu.js';
import type { Dialect, FloodResult, FlowResult, OurResults, Settings } from './ours.js';
import type { PeerResults } from './peer/flows.js';
import type { RouteProfile } from './profile.js';

export interface Report {
  command: string;
  date: string;
  cores: number;
  cpu: string;
  node: string;
  loadBefore: number[];
  loadAfter: number[];
  seconds: number;
  quick: boolean;
  settings: Settings;
  /** hashCpuSeconds: CPU seconds one raw argon2id hash took in the baseline. */
  baselines: { hashRate: number; hashCpuSeconds: number; signRate: number; bare: LoadResult & { cpu: CpuUse } };
  ours: Record<Dialect, OurResults>;
  flood: Record<Dialect, FloodResult>;
  floodRequests: number;
  history: Record<Dialect, HistoryRun[]>;
  tokens: Record<Dialect, TokenCheckResults>;
  profiles: RouteProfile[];
  peer: PeerResults;
}

const DIALECTS: Dialect[] = ['sqlite', 'postgres'];

/** A note when the machine was shared at the start (1-minute load average over 1.5). */
export function sharedLoadNote(loadBefore: number[]): string[] {
  const one = loadBefore[0] ?? 0;
  if (one <= 1.5) return [];
  return [
    `**This run was under shared load**: the 1-minute load average was ${one.toFixed(2)} when it started (over 1.5), other work sharing the cores. Absolute rates are lower than on an idle machine, and the ratios, each measured minutes apart from its baseline or beside it, are less certain.`,
    '',
  ];
}
/** Issue #18's targets: an issued reset token over a raw RS256 signature, and the p99 of a cheap route while logins saturate the CPU. */
const SIGN_TARGET: Record<Dialect, number> = { sqlite: 0.8, postgres: 0.5 };
const PROBE_P99_MS = 10;
const PROBE_FIX =
  'What would meet it: hashing threads that never take a core the event loop could use. nice +4 only lowers their share; Linux\'s SCHED_IDLE policy for the hashing threads (they run only on a core nothing else wants) would leave the event loop, PostgreSQL and the load generator a core the moment they are runnable, at the price of fewer hashes whenever the machine is busy with anything else (the login target measures that). A design change to the hashing pool (docs/decisions.md, *Hashes run in their own worker threads*), not made here.';
const DB_NAME: Record<Dialect, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

const rate = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));
const ms = (value: number) => `${value}`;
const ratio = (value: number) => value.toFixed(2);
const yes = (met: boolean) => (met ? 'yes' : '**no**');
const loads = (values: number[]) => values.map((value) => value.toFixed(2)).join(' / ');

/** Cores' worth of CPU each consumer used during a measured run (CPU seconds per second). */
interface CpuShares {
  eventLoop: number;
  workers: number;
  postgres: number;
  loadGenerator: number;
  idle: number;
  /** CPU seconds the worker threads spent per hash, against the raw baseline's. */
  workerCpuPerHash: number;
}

function cpuShares(flow: FlowResult, report: Report): CpuShares {
  const { seconds, eventLoop, workers, postgres, loadGenerator } = flow.cpu;
  const used = (eventLoop + workers + postgres + loadGenerator) / seconds;
  return {
    eventLoop: eventLoop / seconds,
    workers: workers / seconds,
    postgres: postgres / seconds,
    loadGenerator: loadGenerator / seconds,
    idle: Math.max(0, report.cores - used),
    workerCpuPerHash: flow.hashes > 0 ? workers / flow.hashes : 0,
  };
}

const cores = (value: number) => value.toFixed(2);
/** The two measurements a flow's baseline averages, before and after its run. */
const spread = (flow: FlowResult) => (flow.baselineSpread ? ` (${flow.baselineSpread.map((one) => rate(one.rate)).join(' → ')})` : '');

interface Row {
  flow: string;
  db: string;
  result: FlowResult;
  baseline: string;
  ratio: number;
  target: number;
  /** For the list of misses. */
  key: 'hash' | 'sign' | 'get' | 'status';
}

/** What the hashing target leaves the rest of a request, against what the rest took, and what would meet it. */
function hashBudget(row: Row, shares: CpuShares, report: Report): string {
  const needed = (row.target / row.ratio) * row.result.rps;
  const hashing = needed * row.result.hashesPerRequest * shares.workerCpuPerHash;
  const loadGenerator = (shares.loadGenerator / row.result.rps) * needed;
  const leftMs = ((report.cores - hashing - loadGenerator) / needed) * 1000;
  const spentMs = ((shares.eventLoop + shares.postgres) / row.result.rps) * 1000;
  const rest = row.db === 'PostgreSQL' ? 'the event loop and PostgreSQL' : 'the event loop';
  return (
    `At the target's ${rate(needed)} req/s the hashes alone would take ${cores(hashing)} cores and the load generator ${cores(loadGenerator)}, leaving ${rest} ${leftMs.toFixed(2)} ms of CPU a request with no core idle; they took ${spentMs.toFixed(2)} ms. ` +
    'What would meet it: more of the cores for the hashes, or less around each. Hashing threads at the event loop\'s priority, as the raw baseline\'s are, would take back the cores the event loop leaves idle between its turns, at the price of the probe target below (with libuv\'s pool at normal priority a GET waited 30–40 ms at p99 while logins ran): on 2 cores the two targets pull against each other, and a machine with a core beyond its hashing threads meets both. ' +
    'Less around each hash: a login is already two statements on PostgreSQL (the lookup with its claim, then its writes) and one transaction of writes on SQLite; what is left around the hash is the HTTP exchange and the hand-over to the hashing thread, which every login needs.'
  );
}

function reasonFor(row: Row, report: Report): string {
  switch (row.key) {
    case 'hash': {
      const shares = cpuShares(row.result, report);
      const baselineCpu = row.result.baseline?.cpuPerOperation ?? report.baselines.hashCpuSeconds;
      const slower = shares.workerCpuPerHash / baselineCpu;
      return (
        `The service runs the same argon2id (@node-rs/argon2) in its pool of one thread per core at a lower priority than the event loop; the raw baseline ran it on libuv's pool with all ${report.cores} cores to itself. ` +
        `During this run the worker threads got ${cores(shares.workers)} cores, the event loop took ${cores(shares.eventLoop)}` +
        `${row.db === 'PostgreSQL' ? `, the PostgreSQL server ${cores(shares.postgres)}` : ''}, the load generator ${cores(shares.loadGenerator)}, and ${cores(shares.idle)} went to other processes or stayed idle` +
        `${slower > 1.05 ? `; each hash also cost ${((slower - 1) * 100).toFixed(0)}% more CPU than in the baseline (${(shares.workerCpuPerHash * 1000).toFixed(1)} ms against ${(baselineCpu * 1000).toFixed(1)} ms), argon2id being memory-bound and sharing the caches with the rest` : ''} (see *Where the CPU went*). ` +
        hashBudget(row, shares, report)
      );
    }
    case 'sign': {
      const shares = cpuShares(row.result, report);
      const perRequest = (share: number) => (share / row.result.rps) * 1000;
      const signature = (report.cores * 1000) / (row.result.baseline?.rate ?? report.baselines.signRate);
      const total = perRequest(shares.eventLoop + shares.workers + shares.postgres + shares.loadGenerator);
      return (
        `An RS256 signature costs ${signature.toFixed(2)} ms of CPU here, and the raw baseline spends both cores on nothing else; the service signs off the event loop already (jose signs through WebCrypto, which Node runs on libuv's thread pool). ` +
        `An issue request also checks the admin's token, signs with the key the service last read, and then, atomically, checks that the user exists and is local and that the key still signs, and writes the supersede, the new token and the audit event` +
        `${row.db === 'PostgreSQL' ? ' in one statement: two round trips\' wait in all (the token check, the statement)' : ' in one transaction'}. ` +
        `Measured per request: ${total.toFixed(2)} ms of CPU in all (the service's event loop ${perRequest(shares.eventLoop).toFixed(2)} ms, ` +
        `its worker threads, signing, ${perRequest(shares.workers).toFixed(2)} ms${row.db === 'PostgreSQL' ? `, the PostgreSQL server ${perRequest(shares.postgres).toFixed(2)} ms` : ''}, the load generator ${perRequest(shares.loadGenerator).toFixed(2)} ms), ` +
        `${(total / signature).toFixed(1)} signatures' worth; ${row.target} would allow ${(signature / row.target).toFixed(2)} ms. ` +
        `Besides, the event loop is one thread: with it busy ${cores(shares.eventLoop)} of the time and the requests waiting on ${row.db === 'PostgreSQL' ? 'PostgreSQL' : 'it'} and on the pool in turn, ${cores(shares.idle)} cores went to other processes or stayed idle. ` +
        'What would meet it: a cheaper signature. The ratio is against a raw RS256 signature, and the rest of a request (HTTP, the token check, the writes) costs about as much as one; an Ed25519 (EdDSA) or ES256 signature costs a small fraction of an RS256 one, which would make the issue several times faster than this baseline — a change of the reset token\'s format (its alg and key type), so a decision for the project, not made here.'
      );
    }
    case 'status':
    case 'get': {
      const shares = cpuShares(row.result, report);
      const us = (cpuSeconds: number, requests: number) => ((cpuSeconds / requests) * 1e6).toFixed(0);
      const bare = report.baselines.bare;
      const bareServer = row.result.baseline ? (row.result.baseline.cpuPerOperation * 1e6).toFixed(0) : us(bare.cpu.eventLoop + bare.cpu.workers, bare.ok);
      const bareClient = us(bare.cpu.loadGenerator, bare.ok);
      const n = row.result.ok;
      const eventLoop = us(row.result.cpu.eventLoop, n);
      const client = us(row.result.cpu.loadGenerator, n);
      const server = row.db === 'PostgreSQL' ? `, the PostgreSQL server ${us(row.result.cpu.postgres, n)} µs` : '';
      const needed = ((row.target / row.ratio) * row.result.rps).toFixed(0);
      const common =
        `CPU per request, measured from /proc: the bare route ${bareServer} µs in its server and ${bareClient} µs in the load generator; this route ${eventLoop} µs on the service's event loop${server} and ${client} µs in the load generator ` +
        `(during the run: event loop ${cores(shares.eventLoop)} cores, load generator ${cores(shares.loadGenerator)}${row.db === 'PostgreSQL' ? `, PostgreSQL ${cores(shares.postgres)}` : ''}, other processes or idle ${cores(shares.idle)}). ` +
        `${needed} req/s would need the event loop under about ${((1e6 / Number(needed)) * 0.95).toFixed(0)} µs a request (it is one thread). `;
      if (row.key === 'status') {
        return (
          common +
          'The route does no database work: beyond the bare route it runs one hook per stage (request id and content-type check; the service headers; the request line and the metrics), the NUL check, and Fastify\'s per-request child logger; the profile below (*Where a request\'s time goes*) splits it. ' +
          'What would meet it: the request line is most of the difference (GET /status/v1/simple at log level warn measured within about 10 µs a request of the bare route while developing, against 15–20 µs more at info before the line was formatted directly); writing it from a worker thread, or sampling it, would close the gap — a design change to what the log promises (every request, in order), so not made here.'
        );
      }
      return (
        common +
        `Beyond GET /status/v1/simple the route runs the token check: the SHA-256 of the token and one prepared statement (${row.db === 'SQLite' ? 'the better-sqlite3 statement, run directly' : 'a named prepared statement: one round trip, whose row the pg driver describes and parses anew on every execution'}), and answers the user's JSON. ` +
        (row.db === 'SQLite'
          ? 'What would meet it: a second event loop. The check cannot be cached (a revocation must stop the next request, on every instance), and the statement is already prepared; running two service processes on the port (Node cluster, or two instances behind the proxy) would spread the event-loop work over both cores, which on this 2-core machine the load generator also needs.'
          : 'What would meet it: less work per query in the driver (a driver that keeps the row description of a prepared statement and pipelines queries on one connection, such as postgres.js), or two service processes (Node cluster) so the event-loop work spreads over both cores. No cache may stand in for the check: a revocation must stop the next request on every instance.')
      );
    }
  }
}

export function renderReport(report: Report): string {
  const { baselines, ours, flood, peer, settings } = report;
  const hc = settings.hashConnections;
  const fc = settings.fastConnections;
  const lines: string[] = [];
  const push = (...more: string[]) => lines.push(...more);

  push(
    '# Benchmarks',
    '',
    `Written by \`${report.command}\` (bench/run.ts); every number below comes from that one run on one machine. Re-run it to refresh this file.`,
    '',
    '| | |',
    '|---|---|',
    `| command | \`${report.command}\`${report.quick ? ' `--quick` (short runs: not meaningful)' : ''} |`,
    `| date | ${report.date} |`,
    `| cores (\`os.availableParallelism()\`) | ${report.cores} (${report.cpu}) |`,
    `| Node | ${report.node} |`,
    `| load average (1 / 5 / 15 min) before the run | ${loads(report.loadBefore)} |`,
    `| load average after the run | ${loads(report.loadAfter)} |`,
    `| duration of the whole run | ${report.seconds.toFixed(0)} s |`,
    `| connections | ${hc} for the flows that hash (and ${hc} hashes in flight for the raw baseline), ${fc} for the others (and ${fc} signatures in flight) |`,
    `| each measurement | ${settings.warmupSeconds} s warm-up, then ${settings.seconds} s (the reset flows: a fixed number of fresh tokens, about ${settings.seconds} s worth) |`,
    '',
    ...sharedLoadNote(report.loadBefore),
    'The service runs as `rbac serve --insecure-http` (from the TypeScript sources through tsx, which costs only at start) in a child process (its request log at the default level `info`, to /dev/null),',
    'with `--rate-limit-per-address 0 --rate-limit-per-account 0`; `--failed-attempts-lockout 1000000` and `--number-of-previous-passwords 0` for the flows (the history\'s cost has its own section), the default 10 for the flood.',
    'The load is autocannon (programmatic API) over HTTP on 127.0.0.1 from the bench process. SQLite is a fresh data dir; PostgreSQL a throwaway',
    'database on the local server, dropped afterwards. Hashes are counted by the service\'s own instrumented hasher (`rbac_password_hash_duration_seconds_count` on its metrics listener).',
    'req/s counts 2xx answers only; every measured run had no other answer unless a row says so.',
    '',
    '## Baselines (same run)',
    '',
    '| what | rate |',
    '|---|---|',
    `| raw argon2id hashes (@node-rs/argon2, m=19 MiB t=2 p=1 as CURRENT_PARAMETERS), ${hc} in flight | ${rate(baselines.hashRate)} hashes/s |`,
    `| raw RS256 JWT signatures (jose, 2048-bit key, the reset token's claims), ${fc} in flight | ${rate(baselines.signRate)} signatures/s |`,
    `| bare Fastify route returning a constant (own process, ${fc} connections) | ${rate(baselines.bare.rps)} req/s (p50 ${ms(baselines.bare.p50)} ms, p99 ${ms(baselines.bare.p99)} ms) |`,
    '',
    'These are measured at the start. The machine\'s speed drifts by several percent over minutes (a shared virtual machine), so each hashing flow, the token-issuing flow, GET /users/current and GET /status/v1/simple is also ' +
      'compared with its own baseline (the raw rate, or the bare route): the mean of two measurements with the same settings, just before and just after that flow\'s run, while the service sits idle. ' +
      'The tables below use those and show both measurements (before → after); where they differ, the machine changed speed during the run, and the ratio is that uncertain.',
    '',
  );

  const rows: Row[] = [];
  for (const dialect of DIALECTS) {
    const result = ours[dialect];
    const db = DB_NAME[dialect];
    const hashRow = (flow: string, flowResult: FlowResult, hashes: number) => {
      const hashRate = flowResult.baseline?.rate ?? baselines.hashRate;
      rows.push({
        flow,
        db,
        result: flowResult,
        baseline: `${rate(hashRate)} hashes/s${spread(flowResult)} (${hashes} hash${hashes > 1 ? 'es' : ''}/request)`,
        ratio: (flowResult.rps * hashes) / hashRate,
        target: 0.9,
        key: 'hash',
      });
    };
    hashRow('POST /auth/token (correct password)', result.login, 1);
    hashRow('PUT /users/current/password', result.change, 2);
    hashRow('POST /auth/reset (fresh token each)', result.reset, 1);
    const signRate = result.issue.baseline?.rate ?? baselines.signRate;
    rows.push({ flow: 'POST /users/:sid/password/reset (admin)', db, result: result.issue, baseline: `${rate(signRate)} signs/s${spread(result.issue)}`, ratio: result.issue.rps / signRate, target: SIGN_TARGET[dialect], key: 'sign' });
    const bareRow = (flow: string, flowResult: FlowResult, target: number, key: 'get' | 'status') => {
      const bareRate = flowResult.baseline?.rate ?? baselines.bare.rps;
      rows.push({ flow, db, result: flowResult, baseline: `${rate(bareRate)} req/s${spread(flowResult)} (bare route)`, ratio: flowResult.rps / bareRate, target, key });
    };
    bareRow('GET /users/current (login token)', result.current, TOKEN_CHECK_TARGET[dialect], 'get');
    bareRow('GET /status/v1/simple (no database)', result.status, STATUS_TARGET, 'status');
  }

  push(
    '## Where the CPU went',
    '',
    `Cores' worth of CPU (CPU seconds per second of the measured run, out of ${report.cores}) by consumer, read from /proc: the service's main thread (its event loop: HTTP, JSON, the request log, the queries, SQLite itself), ` +
      `its other threads (the hashing pool, where argon2id runs, libuv's pool and V8's helpers), the PostgreSQL server's processes, and the bench process generating the load; the rest of the machine's cores went to other processes (on a shared machine) or stayed idle. ` +
      `The last column is the worker threads' CPU per hash, against the CPU per hash of the flow's raw baseline.`,
    '',
    '| flow | DB | event loop | worker threads | PostgreSQL | load generator | other processes or idle | worker CPU per hash |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const row of rows) {
    const shares = cpuShares(row.result, report);
    const baselineCpu = row.result.baseline?.cpuPerOperation ?? report.baselines.hashCpuSeconds;
    const perHash = row.result.hashes > 0 ? `${(shares.workerCpuPerHash * 1000).toFixed(1)} ms (raw: ${(baselineCpu * 1000).toFixed(1)} ms)` : '—';
    push(`| ${row.flow} | ${row.db} | ${cores(shares.eventLoop)} | ${cores(shares.workers)} | ${cores(shares.postgres)} | ${cores(shares.loadGenerator)} | ${cores(shares.idle)} | ${perHash} |`);
  }
  push('');

  push('## The service against the baselines', '', '| flow | DB | req/s | p50 ms | p99 ms | baseline | ratio | target | met? |', '|---|---|---:|---:|---:|---|---:|---:|---|');
  for (const row of rows) {
    push(`| ${row.flow} | ${row.db} | ${rate(row.result.rps)} | ${ms(row.result.p50)} | ${ms(row.result.p99)} | ${row.baseline} | ${ratio(row.ratio)} | ≥ ${row.target} | ${yes(row.ratio >= row.target)} |`);
  }
  push(
    '',
    'Hashes per request, counted by the service during each measured run (the requests still in flight when a run stops add a little):',
    DIALECTS.map((dialect) => {
      const result = ours[dialect];
      return `${DB_NAME[dialect]}: login ${result.login.hashesPerRequest.toFixed(2)}, change ${result.change.hashesPerRequest.toFixed(2)}, reset ${result.reset.hashesPerRequest.toFixed(2)}, issue ${result.issue.hashesPerRequest.toFixed(2)}, GET ${result.current.hashesPerRequest.toFixed(2)}.`;
    }).join(' '),
    '',
  );

  push(
    '## Latency while POST /auth/token is saturated',
    '',
    `POST /auth/token with ${hc} connections (as above) and, at the same time, two probes at 50 req/s each (2 connections each, so one request per connection every 40 ms). ` +
      'Latencies are as measured: autocannon\'s coordinated-omission correction is off, because at this rate it would take the send interval as 1 ms and count a 20 ms answer twenty times; an answer slower than 40 ms would delay the next send, and none of that size would go unnoticed in a p99 over these samples.',
    '',
    '| probe | DB | p50 ms | p99 ms | target | met? | login meanwhile |',
    '|---|---|---:|---:|---|---|---|',
  );
  const probes: { name: string; db: string; result: LoadResult }[] = [];
  for (const dialect of DIALECTS) {
    const saturation = ours[dialect].saturation;
    const login = `${rate(saturation.login.rps)} req/s, p99 ${ms(saturation.login.p99)} ms`;
    for (const [name, result] of [
      ['GET /status/v1/simple', saturation.status],
      ['GET /users/current', saturation.current],
    ] as const) {
      probes.push({ name, db: DB_NAME[dialect], result });
      push(`| ${name} | ${DB_NAME[dialect]} | ${ms(result.p50)} | ${ms(result.p99)} | p99 < ${PROBE_P99_MS} ms | ${yes(result.p99 < PROBE_P99_MS)} | ${login} |`);
    }
  }
  push('');

  push(
    '## Lockout flood',
    '',
    `${report.floodRequests.toLocaleString('en')} POST /auth/token with the correct password for an account the lockout has revoked (10 wrong passwords first), ${fc} connections, as fast as they go.`,
    `Then the same flood again while ${hc} other users log in; their logins are compared with the same logins without the flood.`,
    '',
    '| DB | flood time | answers | hashes computed by the flood | others alone | others during the flood | ratio | all others 200? | met? |',
    '|---|---:|---|---:|---|---|---:|---|---|',
  );
  const floodMet: Record<Dialect, boolean> = { sqlite: false, postgres: false };
  for (const dialect of DIALECTS) {
    const result = flood[dialect];
    const during = result.othersDuringFlood;
    const alone = result.othersAlone;
    const othersRatio = during.rps / alone.rps;
    const allOk = during.non2xx === 0 && during.errors === 0;
    floodMet[dialect] = result.hashesAlone === 0 && result.extraHashesDuringFlood === 0 && allOk && othersRatio >= 0.9;
    const answers = Object.entries(result.statuses)
      .map(([code, count]) => `${count} × ${code}`)
      .join(', ');
    push(
      `| ${DB_NAME[dialect]} | ${result.seconds.toFixed(1)} s (${rate(result.requests / result.seconds)} req/s) | ${answers} | ${result.hashesAlone} (alone); ${result.extraHashesDuringFlood} (with others) | ` +
        `${rate(alone.rps)} req/s, p99 ${ms(alone.p99)} ms | ${rate(during.rps)} req/s, p99 ${ms(during.p99)} ms (flood: ${result.secondFlood.seconds.toFixed(1)} s) | ${ratio(othersRatio)} | ${allOk ? 'yes' : `no: ${JSON.stringify(during.statuses)}`} | ${yes(floodMet[dialect])} |`,
    );
  }
  push(
    '',
    'Met means: no hash computed for the flood, every other login answered 200, and the others kept at least 0.9 of their rate without the flood.',
    '"With others" counts hashes beyond one per answered other login, less one per other connection (a login in flight when the run stopped).',
    '',
  );

  push(...renderHistory(report.history, settings));
  push(...renderTokenChecks(report.tokens, settings));
  push(...renderProfiles(report.profiles));

  const peerRows = [
    { flow: 'log in', ours: 'POST /auth/token', theirs: 'POST /sign-in/email', a: ours.sqlite.login, b: peer.signIn },
    { flow: 'change own password', ours: 'PUT /users/current/password', theirs: 'POST /change-password (revokeOtherSessions)', a: ours.sqlite.change, b: peer.changePassword },
    { flow: 'reset with a token', ours: 'POST /auth/reset', theirs: 'POST /reset-password', a: ours.sqlite.reset, b: peer.resetPassword },
    { flow: 'make a reset token', ours: 'POST /users/:sid/password/reset', theirs: 'POST /request-password-reset', a: ours.sqlite.issue, b: peer.requestReset },
    { flow: 'authenticated read', ours: 'GET /users/current', theirs: 'GET /get-session', a: ours.sqlite.current, b: peer.getSession },
  ];
  push(
    '## Peer: better-auth, same run, same machine',
    '',
    'better-auth ' +
      `(npm \`better-auth\`) with email and password on SQLite (better-sqlite3, WAL, synchronous=NORMAL like the service), served by a minimal Node HTTP server (bench/peer/server.ts) in its own process, under the same load (${hc} connections for the flows that hash, ${fc} for the others). ` +
      'It allows a custom password hasher (`emailAndPassword.password.hash/verify`), so it hashes with @node-rs/argon2 argon2id at the service\'s parameters (m=19 MiB, t=2, p=1) instead of its default scrypt. ' +
      'Its rate limiter is off, as the service\'s limits are; a reset revokes the user\'s sessions (`revokeSessionsOnPasswordReset`) and a change revokes the others (`revokeOtherSessions`), as the service does with login tokens. ' +
      'better-auth keeps no password history; ours: SQLite, from the table above, with none either (what keeping 5 costs: the section above).',
    '',
    '| flow | ours | req/s (p50 / p99 ms) | better-auth | req/s (p50 / p99 ms) | ours / theirs | ahead? |',
    '|---|---|---|---|---|---:|---|',
  );
  for (const row of peerRows) {
    const r = row.a.rps / row.b.rps;
    push(`| ${row.flow} | ${row.ours} | ${rate(row.a.rps)} (${ms(row.a.p50)} / ${ms(row.a.p99)}) | ${row.theirs} | ${rate(row.b.rps)} (${ms(row.b.p50)} / ${ms(row.b.p99)}) | ${ratio(r)} | ${yes(r > 1)} |`);
  }
  push(
    '',
    'The first three are the flows the issue names; the last two compare what each does for an administrator-issued (ours) or e-mailed (theirs) reset token and for a session check. ' +
      'better-auth\'s change-password hashes the new password before it checks the current one; the service checks first (same two hashes for a correct request).',
    '',
  );

  push('## Targets not met', '');
  const misses: string[] = [];
  const seenReasons = new Set<string>();
  for (const row of rows) {
    if (row.ratio >= row.target) continue;
    const short = (1 - row.ratio / row.target) * 100;
    const reason = reasonFor(row, report);
    const reasonKey = `${row.key}|${row.db}`;
    misses.push(
      `- **${row.flow}, ${row.db}**: ${ratio(row.ratio)} against ≥ ${row.target}, ${short.toFixed(0)}% short (it would need ${rate((row.target / row.ratio) * row.result.rps)} req/s, it did ${rate(row.result.rps)}). ` +
        (seenReasons.has(reasonKey) ? 'Same reason as above.' : reason),
    );
    seenReasons.add(reasonKey);
  }
  for (const probe of probes) {
    if (probe.result.p99 < PROBE_P99_MS) continue;
    misses.push(
      `- **${probe.name} while logins are saturated, ${probe.db}**: p99 ${probe.result.p99} ms against < ${PROBE_P99_MS} ms. ` +
        `The hashing threads run at a lower priority than the event loop, but the event loop${probe.db === 'PostgreSQL' ? ', the PostgreSQL server' : ''} and the load generator still share ${report.cores} cores with them and with each other, and a probe waits for its turn on the CPU. ` +
        `${PROBE_FIX}`,
    );
  }
  for (const dialect of DIALECTS) {
    if (floodMet[dialect]) continue;
    const result = flood[dialect];
    const othersRatio = result.othersDuringFlood.rps / result.othersAlone.rps;
    misses.push(
      `- **Lockout flood, ${DB_NAME[dialect]}**: ${result.hashesAlone + result.extraHashesDuringFlood} hashes for the flood, others at ${ratio(othersRatio)} of their rate alone ` +
        `(${result.othersDuringFlood.non2xx} of their answers not 200). No hash is computed for a revoked account, but answering ${rate(result.requests / result.secondFlood.seconds)} refusals a second ` +
        `takes the event loop's CPU${dialect === 'postgres' ? ' and the PostgreSQL server\'s' : ''}, which on ${report.cores} cores is the hashing threads' CPU, and the hashing threads run at a lower priority than the event loop (and the load generator) by design: see docs/decisions.md, *Hashes run in their own worker threads*. ` +
        `The benchmark turns the rate limits off; deployed, the per-account limit (30 a minute by default) answers such a flood with 429 before any query, which is cheaper but not free.`,
    );
  }
  for (const row of peerRows) {
    if (row.a.rps > row.b.rps) continue;
    misses.push(`- **Peer, ${row.flow}**: ours ${rate(row.a.rps)} req/s, better-auth ${rate(row.b.rps)} req/s.`);
  }
  push(...(misses.length > 0 ? misses : ['Every target was met in this run.']), '');

  push(
    '## Optimisations made for these targets',
    '',
    '- **SQLite: prepared statements are reused** (src/store/database.ts). Kysely prepared every query anew, and on the token lookup of an authenticated GET preparing cost as much as running the query. ' +
      'The store now hands Kysely a better-sqlite3 wrapper that keeps the prepared statement per SQL text (the most recent 500). It caches query plans, never data.',
    '- **Issuing a reset token no longer slows down with every token issued** (src/store/migrations/004_live_reset_tokens_index.ts). Superseding a user\'s live tokens searched ' +
      'every token the user had ever been issued; the index on (user_id, spent_at, superseded_at) finds the live ones directly, and replaces the index on user_id alone.',
    '- **One request log line per request** (src/http/observability.ts). Fastify logs `incoming request` and `request completed`; at `info` the service now writes only the second (which carries method, URL, status and time) and keeps the first for `debug`. ' +
      'Logging, with its redaction of secret fields, was the largest cost of a request after the socket writes.',
    '- **GET /users/current answers from the row read with the token** (src/login/login-tokens.ts): the token lookup joins the user anyway, so the user is not read a second time: two queries instead of three.',
    '- **argon2id in its own worker threads, at a lower priority** (src/passwords/hashing.ts, src/passwords/hash-worker.ts). On libuv\'s pool (four threads at the event loop\'s priority, on two cores) the event loop waited for a core behind the hashes, ' +
      'and GET probes took 30–40 ms at p99 while logins were saturated. One thread per core, each niced by 4, hashes as fast and lets the event loop and the database run first.',
    '- **PostgreSQL pool of 20 connections** (was 10): the hashing flows hold a connection only around their short transactions, but the fast flows keep up to 16 requests in flight.',
    '- **The token check is one prepared statement** (src/store/prepared.ts, src/store/login-tokens.ts): the token by its hash, its user\'s flags and role ids, compiled from Kysely once per dialect; on PostgreSQL a named prepared statement (one round trip, parsed and planned once per connection), on SQLite the better-sqlite3 statement run directly whenever no transaction is open on the connection (through Kysely otherwise, so no uncommitted change is ever read). Building the Kysely query on every request, and Kysely\'s promise chain around a synchronous SQLite call, cost several times the statement. GET /users/current answers from the same row.',
    '- **One hook per stage, and a cheap request line** (src/http/app.ts, src/http/observability.ts): the request id, content-type check, service headers, close handling, log line and metrics run in one callback-style hook per stage instead of six async ones; the request line is formatted directly (it carries nothing redaction could find) and the log goes to stdout in asynchronous writes of up to 16 KiB or 50 ms of lines, flushed before a shutdown ends; the request metrics are counted in place (src/metrics/request-metrics.ts) instead of through a label object hashed per request.',
    '- **Issuing a reset token**: signed with the signing key the service last read, then one statement on PostgreSQL (writing CTEs; no BEGIN/COMMIT round trips) checks the user (exists, local) and that the key still signs, and writes the supersede, the insert and the audit event — or nothing; one transaction on SQLite. With the token check, two round trips for a superuser; a delegated operator\'s permission is read before anything is signed.',
    '- **Log in on PostgreSQL**: the user lookup and the claim of an attempt (or the decoy write for a login with no password here) are one statement; the claim\'s WHERE is re-checked on the row\'s latest version, so the lockout count stays exact across processes.',
    '- **A successful login\'s writes** (src/store/login-tokens.ts, `insertRecordingLogin`): the login recorded on the user, the token\'s row and the audit event are one statement on PostgreSQL (writing CTEs, written only if the account is still not revoked), one transaction on SQLite: with the lookup and claim, a PostgreSQL login is two statements where it was six.',
    '- **SQLite checkpoints off the event loop** (src/store/checkpoint-worker.ts): the server\'s connection no longer copies and syncs the WAL in whichever commit crosses 1000 pages (70–120 µs added to every write transaction on average, measured with the service\'s write pattern); a thread of its own checkpoints every 200 ms.',
    '- **Two hashing tasks per thread** (src/passwords/hashing.ts): the next hash waits in the thread instead of for the event loop to hand it over, which left a core idle for about the event loop\'s busy time per hash under a stream of logins.',
    '',
    'Nothing is cached that decides whether a token works: login tokens (with their user\'s flags and roles), reset tokens and the active signing key are still read from the database on every request, so a revoked or spent token, a revoked user or a removed role takes effect on the next request on every instance. Only statement texts and plans are kept.',
    '',
  );
  return `${lines.join('\n')}\n`;
}

/** The section on what number-of-previous-passwords costs (also printed alone by `npm run bench -- --only history`). */
export function renderHistory(history: Record<Dialect, HistoryRun[]>, settings: HistorySettings): string[] {
  const lines = [
    '## What the password history costs',
    '',
    `PUT /users/current/password and POST /auth/reset with \`number-of-previous-passwords\` 0 (nothing kept) and 5 (the default), each on a service of its own with ${settings.hashConnections} connections, ` +
      `${settings.warmupSeconds} s warm-up, then ${settings.seconds} s. The users have changed their passwords often enough to fill a history of 5, and every request sets a password the user never had: ` +
      'the check verifies the new password against each kept hash (the current one included) and refuses nothing. A reset\'s token is issued by the admin just before it, a second request (an RS256 signature and a write), the same at both settings; ' +
      'its p99 is over both kinds of request. The last column is the rate with 5 kept over the rate with none; the one before it, what the hashes per request alone predict.',
    '',
    '| flow | DB | kept | req/s | p99 ms | hashes/request | predicted by the hashes | 5 kept / 0 kept |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const dialect of DIALECTS) {
    const runs = history[dialect];
    const none = runs.find((run) => run.kept === 0);
    for (const [flow, rateOf, resultOf] of [
      ['PUT /users/current/password', (run: HistoryRun) => run.change.rps, (run: HistoryRun) => run.change],
      ['POST /auth/reset (resets/s)', (run: HistoryRun) => run.resetRate, (run: HistoryRun) => run.reset],
    ] as const) {
      for (const run of runs) {
        const result = resultOf(run);
        const against = none && run !== none ? `${ratio(resultOf(none).hashesPerRequest / result.hashesPerRequest)} | ${ratio(rateOf(run) / rateOf(none))}` : '— | —';
        lines.push(`| ${flow} | ${DB_NAME[dialect]} | ${run.kept} | ${rate(rateOf(run))} | ${ms(result.p99)} | ${result.hashesPerRequest.toFixed(2)} | ${against} |`);
      }
    }
  }
  lines.push(
    '',
    'The verifications run in the hashing pool, all of one request\'s at once (src/passwords/previous-passwords.ts), so the event loop stays free; on a machine whose cores are all hashing they cost their CPU time, one argon2id verification per kept password and request.',
    '',
  );
  return lines;
}

/** The token check's targets (issue #18): the same for the authenticated GET and for introspection. */
export const TOKEN_CHECK_TARGET: Record<Dialect, number> = { sqlite: 0.5, postgres: 0.25 };
/** GET /status/v1/simple over the bare route: the per-request cost without the database. */
export const STATUS_TARGET = 0.8;

/** Issue #29: the service's authenticated GET and introspection over the plain uncached check of the same shape (bench/plain-check-server.ts), on either database. */
export const PLAIN_CHECK_TARGET = 0.8;

/** The section on checking a login token: the authenticated GET and introspection beside the plain check and the bare route, over HTTP (and HTTPS, unless narrow) (also printed alone by `npm run bench -- --only tokens` or `--only token-check`). */
export function renderTokenChecks(results: Record<Dialect, TokenCheckResults>, settings: TokenCheckSettings): string[] {
  const lines = [
    '## Checking a login token: an authenticated GET and introspection, beside the plain check',
    '',
    `GET /users/current and POST /rbac-api/v2/auth/token/authenticate (PE's token introspection, the route every service behind this one calls on every request), on one service per database and scheme with the rate limits off, ${settings.fastConnections} keep-alive connections, each with a token of its own; ` +
      `${settings.warmupSeconds} s warm-up, then ${settings.seconds} s each. Both routes run the same token check: one prepared statement (the token by its hash, its user's flags and role ids). ` +
      'Their limit is the **plain check** (bench/plain-check-server.ts): the same check with nothing around it, in a process of its own on the service\'s own database and tokens — Fastify with its defaults, SHA-256 of the token, one prepared statement (better-sqlite3, or a named `pg` statement on PostgreSQL) joining token, user and role ids, the user as JSON; no hooks, log, metrics or headers. ' +
      'It is measured on the same service\'s database just before the service\'s routes (the service idle meanwhile), and the bare route (a constant) just before that, so the machine\'s drift over minutes does not enter the ratios. ' +
      'GET /status/v1/simple is over the bare route; the service\'s GET and introspection over the plain check\'s GET and POST. ' +
      'The CPU ratio divides the serving process\'s main-thread CPU per answer (read from /proc) the other way round (the baseline\'s over the route\'s): on a loaded machine it moves less than the rates do, since it does not count the time a process waits for a core. ' +
      'With `update_last_activity?` true every introspection also runs the conditional UPDATE of the token\'s last_active. HTTPS: the service with its self-signed certificate (2048-bit RSA, TLS 1.3), the bare route with the same kind; the ratio is over the bare route of the same scheme.',
    '',
    '| route | DB | scheme | req/s | p50 ms | p99 ms | server main thread, µs CPU per answer | over | ratio | CPU ratio | target | met? |',
    '|---|---|---|---:|---:|---:|---:|---|---:|---:|---|---|',
  ];
  for (const dialect of DIALECTS) {
    const result = results[dialect];
    const rows: [string, string, MeasuredLoad, MeasuredLoad | undefined, string, number | undefined][] = [
      ['bare Fastify route (a constant)', 'HTTP', result.bare, undefined, '—', undefined],
      ['plain check: GET /users/current', 'HTTP', result.plain.current, result.bare, 'bare route', undefined],
      ['plain check: POST …/v2/auth/token/authenticate', 'HTTP', result.plain.introspect, result.bare, 'bare route', undefined],
      ['GET /status/v1/simple', 'HTTP', result.status, result.bare, 'bare route', STATUS_TARGET],
      ['GET /users/current (login token)', 'HTTP', result.current, result.plain.current, 'plain check', PLAIN_CHECK_TARGET],
      ['POST …/v2/auth/token/authenticate', 'HTTP', result.introspect, result.plain.introspect, 'plain check', PLAIN_CHECK_TARGET],
      ['GET /users/current (login token)', 'HTTP', result.current, result.bare, 'bare route', TOKEN_CHECK_TARGET[dialect]],
    ];
    if (result.introspectUpdating) rows.push(['POST …/v2/auth/token/authenticate, `update_last_activity?` true', 'HTTP', result.introspectUpdating, result.plain.introspect, 'plain check', undefined]);
    if (result.https) {
      rows.push(
        ['bare Fastify route', 'HTTPS', result.https.bare, undefined, '—', undefined],
        ['GET /users/current (login token)', 'HTTPS', result.https.current, result.https.bare, 'bare route', undefined],
        ['POST …/v2/auth/token/authenticate', 'HTTPS', result.https.introspect, result.https.bare, 'bare route', undefined],
      );
    }
    for (const [name, scheme, run, over, overName, goal] of rows) {
      const r = over ? run.rps / over.rps : 1;
      const cpu = cpuMicrosPerAnswer(run);
      const overCpu = over ? cpuMicrosPerAnswer(over) : undefined;
      const cpuRatio = cpu !== undefined && overCpu !== undefined ? ratio(overCpu / cpu) : '—';
      lines.push(
        `| ${name} | ${DB_NAME[dialect]} | ${scheme} | ${rate(run.rps)} | ${ms(run.p50)} | ${ms(run.p99)} | ${cpu === undefined ? '—' : cpu.toFixed(1)} | ${overName} | ${over ? ratio(r) : '1.00'} | ${cpuRatio} | ${goal === undefined ? '—' : `≥ ${goal}`} | ${goal === undefined ? '—' : yes(r >= goal)} |`,
      );
    }
  }
  lines.push('');
  return lines;
}

/** Where the hottest routes spend the service's main thread (also printed alone by `npm run bench -- --only profile`). */
export function renderProfiles(profiles: RouteProfile[]): string[] {
  const lines = [
    "## Where a request's time goes: CPU profiles of the token check",
    '',
    'The service under `node --cpu-prof` (V8\'s sampling profiler, which slows it somewhat), loaded as in the section above over HTTP; only the samples of the measured run count. ' +
      'Busy time is the main thread\'s time not idle; each share is of that. Self time: a function\'s own time, not what it called (native calls such as a socket write or a SQLite step count under their own name or the JavaScript function that made them).',
    '',
  ];
  for (const profile of profiles) {
    const { summary } = profile;
    // The profile's milliseconds over the answers of the measured run.
    const perRequest = (ms: number) => ((ms * 1000) / Math.max(1, profile.load.ok)).toFixed(1);
    lines.push(
      `### ${profile.route}, ${DB_NAME[profile.dialect]}: ${rate(profile.load.rps)} req/s while profiled, ${(summary.busyMs / 1000).toFixed(1)} s busy of ${(summary.totalMs / 1000).toFixed(1)} s`,
      '',
      `Busy time per request: ${perRequest(summary.busyMs)} µs (${profile.load.ok} answers).`,
      '',
      '| component | share of busy time | µs per request |',
      '|---|---:|---:|',
      ...summary.components.filter((component) => component.share >= 0.005).map((component) => `| ${component.name} | ${(component.share * 100).toFixed(1)}% | ${perRequest(component.ms)} |`),
      '',
      '| function (self time) | where | component | share | µs per request |',
      '|---|---|---|---:|---:|',
      ...summary.functions.map((entry) => `| \`${entry.name}\` | ${entry.where || '—'} | ${entry.component} | ${(entry.share * 100).toFixed(1)}% | ${perRequest(entry.ms)} |`),
      '',
    );
  }
  return lines;
}
