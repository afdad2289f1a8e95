// `npm run bench`: the service's flows under HTTP load on SQLite and
// PostgreSQL, the physical limits they are measured against, the lockout
// flood, and the peer (better-auth), all in one run on this machine; the
// results go to docs/benchmarks.md.
//
//   npm run bench                   the full run (about 10 minutes on 2 cores)
//   npm run bench -- --quick        short runs, for trying the harness (numbers not meaningful)
//   npm run bench -- --out FILE     write the report elsewhere ('-' for stdout only)
//   npm run bench -- --only history what the password history costs, alone (about 3 minutes; its section to stdout, or --out FILE)
//   npm run bench -- --only tokens  the token check: an authenticated GET and introspection beside the bare route, over HTTP and HTTPS, alone (about 4 minutes; likewise)
//   npm run bench -- --only token-check  the token check's targets alone: the bare route, the plain check, the status route, GET /users/current and introspection, over HTTP (about 3 minutes)
//   npm run bench -- --only profile CPU profiles of the token check's routes on SQLite, alone (about 1 minute; likewise)
//   npm run bench -- --only directory  directory users' logins beside local ones, alone (about 2 minutes; likewise)
//   npm run bench -- --only lists   one request carrying a list of 100 and of 1,000 entries, and a 1,000-event activity page: its time and the longest time the event loop was held, in wall time and in CPU (about 30 s; likewise)
//
// Needs PostgreSQL at postgres://postgres@127.0.0.1:5432/postgres
// (RBAC_BENCH_POSTGRES_URL overrides); it creates and drops its own databases.

import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { bareRouteLoad, rawHashRate, rawSignRate } from './baselines.js';
import { REPO_ROOT } from '../test/kit/processes.js';
import { runHistoryCost } from './history.js';
import { runLockoutFlood, runOurFlows, type Settings } from './ours.js';
import { runPeerFlows } from './peer/flows.js';
import { profileRoute, PROFILED_ROUTES } from './profile.js';
import { renderHistory, renderProfiles, renderReport, renderTokenChecks, sharedLoadNote, type Report } from './report.js';
import { runTokenChecks } from './tokens.js';
import { renderDirectoryLogins, runDirectoryLogins } from './directory.js';
import { renderListCosts, runListCosts } from './lists.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? args[onlyIndex + 1] : undefined;
const ONLY = ['history', 'tokens', 'token-check', 'profile', 'directory', 'lists'] as const;
if (only !== undefined && !(ONLY as readonly string[]).includes(only)) throw new Error(`--only takes ${ONLY.map((name) => `"${name}"`).join(', ')}, not ${only}`);
const outIndex = args.indexOf('--out');
const out = outIndex >= 0 ? (args[outIndex + 1] ?? '-') : only ? '-' : path.join(REPO_ROOT, 'docs', 'benchmarks.md');

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const log = (line: string) => console.log(`[${elapsed().padStart(5)}] ${line}`);

const loadBefore = loadavg();
const settings: Omit<Settings, 'rawHashRate'> = {
  hashConnections: 8,
  fastConnections: 16,
  seconds: quick ? 3 : 8,
  warmupSeconds: quick ? 1 : 2,
};
const floodRequests = 10_000;

function write(markdown: string): void {
  if (out === '-') console.log(markdown);
  else {
    writeFileSync(out, markdown);
    log(`wrote ${path.relative(process.cwd(), out)}`);
  }
}

