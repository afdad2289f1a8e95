// The real service as a child process: `rbac serve` on plain HTTP on a free
// loopback port, for tests that need several processes or a hard kill.

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { ADMIN_PASSWORD } from './service.js';
import { keepProcessOutput } from './suite-log.js';

export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote, for diagnostics and secret checks. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
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

export async function spawnService(options: { dataDir: string; databaseUrl?: string | undefined; extraArgs?: string[]; env?: Record<string, string> }): Promise<ServiceProcess> {
  const port = await freePort();
  const args = ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--insecure-http', '--port', String(port), '--metrics-port', '0', '--data-dir', options.dataDir];
  if (options.databaseUrl) args.push('--database-url', options.databaseUrl);
  args.push(...(options.extraArgs ?? []));
  const child = spawn(process.execPath, args, {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { ...process.env, RBAC_ADMIN_PASSWORD: ADMIN_PASSWORD, RBAC_LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}: ${output}`);
    try {
      const response = await fetch(`${url}/status/v1/simple`);
      if ((await response.text()) === 'running') break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`service did not start: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    url,
    child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const code = await exited;
      keepProcessOutput(String(port), output);
      return code;
    },
  };
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
