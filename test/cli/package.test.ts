// The packaged install docs/install.md gives for a server: `npm pack` makes a tarball
// with dist/ in it, `npm install -g ./rbac-password-service-*.tgz` installs
// the `rbac` command, and that command serves and knows its version — from a
// temporary prefix, outside the checkout, with nothing of the checkout's
// node_modules in reach.
//
// `npm pack --ignore-scripts`: the prepare script would rebuild dist/ in the
// checkout under the processes other test files run from it (`npm test`
// builds it before the suite). Offline, better-sqlite3's install script would
// compile it from source (a server with the internet downloads a prebuilt
// binary instead): minutes of CPU that prove nothing about this package. The
// install runs with --ignore-scripts and is given the binary the checkout's
// `npm ci` compiled on this machine when it is the same better-sqlite3
// version; another version is compiled by `npm rebuild` as the install would.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { callPort } from '../kit/api.js';
import { ADMIN_PASSWORD } from '../kit/passwords.js';
import { REPO_ROOT, assertBuilt, cleanEnv, freePort } from '../kit/processes.js';
import { keepProcessOutput } from '../kit/suite-log.js';

const VERSION = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const INSTALL_WITHIN_MS = 25 * 60_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], timeout: options.timeoutMs ?? 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** better-sqlite3's native addon in the installed package: the checkout's build when the versions match, else compiled there. */
async function giveNativeAddon(installedRoot: string): Promise<void> {
  const versionOf = (root: string) => (JSON.parse(readFileSync(path.join(root, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')) as { version: string }).version;
  const addon = path.join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  if (versionOf(installedRoot) === versionOf(REPO_ROOT)) {
    mkdirSync(path.dirname(path.join(installedRoot, addon)), { recursive: true });
    copyFileSync(path.join(REPO_ROOT, addon), path.join(installedRoot, addon));
    return;
  }
  const rebuilt = await run('npm', ['rebuild', 'better-sqlite3'], { cwd: installedRoot, env: cleanEnv(), timeoutMs: INSTALL_WITHIN_MS });
  assert.equal(rebuilt.code, 0, `npm rebuild better-sqlite3 failed:\n${rebuilt.stderr}`);
}

describe('the packaged install: npm pack, npm install -g, rbac serve', { timeout: INSTALL_WITHIN_MS + 120_000 }, () => {
  const workDir = mkdtempSync(path.join(tmpdir(), 'rbac-package-'));
  const prefix = path.join(workDir, 'prefix');
  // The installed command's environment: the prefix's bin and node, no RBAC_* variable, nothing of the checkout.
  const installedEnv = (extra: NodeJS.ProcessEnv = {}) =>
    cleanEnv({ PATH: [path.join(prefix, 'bin'), path.dirname(process.execPath), '/usr/bin', '/bin'].join(path.delimiter), NODE_PATH: '', ...extra });
  let tarball = '';
  let files: string[] = [];

  before(async () => {
    assertBuilt();
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', workDir], { cwd: REPO_ROOT, env: cleanEnv() });
    assert.equal(packed.code, 0, packed.stderr);
    const [summary] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    tarball = path.join(workDir, (summary as { filename: string }).filename);
    files = (summary as { files: { path: string }[] }).files.map((file) => file.path);
    // --prefer-offline: the packages come from the cache npm ci filled; the registry only for what it lacks.
    const installed = await run('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], {
      cwd: workDir,
      env: cleanEnv(),
      timeoutMs: INSTALL_WITHIN_MS,
    });
    assert.equal(installed.code, 0, `npm install -g failed:\n${installed.stderr}`);
    await giveNativeAddon(path.join(prefix, 'lib', 'node_modules', 'rbac-password-service'));
  });

  after(() => rmSync(workDir, { recursive: true, force: true }));

  test('the tarball holds what serve needs (dist, bin, web, package.json, README) and no tests or sources', () => {
    assert.match(path.basename(tarball), new RegExp(`^rbac-password-service-${VERSION.replaceAll('.', '\\.')}\\.tgz$`));
    assert.ok(files.includes('package.json'));
    assert.ok(files.includes('bin/rbac.js'));
    assert.ok(files.includes('dist/cli/main.js'));
    assert.ok(files.includes('dist/passwords/hash-worker.js'), 'the hashing worker is a file of its own');
    assert.ok(files.includes('web/reset/index.html'));
    assert.ok(files.includes('web/landing/index.html'));
    const outside = files.filter((file) => !/^(dist|bin|web)\//.test(file) && file !== 'package.json' && file !== 'README.md');
    assert.deepEqual(outside, [], 'nothing but dist/, bin/, web/, package.json and README.md');
  });

  test('rbac --version prints the package version', async () => {
    const result = await run('rbac', ['--version'], { cwd: workDir, env: installedEnv() });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${VERSION}\n`);
  });

  test('the installed rbac serve answers /status/v1/simple, outside the checkout, and stops on SIGTERM', async () => {
    const dataDir = path.join(workDir, 'data');
    const port = await freePort();
    // The installed files are the tarball's and the dependencies npm installed beside them, not the checkout's.
    const installedRoot = path.join(prefix, 'lib', 'node_modules', 'rbac-password-service');
    assert.ok(readdirSync(path.join(installedRoot, 'node_modules')).includes('better-sqlite3'));
    const child = spawn('rbac', ['serve', '--insecure-http', '--port', String(port), '--metrics-port', '0', '--shutdown-grace-period', '0', '--data-dir', dataDir], {
      cwd: workDir,
      env: installedEnv({ RBAC_ADMIN_PASSWORD: ADMIN_PASSWORD }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          if (stderr.includes('rbac service running at')) resolve();
        });
        void exited.then((code) => reject(new Error(`rbac serve exited (${code}) before it was ready: ${stderr}`)));
      });
      const status = await callPort(port, { path: '/status/v1/simple' });
      assert.deepEqual({ status: status.status, body: status.body }, { status: 200, body: 'running' });
      child.kill('SIGTERM');
      assert.equal(await exited, 0, 'a clean stop');
      assert.match(output, /"msg":"rbac service listening"/);
    } finally {
      child.kill('SIGKILL');
      keepProcessOutput(`package-${port}`, output);
    }
  });
});
