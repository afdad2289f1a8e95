// How an operator gets the `rbac` command and stops `npm start`, exactly as
// README says: `npm run rbac -- …` in the checkout runs the package's own
// `bin` (dist/, built by `npm ci`) without rebuilding anything — other
// processes run from that dist/ at the same time — and Ctrl-C on `npm start` — SIGINT to the
// whole foreground process group, npm and the service alike — stops the
// service cleanly and npm exits 0 (the start script execs node, so no shell
// sits between npm and the service to die of the signal and make npm report 130).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { callPort } from '../kit/api.js';
import { ADMIN_PASSWORD } from '../kit/passwords.js';
import { REPO_ROOT, cleanEnv, freePort } from '../kit/processes.js';

const built = existsSync(path.join(REPO_ROOT, 'dist', 'cli', 'main.js'));
// npm ci builds dist/ (the prepare script); CI must not skip.
const skip = built || process.env.CI ? false : 'dist/ is not built: run `npm run build` (npm ci does) to test the installed command';

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

describe('the rbac command from the checkout, and npm start', { skip }, () => {
  test('npm run rbac -- --help runs the package bin from the checkout and leaves dist/ as it was', async () => {
    const compiled = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');
    const before = statSync(compiled).mtimeMs;
    const child = spawn('npm', ['run', '--silent', 'rbac', '--', '--help'], { cwd: REPO_ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const result = await finished(child);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Usage: rbac \[options\] \[command\]/);
    assert.match(result.stdout, /reset-admin-password/);
    assert.equal(statSync(compiled).mtimeMs, before, 'dist/ was not rebuilt under the processes running from it');
  });

  test('Ctrl-C on npm start (SIGINT to npm and the service) stops the service cleanly and npm exits 0', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'rbac-npm-start-'));
    const port = await freePort();
    let group: number | undefined;
    try {
      // detached: a process group of its own, as a terminal's foreground job is.
      const child = spawn('npm', ['start', '--', '--insecure-http', '--port', String(port), '--metrics-port', '0', '--data-dir', dataDir], {
        cwd: REPO_ROOT,
        env: cleanEnv({ RBAC_ADMIN_PASSWORD: ADMIN_PASSWORD }),
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      group = child.pid;
      const done = finished(child);
      await new Promise<void>((resolve, reject) => {
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          if (stderr.includes('rbac service running at')) resolve();
        });
        void done.then((result) => reject(new Error(`npm start exited before the service was ready: ${JSON.stringify(result)}`)));
      });
      assert.equal((await callPort(port, { path: '/status/v1/simple' })).body, 'running');
      process.kill(-(child.pid as number), 'SIGINT');
      const result = await done;
      assert.deepEqual({ code: result.code, signal: result.signal }, { code: 0, signal: null }, `npm's exit; stderr: ${result.stderr}`);
      assert.match(result.stdout, /"signal":"SIGINT","msg":"shutting down"/, 'the service got the signal and shut down');
      await assert.rejects(callPort(port, { path: '/status/v1/simple' }), 'nothing listens any more');
      group = undefined;
    } finally {
      // A failed test leaves no npm or service behind.
      if (group !== undefined) {
        try {
          process.kill(-group, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

function finished(child: ReturnType<typeof spawn>): Promise<Run> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
