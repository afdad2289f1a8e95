// docs/operations.md's recipe for several instances, run for real:
// scripts/two-instances.sh starts two `rbac serve` processes on one
// PostgreSQL database (a throwaway schema) behind HAProxy from the Debian
// package, and checks a login through the balancer, that its requests reach
// both instances, that a token issued by one instance works on the other,
// that logging out revokes it on both, that the instances believe only the
// balancer's X-Forwarded-* (trusted-proxies), and that the rate limits hold
// for the pair (counted in the database, not once per instance). CI installs haproxy (.ci/run);
// elsewhere the test is skipped, saying so, when it is missing.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { POSTGRES, withWorkspace } from '../kit/databases.js';
import { ADMIN_PASSWORD } from '../kit/passwords.js';
import { REPO_ROOT, cleanEnv, cliCommandLine } from '../kit/processes.js';
import { keepProcessOutput } from '../kit/suite-log.js';

const missing = ['haproxy', 'curl', 'jq', 'openssl'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
const skip =
  POSTGRES.skip ||
  (missing.length > 0 && !process.env.CI
    ? `*** two instances behind HAProxy SKIPPED: ${missing.join(', ')} not installed (apt-get install ${missing.join(' ')}; CI installs them) ***`
    : false);
if (typeof skip === 'string' && missing.length > 0) process.stderr.write(`\n${skip}\n\n`);

describe('scripts/two-instances.sh: two instances on one PostgreSQL behind HAProxy', { skip }, () => {
  test('a login through the balancer, a token from one instance on the other, logout on both, forwarded addresses from the balancer only, rate limits held by the pair', { timeout: 180_000 }, async () => {
    await withWorkspace('postgres', async (workspace) => {
      const result = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
        const child = spawn('scripts/two-instances.sh', [workspace.databaseUrl as string], {
          cwd: REPO_ROOT,
          env: cleanEnv({ RBAC_COMMAND: cliCommandLine(), ADMIN_PASSWORD }),
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, output }));
      });
      keepProcessOutput('two-instances', result.output);
      assert.equal(result.code, 0, result.output);
      for (const check of [
        'ok: login through the balancer',
        "ok: the balancer's token works on both instances (answered by: ",
        'ok: a token issued by instance a works on instance b',
        'ok: reset links name the balancer: https://localhost:',
        "ok: the audit trail has the client's address from the balancer's X-Forwarded-For (127.0.0.1)",
        'ok: logging out through the balancer revokes the token on both instances',
        'ok: the rate limits hold for the pair: the sixth attempt is 429 (answered by: ',
        'two-instances: all checks passed',
      ]) {
        assert.ok(result.output.includes(check), `the script reports "${check}":\n${result.output}`);
      }
      assert.ok(!result.output.includes(ADMIN_PASSWORD), 'the admin password is not printed');
    });
  });
});
