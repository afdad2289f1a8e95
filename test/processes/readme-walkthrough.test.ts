// README's "Walk-through with curl" (and its "Password flows"), run as an
// operator runs it: every ```sh block of that section, in order, in `bash -e`
// from the directory holding `data/`, against `rbac serve` over HTTPS with
// the certificate of its first start. Only the port (a free one for
// localhost:4433) and the printed admin password are filled in. Every
// `# → …` comment is an answer the commands must really print, in that
// order. A wrong admin password must stop the walk-through at the login, with
// the service's message shown and no request sent with a bad token.
// Needs bash, curl and jq (CI installs jq).

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { callPort } from '../kit/api.js';
import { describeEachDatabase, withWorkspace } from '../kit/databases.js';
import { ADMIN_PASSWORD } from '../kit/passwords.js';
import { REPO_ROOT, cleanEnv, spawnService } from '../kit/processes.js';

const README = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
const PASSWORD_PLACEHOLDER = '<the password npm start printed>';

/** The ```sh blocks of the section under `heading`, up to the next heading of the same level. */
export function shellBlocks(markdown: string, heading: string): string[] {
  const start = markdown.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `README has the heading "${heading}"`);
  const level = heading.split(' ')[0] as string;
  const next = markdown.indexOf(`\n${level} `, start + heading.length + 2);
  const section = markdown.slice(start, next === -1 ? undefined : next);
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1] as string);
}

/** Every answer a `# → …` comment promises, in order. */
const promisedAnswers = (script: string) => [...script.matchAll(/# → (.+)$/gm)].map((match) => (match[1] as string).trim());

const tools = ['bash', 'curl', 'jq'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
// CI installs them (.ci/run); elsewhere a missing tool skips with its name.
const skip = tools.length === 0 || process.env.CI ? false : `needs ${tools.join(', ')} (apt-get install ${tools.join(' ')})`;

function runBash(script: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-e'], { cwd, env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(script);
  });
}

describeEachDatabase("README's walk-through with curl and jq", (target) => {
  const script = shellBlocks(README, '## Walk-through with curl').join('\n');

  test('the section has the walk-through and the password flows, and promises answers', () => {
    assert.equal(shellBlocks(README, '## Walk-through with curl').length, 2);
    assert.ok(script.includes(PASSWORD_PLACEHOLDER) && script.includes('localhost:4433'), 'the placeholders the test fills in');
    assert.ok(promisedAnswers(script).length >= 6, `answers promised: ${promisedAnswers(script).join(' | ')}`);
    assert.doesNotMatch(script, /role_ids": \[\d/, 'no role id is assumed');
  });

  test('runs to the end in bash -e, printing every promised answer in order', { skip }, async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      // The checkout as README assumes it: data/ in the current directory.
      const dataDir = path.join(workspace.dataDir, 'data');
      mkdirSync(dataDir);
      const service = await spawnService({ dataDir, databaseUrl: workspace.databaseUrl, https: true, extraArgs: ['--log-level', 'warn'] });
      try {
        const filled = script.replaceAll('localhost:4433', `localhost:${service.port}`).replaceAll(PASSWORD_PLACEHOLDER, ADMIN_PASSWORD);
        const result = await runBash(filled, workspace.dataDir);
        assert.equal(result.code, 0, `bash -e stopped; stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
        let from = 0;
        for (const answer of promisedAnswers(script)) {
          const at = result.stdout.indexOf(answer, from);
          assert.ok(at >= 0, `the walk-through promises "${answer}" (after what came before); it printed:\n${result.stdout}`);
          from = at + answer.length;
        }
        assert.equal(result.stdout.match(/\{"kind":"user-unauthenticated"\}/g)?.length, 10, 'ten refused logins before the lockout');
        assert.ok(!result.stdout.includes(ADMIN_PASSWORD) && !result.stderr.includes(ADMIN_PASSWORD), 'the password is not printed');
      } finally {
        await service.stop('SIGTERM');
        await service.cleanup();
      }
    });
  });

  test('a refused login stops it at the login, shows why, and sends nothing with a bad token', { skip }, async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      const dataDir = path.join(workspace.dataDir, 'data');
      mkdirSync(dataDir);
      const service = await spawnService({ dataDir, databaseUrl: workspace.databaseUrl, https: true });
      try {
        const filled = script.replaceAll('localhost:4433', `localhost:${service.port}`).replaceAll(PASSWORD_PLACEHOLDER, 'not the admin password');
        const result = await runBash(filled, workspace.dataDir);
        assert.notEqual(result.code, 0, 'bash -e stops');
        assert.equal(result.stdout, 'running\n', 'nothing after the status check ran');
        assert.match(result.stderr, /jq: error[^\n]*The login or password is incorrect|jq: error[^\n]*password/i, `the service's message is shown: ${result.stderr}`);
        // A last request of our own: once its log line is there, so are those of every request the script made.
        const ca = readFileSync(path.join(dataDir, 'tls', 'cert.pem'), 'utf8');
        assert.equal((await callPort(service.port, { path: '/status/v1/simple?after-the-walk-through', ca })).status, 200);
        await service.waitForLog((line) => String(line.req?.url).endsWith('?after-the-walk-through'));
        const urls = service.log.map((line) => line.req?.url).filter((url): url is string => url !== undefined && !url.endsWith('?after-the-walk-through'));
        assert.ok(urls.includes('/rbac-api/v1/auth/token'), `the login was logged: ${urls.join(', ')}`);
        assert.deepEqual(urls.filter((url) => !['/status/v1/simple', '/rbac-api/v1/auth/token'].includes(url)), [], 'no request after the failed login');
      } finally {
        await service.stop('SIGTERM');
        await service.cleanup();
      }
    });
  });
});
