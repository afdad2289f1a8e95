// `rbac serve` as an operator runs it, on SQLite and PostgreSQL: it serves
// until SIGTERM, then exits 0.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callPort, loginOver } from '../kit/api.js';
import { describeEachDatabase, withWorkspace } from '../kit/databases.js';
import { ADMIN_PASSWORD } from '../kit/passwords.js';
import { spawnService } from '../kit/processes.js';

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
});
