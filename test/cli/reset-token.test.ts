// `rbac reset-token <login>`: the token it prints works through POST
// /rbac-api/v1/auth/reset of a running service, on SQLite and PostgreSQL.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { decodeJwt } from 'jose';
import { startService, type RunningService } from '../../src/server.js';
import { createUser } from '../../src/users/users.js';
import { callPort, loginOver } from '../kit/api.js';
import { describeEachDatabase, insertUser, withWorkspace } from '../kit/databases.js';
import { ADMIN_PASSWORD, USER_PASSWORD } from '../kit/passwords.js';
import { runCli } from '../kit/processes.js';
import { configFor, expectExit, hasher, openWorkspace, silent, storeArgs } from './support.js';

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

  test('reset-token --url builds the link from the settings the service reads: config file host and port, RBAC_ variables, public-url first', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      const opened = await openWorkspace(workspace);
      try {
        await insertUser(opened.store.db, 'alice');
      } finally {
        await opened.store.close();
      }
      const configFile = path.join(workspace.dataDir, 'rbac.yaml');
      writeFileSync(configFile, 'rbac:\n  host: 192.0.2.10\n  port: 8443\n');
      const link = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
        const result = await runCli(['reset-token', 'alice', '--url', ...args, ...storeArgs(workspace)], { env });
        expectExit(result, 0, `reset-token --url ${args.join(' ')}`);
        const url = new URL(result.stdout.trim());
        assert.ok(url.searchParams.get('token'), 'the link carries the token');
        return `${url.origin}${url.pathname}`;
      };
      assert.equal(await link(['--config', configFile]), 'https://192.0.2.10:8443/auth/reset', "the config file's host and port");
      assert.equal(await link([], { RBAC_CONFIG: configFile }), 'https://192.0.2.10:8443/auth/reset', 'RBAC_CONFIG names the same file');
      assert.equal(await link([], { RBAC_PORT: '9443', RBAC_INSECURE_HTTP: 'true' }), 'http://127.0.0.1:9443/auth/reset', 'RBAC_ variables: plain HTTP binds loopback');
      assert.equal(await link(['--config', configFile], { RBAC_PUBLIC_URL: 'https://rbac.example.com/' }), 'https://rbac.example.com/auth/reset', 'public-url wins');
      assert.equal(await link([]), 'https://localhost:4433/auth/reset', 'nothing set: the defaults, as the service announces them');
    });
  });
});

test('reset-token --help describes --host, --port and --public-url as what they are there: the link\'s address', async () => {
  const help = await runCli(['reset-token', '--help']);
  expectExit(help, 0, 'reset-token --help');
  const text = help.stdout.replace(/\s+/g, ' '); // commander wraps long lines
  assert.match(text, /--port <value> the service's port setting: the link's port without public-url/);
  assert.match(text, /--host <value> the service's host setting: the link's host without public-url/);
  assert.match(text, /--public-url <value> base URL users reach the service at: the reset link's address/);
  assert.doesNotMatch(text, /TCP port to listen on/);
});
