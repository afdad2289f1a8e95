// `rbac serve` as an operator runs it, on SQLite and PostgreSQL: it serves
// until SIGTERM, then exits 0; an RBAC_ADMIN_PASSWORD the rules refuse stops
// the first start.

import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { SQLITE_FILE } from '../../src/store/database.js';
import { callPort, loginOver } from '../kit/api.js';
import { describeEachDatabase, withWorkspace } from '../kit/databases.js';
import { ADMIN_PASSWORD } from '../kit/passwords.js';
import { runCli, spawnService } from '../kit/processes.js';
import { expectExit, openWorkspace, storeArgs } from './support.js';

describeEachDatabase('rbac serve', (target) => {
  test('serve runs the service until SIGTERM, then exits 0', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      // RBAC_ADMIN_PASSWORD is set by spawnService, and no other RBAC_* variable.
      const service = await spawnService({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl, extraArgs: ['--log-level', 'silent'] });
      try {
        assert.match(service.stderr(), /running at http:\/\/127\.0\.0\.1:\d+/);
        const status = await callPort(service.port, { path: '/status/v1/simple' });
        assert.equal(status.status, 200);
        assert.equal(status.body, 'running');
        assert.equal((await loginOver(service.port, 'admin', ADMIN_PASSWORD)).status, 200, 'RBAC_ADMIN_PASSWORD bootstrapped admin');
        assert.equal(await service.stop('SIGTERM'), 0, `exit code after SIGTERM; stderr: ${service.stderr()}`);
      } finally {
        await service.cleanup();
      }
    });
  });

  test('an RBAC_ variable that is no setting is warned about at start, naming the closest setting; the service starts', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      const service = await spawnService({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl, env: { RBAC_FAILED_ATTEMPT_LOCKOUT: '3' } });
      try {
        const warning = await service.waitForLog((line) => line.level === 40 && String(line.msg).startsWith('RBAC_FAILED_ATTEMPT_LOCKOUT'));
        assert.equal(warning.msg, 'RBAC_FAILED_ATTEMPT_LOCKOUT is not a setting and is ignored; did you mean RBAC_FAILED_ATTEMPTS_LOCKOUT?');
        assert.equal((await callPort(service.port, { path: '/status/v1/simple' })).status, 200);
      } finally {
        await service.cleanup();
      }
    });
  });

  test('an RBAC_ADMIN_PASSWORD breaking a composition rule stops the first start: exit 1, the message names RBAC_ADMIN_PASSWORD and the rule', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      const result = await runCli(['serve', '--insecure-http', '--port', '0', '--metrics-port', '0', '--numbers-required', '3', ...storeArgs(workspace)], {
        env: { RBAC_ADMIN_PASSWORD: ADMIN_PASSWORD },
      });
      expectExit(result, 1, 'serve with an RBAC_ADMIN_PASSWORD without digits');
      assert.match(result.stderr, /^rbac: RBAC_ADMIN_PASSWORD is not acceptable:\n {2}The password must contain at least 3 digits\.$/m);
      assert.doesNotMatch(result.stderr, /running at/);
      assert.ok(!result.stderr.includes(ADMIN_PASSWORD) && !result.stdout.includes(ADMIN_PASSWORD), 'the password is not echoed');
      const opened = await openWorkspace(workspace);
      try {
        assert.deepEqual(await opened.store.db.selectFrom('users').select('login').execute(), [{ login: 'api_user' }], 'no admin was created (PE\'s api_user is made by the migrations)');
      } finally {
        await opened.store.close();
      }
    });
  });

  test('a tls-cert or tls-key that cannot be read, or is no PEM, stops serve with exit 2 naming the key, before any database or admin exists', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      const notPem = path.join(workspace.dataDir, '..', `not-a-cert-${process.pid}.pem`);
      writeFileSync(notPem, 'hello\n');
      for (const [args, key] of [
        [['--tls-cert', '/nonexistent/cert.pem', '--tls-key', '/nonexistent/key.pem'], 'tls-cert'],
        [['--tls-cert', notPem, '--tls-key', notPem], 'tls-cert'],
      ] as const) {
        const result = await runCli(['serve', '--port', '0', '--metrics-port', '0', ...args, ...storeArgs(workspace)], { env: { RBAC_ADMIN_PASSWORD: ADMIN_PASSWORD } });
        expectExit(result, 2, `serve ${args.join(' ')}`);
        assert.match(result.stderr, new RegExp(`configuration key "${key}"`));
        assert.doesNotMatch(result.stderr, /superuser "admin" was created|running at/);
      }
      if (target.dialect === 'sqlite') assert.equal(existsSync(path.join(workspace.dataDir, SQLITE_FILE)), false, 'no database file was created');
      else {
        const opened = await openWorkspace(workspace);
        try {
          assert.deepEqual(await opened.store.db.selectFrom('users').select('login').execute(), [{ login: 'api_user' }], 'no admin was created (PE\'s api_user is made by the migrations)');
        } finally {
          await opened.store.close();
        }
      }
    });
  });
});
