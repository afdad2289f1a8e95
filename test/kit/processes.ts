// Child processes, as an operator (or a benchmark) runs them: the `rbac`
// command run to completion (runCli), the service as a long-running process
// with its JSON log (spawnService), and any `node --import tsx` server polled
// until it answers (startChild, for bench/). Children never inherit the
// caller's RBAC_* variables unless a caller passes them.
//
// The `rbac` children run the compiled command, `node bin/rbac.js` (dist/, as
// installed), not the TypeScript sources through tsx: tsx's start-up cost more
// than the command itself, for each of the hundreds of commands the suite runs.
// `npm test` builds dist/ first; a dist/ older than src/ (a test file run on
// its own after an edit) stops the test with the command to run, so a test
// never runs stale output.

import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { callPort } from './api.js';
import { ADMIN_PASSWORD } from './passwords.js';
import { keepProcessOutput } from './suite-log.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Bounds to fail rather than hang, not expectations of speed: a loaded machine (three test
// files at once on two cores) can take many seconds to start a service or finish a command.
const READY_WITHIN_MS = 120_000;
const CLI_WITHIN_MS = 120_000;

/** The caller's environment without any RBAC_* variable, so nothing leaks into the CLI's settings; then `extra`. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('RBAC_')) env[name] = value;
  return { ...env, ...extra };
}

/** The installed `rbac` command, relative to REPO_ROOT: runs dist/cli/main.js. */
export const RBAC_BIN = 'bin/rbac.js';

let checkedBuild: string | undefined;

/** Why dist/ cannot stand for src/ (missing, or a source newer than its output), or undefined when it is up to date. */
export function staleBuild(): string | undefined {
  const srcRoot = path.join(REPO_ROOT, 'src');
  const distRoot = path.join(REPO_ROOT, 'dist');
  const fix = 'run `npm run build` (`npm test` does it first)';
  if (!existsSync(path.join(distRoot, 'cli', 'main.js'))) return `dist/ is not built: ${fix}`;
  const walk = (dir: string): string | undefined => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const source = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        const found = walk(source);
        if (found) return found;
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const output = path.join(distRoot, path.relative(srcRoot, source)).replace(/\.ts$/, '.js');
        if (!existsSync(output) || statSync(output).mtimeMs < statSync(source).mtimeMs) {
          return `dist/ is older than ${path.relative(REPO_ROOT, source)}: ${fix}`;
        }
      }
    }
    return undefined;
  };
  return walk(srcRoot);
}

/** Throws unless dist/ is built from the current src/ (checked once per test process). */
export function assertBuilt(): void {
  checkedBuild ??= staleBuild() ?? '';
  if (checkedBuild !== '') throw new Error(`the rbac command runs from dist/, and ${checkedBuild}`);
}

/** node's arguments to run the `rbac` command (compiled, as installed): `node <these> …`. */
export function cliArgs(args: string[]): string[] {
  assertBuilt();
  return [RBAC_BIN, ...args];
}

/** The `rbac` command as one shell command line (for scripts that take RBAC_COMMAND). */
export function cliCommandLine(): string {
  assertBuilt();
  return `${process.execPath} ${RBAC_BIN}`;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Written to stdin, which is then closed; stdin is an empty pipe (never a TTY) otherwise. */
  input?: string;
  /** Added to the clean environment. */
  env?: NodeJS.ProcessEnv;
  /** Default 30 s, after which the CLI is killed. */
  timeoutMs?: number;
}

/** Runs `rbac <args>` to its end, from the repository root. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cliArgs(args), { cwd: REPO_ROOT, env: cleanEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'], timeout: options.timeoutMs ?? CLI_WITHIN_MS });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.stdin.on('error', () => {}); // the CLI may exit without reading stdin
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
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

export interface Child {
  url: string;
  process: ChildProcess;
  /** Its stderr so far, for error messages. */
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * Runs `node --import tsx <args>` (node's own flags may lead `args`) with
 * `env` as given, and waits until GET `readyPath` on `port` answers 2xx.
 * Stdout is discarded (a service's request log then goes to /dev/null, the
 * cheapest place a log can go — what a benchmark wants).
 */
/** `ca`: the child serves HTTPS with a certificate this CA issued (for localhost); polled and named by https://localhost. */
export async function startChild(args: string[], options: { port: number; readyPath: string; env?: NodeJS.ProcessEnv; ca?: string }): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
    if (stderr.length > 100_000) stderr = stderr.slice(-50_000);
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = options.ca === undefined ? `http://127.0.0.1:${options.port}` : `https://localhost:${options.port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}: ${stderr}`);
    try {
      if (options.ca === undefined) {
        const response = await fetch(`${url}${options.readyPath}`);
        await response.arrayBuffer();
        if (response.ok) break;
      } else if ((await callPort(options.port, { path: options.readyPath, ca: options.ca, timeoutMs: 5000 })).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${args.join(' ')} did not start: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, process: child, stderr: () => stderr, stop };
}

// ---------------------------------------------------------------- the service as a child process
// `node bin/rbac.js serve --insecure-http --port <free port>
// --metrics-port 0 --data-dir <dir>` with RBAC_ADMIN_PASSWORD set and no
// other RBAC_* variable inherited. For tests that need several processes, a
// hard kill, signals, or the JSON log it writes on stdout.

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
  /** HTTPS with the certificate made on first start (bound to all interfaces), as `npm start` serves; default plain HTTP on 127.0.0.1. */
  https?: boolean;
}

export async function spawnService(options: SpawnOptions = {}): Promise<ServiceProcess> {
  const ownDataDir = options.dataDir === undefined ? mkdtempSync(path.join(tmpdir(), 'rbac-spawn-')) : undefined;
  const dataDir = options.dataDir ?? (ownDataDir as string);
  const port = await freePort();
  const args = cliArgs(['serve', ...(options.https ? [] : ['--insecure-http']), '--port', String(port), '--metrics-port', '0', '--data-dir', dataDir]);
  if (options.databaseUrl) args.push('--database-url', options.databaseUrl);
  // SIGTERM stops at once unless a test asks for a grace period (a later flag wins): no 5 s wait per stop.
  args.push('--shutdown-grace-period', '0');
  args.push(...(options.extraArgs ?? []));
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: cleanEnv({ RBAC_ADMIN_PASSWORD: ADMIN_PASSWORD, ...options.env }), stdio: ['pipe', 'pipe', 'pipe'] });

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
    url: options.https ? `https://localhost:${port}` : `http://127.0.0.1:${port}`,
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
