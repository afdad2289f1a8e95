// `rbac allowlist add|remove|list` (CONTRACT §12): edits the file that
// certificate-allowlist names — from the flag, RBAC_CERTIFICATE_ALLOWLIST or
// --config, as the service reads it — keeping comments and other lines, and
// replacing the file in one rename. No database is involved.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { expectExit } from './support.js';
import { runCli } from '../kit/processes.js';

const dir = mkdtempSync(path.join(tmpdir(), 'rbac-allowlist-'));
after(() => rmSync(dir, { recursive: true, force: true }));
// The service's settings come in pairs (client-ca with certificate-allowlist); the command reads only the allowlist's.
const CA = ['--client-ca', path.join(dir, 'ca.pem')];

describe('rbac allowlist', () => {
  test('add, list and remove edit the file named by --certificate-allowlist; comments and other names stay; a repeat changes nothing', async () => {
    const file = path.join(dir, 'allowlist');
    writeFileSync(file, '# PE services\nconsole.example.com   # the console\n');
    const flag = ['--certificate-allowlist', file, ...CA];

    expectExit(await runCli(['allowlist', 'add', 'Node1.Example.com', ...flag]), 0, 'add');
    assert.equal(readFileSync(file, 'utf8'), '# PE services\nconsole.example.com   # the console\nnode1.example.com\n');
    const again = await runCli(['allowlist', 'add', 'node1.example.com', ...flag]);
    expectExit(again, 0, 'add again');
    assert.match(again.stderr, /already on/);

    const listed = await runCli(['allowlist', 'list', ...flag]);
    expectExit(listed, 0, 'list');
    assert.equal(listed.stdout, 'console.example.com\nnode1.example.com\n');

    expectExit(await runCli(['allowlist', 'remove', 'console.example.com', ...flag]), 0, 'remove');
    assert.equal(readFileSync(file, 'utf8'), '# PE services\nnode1.example.com\n');
    const missing = await runCli(['allowlist', 'remove', 'nobody.example.com', ...flag]);
    expectExit(missing, 0, 'remove a name not on it');
    assert.match(missing.stderr, /was not on/);
    assert.deepEqual(readdirSync(dir).filter((name) => name.includes('.tmp')), [], 'no temporary file left');
  });

  test('the file comes from RBAC_CERTIFICATE_ALLOWLIST or --config too, and is created by the first add', async () => {
    const fromEnv = path.join(dir, 'from-env');
    expectExit(await runCli(['allowlist', 'add', 'node2.example.com'], { env: { RBAC_CERTIFICATE_ALLOWLIST: fromEnv, RBAC_CLIENT_CA: 'ca.pem' } }), 0, 'add by variable');
    assert.equal(readFileSync(fromEnv, 'utf8'), 'node2.example.com\n');

    const fromFile = path.join(dir, 'from-config');
    const config = path.join(dir, 'rbac.yaml');
    writeFileSync(config, `rbac:\n  client-ca: ca.pem\n  certificate-allowlist: ${fromFile}\n`);
    expectExit(await runCli(['allowlist', 'add', 'node3.example.com', '--config', config]), 0, 'add by config file');
    const listed = await runCli(['allowlist', 'list', '--config', config]);
    assert.equal(listed.stdout, 'node3.example.com\n');
  });

  test('without certificate-allowlist, or with something that is no certname, it is a usage error (exit 2) and nothing is written', async () => {
    const unset = await runCli(['allowlist', 'add', 'node1.example.com']);
    expectExit(unset, 2, 'no setting');
    assert.match(unset.stderr, /certificate-allowlist is not set/);

    const file = path.join(dir, 'untouched');
    writeFileSync(file, 'node1.example.com\n');
    for (const bad of ['two words', 'node#1', '']) {
      const refused = await runCli(['allowlist', 'add', bad, '--certificate-allowlist', file, ...CA]);
      expectExit(refused, 2, `certname ${JSON.stringify(bad)}`);
    }
    assert.equal(readFileSync(file, 'utf8'), 'node1.example.com\n');
  });
});
