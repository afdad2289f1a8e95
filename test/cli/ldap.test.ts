// `rbac ldap show|set|test`, driven as a subprocess on SQLite and PostgreSQL
// against a real directory (test/kit/slapd.ts) and the store of a service
// running in-process: what the commands set is what the API shows, the bind
// password comes from stdin and is never printed, and a directory user can
// then log in; the stored password is not moved without being given again,
// and a failed test tells the operator why.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { describeEachDatabase } from '../kit/databases.js';
import { freePort, runCli } from '../kit/processes.js';
import { DIRECTORY_USERS, directorySettingsFor, startSlapd, type Slapd } from '../kit/slapd.js';
import { expectExit, expectRefusal, getAsAdmin, storeArgs, withApiService } from './support.js';

let slapd: Slapd;
before(async () => {
  slapd = await startSlapd();
});
after(() => slapd?.stop());

describeEachDatabase('rbac ldap', (target) => {
  test('test before any is set fails; set (password from stdin) prints the settings without it; show and GET /v2/ldap agree; test connects; a directory user logs in', async () => {
    await withApiService(target.dialect, async (service, run) => {
      expectRefusal(await run('ldap', 'test'), 1, /No directory service is set/, 'test with none set');

      const file = path.join(service.workspace.dataDir, 'ldap.json');
      writeFileSync(
        file,
        // The lookup password comes from stdin, not the file.
        JSON.stringify(directorySettingsFor(slapd, { display_name: 'Example directory', port: slapd.tlsPort, ssl: true, start_tls: undefined, cert_chain: slapd.caPem, password: undefined })),
      );
      const set = await runCli(['ldap', 'set', file, '--bind-password-stdin', ...storeArgs(service.workspace)], { input: `${slapd.readerPassword}\n` });
      expectExit(set, 0, 'ldap set');
      assert.match(set.stdout, new RegExp(`Example directory\\s+ldaps://127\\.0\\.0\\.1:${slapd.tlsPort}`));
      assert.doesNotMatch(set.stdout + set.stderr, new RegExp(slapd.readerPassword));

      const shown = await run('ldap', 'show', '--json');
      expectExit(shown, 0, 'ldap show');
      const api = await service.request({ method: 'GET', url: '/rbac-api/v2/ldap', token: await service.adminToken() });
      assert.deepEqual(JSON.parse(shown.stdout), api.json());

      const tested = await run('ldap', 'test');
      expectExit(tested, 0, 'ldap test');
      assert.match(tested.stdout, /Example directory: connected, bound and read the base DN in \d+ ms/);

      await service.login(DIRECTORY_USERS.alice.login, DIRECTORY_USERS.alice.password);
      const alice = (await getAsAdmin<{ login: string; is_remote: boolean }[]>(service, '/users')).body.find((user) => user.login === 'alice');
      assert.equal(alice?.is_remote, true);

      // A wrong lookup password: the test fails (exit 1) naming the stage.
      const wrong = await runCli(['ldap', 'set', file, '--bind-password-stdin', ...storeArgs(service.workspace)], { input: 'not-the-secret\n' });
      expectExit(wrong, 0, 'ldap set with a wrong password');
      // In words (issue 28): the stage and the directory's result, never ldapts's `Code: 0x31`.
      const refused = await run('ldap', 'test');
      expectRefusal(refused, 1, /failed at the bind stage: the directory refused the lookup account.*invalid credentials \(49\): check the lookup account's login and password/, 'test with a wrong lookup password');
      assert.doesNotMatch(refused.stderr, /0x31|Code:/);
    });
  });

  test('set that moves the directory to another port without the password is refused and changes nothing; test at a closed port names the stage and the reason; both tests are recorded', async () => {
    await withApiService(target.dialect, async (service, run) => {
      const file = path.join(service.workspace.dataDir, 'ldap.json');
      writeFileSync(file, JSON.stringify(directorySettingsFor(slapd, { password: undefined })));
      expectExit(await runCli(['ldap', 'set', file, '--bind-password-stdin', ...storeArgs(service.workspace)], { input: `${slapd.readerPassword}\n` }), 0, 'ldap set');
      const before = (await run('ldap', 'show', '--json')).stdout;

      const closedPort = await freePort();
      writeFileSync(file, JSON.stringify(directorySettingsFor(slapd, { password: undefined, port: closedPort })));
      expectRefusal(await run('ldap', 'set', file), 1, /port.*send "password" again/, 'set to another port without the password');
      assert.equal((await run('ldap', 'show', '--json')).stdout, before);
      expectExit(await run('ldap', 'test'), 0, 'ldap test of the unchanged directory');

      // With the password given again the move is taken; the operator at the server then sees why the test fails.
      expectExit(await runCli(['ldap', 'set', file, '--bind-password-stdin', ...storeArgs(service.workspace)], { input: `${slapd.readerPassword}\n` }), 0, 'ldap set with the password');
      const failed = await run('ldap', 'test');
      expectRefusal(failed, 1, /connect stage: could not connect to the directory.*connection refused: nothing listens at that host and port.*ECONNREFUSED/, 'test at a closed port');
      assert.doesNotMatch(failed.stderr, new RegExp(slapd.readerPassword));

      const events = await service.store.db.selectFrom('audit_events').select(['actor_login', 'source_address', 'details']).where('type', '=', 'directory-tested').orderBy('id').execute();
      assert.deepEqual(
        events.map((event) => ({ actor: event.actor_login, source: event.source_address, ...(JSON.parse(event.details) as { port: number; outcome: string; stage: string | null }) })).map(({ actor, source, port, outcome, stage }) => ({ actor, source, port, outcome, stage })),
        [
          { actor: null, source: 'cli', port: slapd.port, outcome: 'succeeded', stage: null },
          { actor: null, source: 'cli', port: closedPort, outcome: 'failed', stage: 'connect' },
        ],
      );
    });
  });

  test('a settings file that is not JSON, breaks a rule or has an unknown key is a usage error (exit 2) naming the problem, and sets nothing', async () => {
    await withApiService(target.dialect, async (service, run) => {
      const file = path.join(service.workspace.dataDir, 'bad.json');
      writeFileSync(file, '{ not json');
      expectRefusal(await run('ldap', 'set', file), 2, /not a readable JSON file/, 'not JSON');
      writeFileSync(file, JSON.stringify({ display_name: 'x', hostname: 'h', port: 99999 }));
      expectRefusal(await run('ldap', 'set', file), 2, /port|required/, 'out of range');
      // A misspelt key is named, with the key it is closest to (issue 28).
      writeFileSync(file, JSON.stringify({ ...directorySettingsFor(slapd), prot: 389 }));
      const misspelt = await run('ldap', 'set', file);
      expectRefusal(misspelt, 2, /unknown key 'prot' \(did you mean 'port'\?\)/, 'an unknown key');
      assert.doesNotMatch(misspelt.stderr, /schema is false/);
      assert.deepEqual((await service.request({ method: 'GET', url: '/rbac-api/v2/ldap', token: await service.adminToken() })).json(), []);
    });
  });
});