// A section measured alone: what it is, and how its markdown is made.
const ALONE = {
  history: {
    what: 'the password history alone',
    section: async () => renderHistory({ sqlite: await runHistoryCost('sqlite', settings, log), postgres: await runHistoryCost('postgres', settings, log) }, settings),
  },
  tokens: {
    what: 'checking login tokens alone',
    section: async () => renderTokenChecks({ sqlite: await runTokenChecks('sqlite', settings, log), postgres: await runTokenChecks('postgres', settings, log) }, settings),
  },
  'token-check': {
    what: "the token check beside the plain check and the bare route, over HTTP",
    section: async () =>
      renderTokenChecks({ sqlite: await runTokenChecks('sqlite', settings, log, true), postgres: await runTokenChecks('postgres', settings, log, true) }, settings),
  },
  directory: {
    what: "directory users' logins alone",
    section: async () => renderDirectoryLogins({ sqlite: await runDirectoryLogins('sqlite', settings, log), postgres: await runDirectoryLogins('postgres', settings, log) }, settings),
  },
  profile: {
    what: "CPU profiles of the token check's routes",
    section: async () => renderProfiles(await profiles()),
  },
  lists: {
    what: 'requests carrying lists at their bound',
    section: async () => renderListCosts({ sqlite: await runListCosts('sqlite', log), postgres: await runListCosts('postgres', log) }),
  },
} as const;

async function profiles() {
  const results = [];
  for (const route of PROFILED_ROUTES) results.push(await profileRoute('sqlite', route, settings, log));
  return results;
}

if (only !== undefined) {
  const alone = ALONE[only as (typeof ONLY)[number]];
  log(`${availableParallelism()} cores, Node ${process.version}, load average ${loadBefore.map((value) => value.toFixed(2)).join(' ')}: ${alone.what}`);
  write(`${[...sharedLoadNote(loadBefore), ...(await alone.section())].join('\n')}\n`);
  log(`done in ${elapsed()}`);
  process.exit(0);
}

log(`${availableParallelism()} cores, Node ${process.version}, load average ${loadBefore.map((value) => value.toFixed(2)).join(' ')}`);

log(`baseline: raw argon2id hashes, ${settings.hashConnections} in flight`);
const rawHash = await rawHashRate(settings.hashConnections, settings.seconds);
const hashRate = rawHash.rate;
log(`  ${hashRate.toFixed(1)} hashes/s, ${(rawHash.cpuPerOperation * 1000).toFixed(1)} ms of CPU each`);
log(`baseline: raw RS256 signatures (jose, 2048-bit key), ${settings.fastConnections} in flight`);
const signRate = (await rawSignRate(settings.fastConnections, settings.seconds)).rate;
log(`  ${signRate.toFixed(0)} signatures/s`);
log(`baseline: bare Fastify route, ${settings.fastConnections} connections`);
const bare = await bareRouteLoad(settings.fastConnections, settings.seconds);
log(`  ${bare.rps.toFixed(0)} req/s`);

const full: Settings = { ...settings, rawHashRate: hashRate };
const ours = { sqlite: await runOurFlows('sqlite', full, log), postgres: await runOurFlows('postgres', full, log) };
const flood = { sqlite: await runLockoutFlood('sqlite', full, floodRequests, log), postgres: await runLockoutFlood('postgres', full, floodRequests, log) };
log('the password history');
const history = { sqlite: await runHistoryCost('sqlite', full, log), postgres: await runHistoryCost('postgres', full, log) };
log('checking login tokens');
const tokens = { sqlite: await runTokenChecks('sqlite', full, log), postgres: await runTokenChecks('postgres', full, log) };
log('directory logins');
const directory = { sqlite: await runDirectoryLogins('sqlite', full, log), postgres: await runDirectoryLogins('postgres', full, log) };
log('CPU profiles of the token check');
const profiled = await profiles();
log('peer: better-auth');
const peer = await runPeerFlows(full, log);

const report: Report = {
  command: 'npm run bench',
  date: new Date().toISOString(),
  cores: availableParallelism(),
  cpu: cpus()[0]?.model ?? 'unknown',
  node: process.version,
  loadBefore,
  loadAfter: loadavg(),
  seconds: (Date.now() - started) / 1000,
  quick,
  settings: full,
  baselines: { hashRate, hashCpuSeconds: rawHash.cpuPerOperation, signRate, bare },
  ours,
  flood,
  floodRequests,
  history,
  tokens,
  profiles: profiled,
  peer,
};
write([renderReport(report).trimEnd(), '', ...renderDirectoryLogins(directory, full)].join('\n'));
log(`done in ${elapsed()}`);
