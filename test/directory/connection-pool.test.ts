// Directory logins reuse their connections (src/directory/connection-pool.ts)
// and spend a decoy hash only when they fail: against a real slapd, on
// SQLite and PostgreSQL. Connections are counted by the pool's counter, the
// one rbac_directory_connections_opened_total reports; hashes by the test
// kit's counting hasher.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { directoryConnectionsOpened, idleDirectoryConnections } from '../../src/directory/connection-pool.js';
import { ServiceMetrics } from '../../src/metrics/metrics.js';
import { describeEachDatabase } from '../kit/databases.js';
import { DIRECTORY_USERS, directorySettingsFor, startSlapd, type Slapd } from '../kit/slapd.js';
import { startTestService, type TestService } from '../kit/service.js';

const { bob, alice } = DIRECTORY_USERS;

let slapd: Slapd;
before(async () => {
  slapd = await startSlapd();
});
after(() => slapd?.stop());

describeEachDatabase('directory logins reuse connections and spend no decoy on success', (target) => {
  let service: TestService;
  let admin: string;
  let directoryId: string;
  before(async () => {
    service = await startTestService(target.dialect);
    admin = await service.adminToken();
    const created = await service.request({ method: 'POST', url: '/rbac-api/v1/command/ldap/create', token: admin, payload: directorySettingsFor(slapd) });
    assert.equal(created.statusCode, 200, created.body);
    directoryId = (created.json() as { id: string }).id;
  });
  after(() => service?.close());

  const logIn = (login: string, password: string) => service.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: { login, password } });
  const decoys = () => service.hasher.counts.verifyDummy;

  test('one connection serves successive logins, wrong passwords and unknown logins included; only the failures spend a decoy hash', async () => {
    const opened = directoryConnectionsOpened();
    let spent = decoys();
    for (let i = 0; i < 3; i++) assert.equal((await logIn(bob.login, bob.password)).statusCode, 200);
    assert.equal(decoys() - spent, 0, 'a successful directory login spends no decoy hash');
    assert.equal(directoryConnectionsOpened() - opened, 1, 'three logins, one connection');
    assert.equal(idleDirectoryConnections() >= 1, true, 'kept for the next login');

    spent = decoys();
    assert.equal((await logIn(bob.login, 'not-bobs-password')).statusCode, 401);
    assert.equal(decoys() - spent, 1, 'a wrong directory password spends one decoy hash');
    spent = decoys();
    assert.equal((await logIn('nobody-in-the-directory', 'whatever-password')).statusCode, 401);
    assert.equal(decoys() - spent, 1, 'an unknown login spends one decoy hash');

    // After a wrong password the connection binds as the lookup account again and serves the next login.
    spent = decoys();
    assert.equal((await logIn(alice.login, alice.password)).statusCode, 200);
    assert.equal((await logIn(bob.login, bob.password)).statusCode, 200);
    assert.equal(decoys() - spent, 0);
    assert.equal(directoryConnectionsOpened() - opened, 1, 'still the one connection');

    const metrics = new ServiceMetrics({ processMetrics: false });
    const text = await metrics.registry.metrics();
    assert.match(text, new RegExp(`^rbac_directory_connections_opened_total ${directoryConnectionsOpened()}$`, 'm'));
  });

  test('logins at once open a connection each; changed settings never get a connection opened with the old ones', async () => {
    const opened = directoryConnectionsOpened();
    const answers = await Promise.all([bob, alice, bob].map((user) => logIn(user.login, user.password)));
    assert.deepEqual(
      answers.map((answer) => answer.statusCode),
      [200, 200, 200],
    );
    assert.ok(directoryConnectionsOpened() - opened <= 2, 'the idle connection serves one of them');

    const updated = await service.request({
      method: 'POST',
      url: '/rbac-api/v1/command/ldap/update',
      token: admin,
      payload: { ...directorySettingsFor(slapd, { start_tls: true, cert_chain: slapd.caPem, ssl_hostname_validation: false }), id: directoryId },
    });
    assert.equal(updated.statusCode, 200, updated.body);
    const beforeStartTls = directoryConnectionsOpened();
    for (let i = 0; i < 3; i++) assert.equal((await logIn(bob.login, bob.password)).statusCode, 200);
    assert.equal(directoryConnectionsOpened() - beforeStartTls, 1, 'a new connection for the new settings (StartTLS), then reused');
  });
});

