// `rbac reset-token <login>`: the token it prints works through POST
// /rbac-api/v1/auth/reset of a running service, on SQLite and PostgreSQL.

import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { decodeJwt } from 'jose';
import { startService, type RunningService } from '../../src/server.js';
import { createUser } from '../../src/users/users.js';
import { callPort, loginOver } from '../kit/api.js';
import { describeEachDatabase, withWorkspace } from '../kit/databases.js';
import { ADMIN_PASSWORD, USER_PASSWORD } from '../kit/passwords.js';
import { runCli } from '../kit/processes.js';
import { configFor, expectExit, hasher, silent, storeArgs } from './support.js';

const portOf = (service: RunningService) => (service.app.server.address() as AddressInfo).port;

describeEachDatabase('rbac reset-token', (target) => {
  test('reset-token goes through POST /rbac-api/v1/auth/reset of a running service', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      const service = await startService(configFor(workspace), { adminPassword: ADMIN_PASSWORD, logger: silent, announce: () => {} });
      try {
        const port = portOf(service);
        const frank = await createUser(
          { db: service.store.db, hasher: await hasher(), config: configFor(workspace) },
          null,
          { login: 'frank', password: USER_PASSWORD },
          { actor: null, sourceAddress: null },
        );
        const issued = await runCli(['reset-token', 'frank', ...storeArgs(workspace)]);
        expectExit(issued, 0, 'reset-token frank');
        const token = issued.stdout.trim();
        assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'only the JWT on stdout');
        assert.equal(decodeJwt(token).sub, frank.id, "the token is frank's");
        const events = await service.store.db.selectFrom('audit_events').select(['subject_id', 'actor_id', 'source_address']).where('type', '=', 'reset-token-issued').execute();
        assert.deepEqual(events, [{ subject_id: frank.id, actor_id: null, source_address: 'cli' }]);
        const newPassword = 'a renewed secret passphrase';
        const reset = await callPort(port, { method: 'POST', path: '/rbac-api/v1/auth/reset', json: { token, password: newPassword } });
        assert.equal(reset.status, 200, reset.body);
        assert.equal((await loginOver(port, 'frank', newPassword)).status, 200);
        assert.equal((await loginOver(port, 'frank', USER_PASSWORD)).status, 401);
        const again = await callPort(port, { method: 'POST', path: '/rbac-api/v1/auth/reset', json: { token, password: 'another new passphrase' } });
        assert.equal(again.status, 403, 'the token is single-use');
      } finally {
        await service.close();
      }
    });
  });
});
