// The real service as a child process, as an operator runs it:
// `node --import tsx src/cli/main.ts serve --insecure-http --port <free port>
// --metrics-port 0 --data-dir <dir>` with RBAC_ADMIN_PASSWORD set and no
// other RBAC_* variable inherited. For tests that need several processes, a
// hard kill, signals, or the JSON log it writes on stdout.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_PASSWORD } from './service.js';
import { keepProcessOutput } from './suite-log.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const READY_WITHIN_MS = 30_000;

export interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
  req?: { id: string; method: string; url: string };
  res?: { statusCode: number };
  [key: string]: unknown;
}

export interface ServiceProcess {
  url: string;
  port: number;
  child: ChildProcessWithoutNullStreams;
  /** Every JSON line the service logged so far. */
  log: LogLine[];
  /** Everything the process wrote on stdout and stderr, for diagnostics and secret checks. */
  output(): string;
  stderr(): string;
  /** Resolves when a logged line matches. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends the signal (if it still runs), waits for the exit, keeps the output with the suite's logs; the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Kills it if it still runs, keeps its output, and removes the data dir when this helper made it. */
  cleanup(): Promise<void>;
}

export interface SpawnOptions {
  /** Default: a new temporary directory, removed by cleanup(). */
  dataDir?: string | undefined;
  databaseUrl?: string | undefined;
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export async function spawnService(options: SpawnOptions = {}): Promise<ServiceProcess> {
  const ownDataDir = options.dataDir === undefined ? mkdtempSync(path.join(tmpdir(), 'rbac-spawn-')) : undefined;
  const dataDir = options.dataDir ?? (ownDataDir as string);
  const port = await freePort();
  const args = ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--insecure-http', '--port', String(port), '--metrics-port', '0', '--data-dir', dataDir];
  if (options.databaseUrl) args.push('--database-url', options.databaseUrl);
  args.push(...(options.extraArgs ?? []));
  const baseEnv: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('RBAC_')) baseEnv[name] = value;
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: { ...baseEnv, RBAC_ADMIN_PASSWORD: ADMIN_PASSWORD, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });

  const log: LogLine[] = [];
  const waiters: { predicate: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  let output = '';
  let stderr = '';
  let pending = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    output += chunk;
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const text of lines) {
      if (!text.startsWith('{')) continue;
      const line = JSON.parse(text) as LogLine;
      log.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.predicate(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  child.stderr.setEncoding('utf8');
  // Ready when the CLI says so on stderr (whatever the log level).
  const ready = new Promise<void>((resolve) => {
    child.stderr.on('data', (chunk: string) => {
      output += chunk;
      stderr += chunk;
      if (stderr.includes('rbac service running at')) resolve();
    });
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const running = () => child.exitCode === null && child.signalCode === null;
  let kept = false;
  const keepOutput = () => {
    if (!kept) keepProcessOutput(String(port), output);
    kept = true;
  };

  const service: ServiceProcess = {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    log,
    output: () => output,
    stderr: () => stderr,
    waitForLog(predicate, timeoutMs = 20_000) {
      const found = log.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
        waiters.push({
          predicate,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        void exited.then(() => reject(new Error(`the service exited; stderr: ${stderr}`)));
      });
    },
    exited,
    async stop(signal = 'SIGTERM') {
      if (running()) child.kill(signal);
      const { code } = await exited;
      keepOutput();
      return code;
    },
    async cleanup() {
      await service.stop('SIGKILL');
      if (ownDataDir) rmSync(ownDataDir, { recursive: true, force: true });
    },
  };

  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ready,
      exited.then(() => Promise.reject(new Error(`rbac serve exited before it was ready: ${output}`))),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`rbac serve not ready after ${READY_WITHIN_MS / 1000} s: ${output}`)), READY_WITHIN_MS))),
    ]);
  } catch (error) {
    await service.cleanup();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return service;
}

/** One JSON API call to a service process: status and body text. */
export async function callApi(base: string, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${base}/rbac-api/v1${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { 'x-authentication': token } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, text: await response.text() };
}
