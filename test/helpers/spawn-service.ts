// The real `rbac serve` in a child process, as an operator runs it:
// `node --import tsx src/cli/main.ts serve --insecure-http --port <free port>
// --data-dir <tmp>`, with RBAC_ADMIN_PASSWORD set. Its stdout (the JSON log)
// is collected line by line.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './process.js';
import { ADMIN_PASSWORD } from './service.js';

export { freePort };

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
  req?: { id: string; method: string; url: string };
  res?: { statusCode: number };
  [key: string]: unknown;
}

export interface SpawnedService {
  child: ChildProcessWithoutNullStreams;
  port: number;
  url: string;
  /** Every JSON line the service logged so far. */
  log: LogLine[];
  stderr(): string;
  /** Resolves when a logged line matches. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Kills the process if it still runs and removes the data dir. */
  cleanup(): Promise<void>;
}

export async function spawnService(args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<SpawnedService> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'rbac-spawn-'));
  const port = await freePort();
  const baseEnv: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('RBAC_')) baseEnv[name] = value;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--insecure-http', '--port', String(port), '--metrics-port', '0', '--data-dir', dataDir, ...args],
    { cwd: REPO_ROOT, env: { ...baseEnv, RBAC_ADMIN_PASSWORD: ADMIN_PASSWORD, ...env }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const log: LogLine[] = [];
  const waiters: { predicate: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  let stderr = '';
  let pending = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const text of lines) {
      if (text.trim() === '') continue;
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
      stderr += chunk;
      if (stderr.includes('rbac service running at')) resolve();
    });
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));

  const service: SpawnedService = {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    log,
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
    async cleanup() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ready,
      exited.then(() => Promise.reject(new Error(`rbac serve exited before it was ready; stderr: ${stderr}`))),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`rbac serve not ready after 30 s; stderr: ${stderr}`)), 30_000))),
    ]);
  } catch (error) {
    await service.cleanup();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return service;
}
