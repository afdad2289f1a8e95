// `rbac import` and `rbac export` as an operator runs them (CONTRACT §16), on
// SQLite and PostgreSQL targets: --from-pe over HTTPS trusting the stand-in's
// self-signed certificate with --ca, the reset links as CSV in a file of
// mode 0600, a progress line on stderr; export → import into a fresh
// instance gives equal data, never a hash, token or bind password; --dry-run
// writes nothing; a permission type this service does not know is refused,
// and added to the permission-types file with --allow-unknown-types.

import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { openStore } from '../../src/store/database.js';
import type { PortableDocument } from '../../src/transfer/document.js';
import { describeEachDatabase, freshWorkspace, type Workspace } from '../kit/databases.js';
import { BIND_PASSWORD, startPeStandIn, type PeStandIn } from '../kit/pe-stand-in.js';
import { runCli, type CliResult } from '../kit/processes.js';

const at = (workspace: Workspace) => ['--data-dir', workspace.dataDir, ...(workspace.databaseUrl ? ['--database-url', workspace.databaseUrl] : [])];
const succeeded = (result: CliResult) => assert.equal(result.code, 0, `exit ${result.code}: ${result.stderr}`);

/** Every key in a JSON value, at any depth. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([key, inner]) => [key, ...keysOf(inner)]);
  return [];
}

/** A document with what an import changes, and not when or from where it was read. */
function comparable(document: PortableDocument) {
  return {
    users: document.users.filter((user) => user.login !== 'admin').map(({ last_login: _lastLogin, ...user }) => user),
    roles: document.roles,
    groups: document.groups,
    directories: document.directories,
    disclaimer: document.disclaimer,
  };
}

describeEachDatabase('rbac import and rbac export', (target) => {
  let pe: PeStandIn;
  const workspaces: Workspace[] = [];
  const workspace = async () => {
    const made = await freshWorkspace(target.dialect);
    workspaces.push(made);
    return made;
  };
  before(async () => {
    pe = await startPeStandIn();
  });
  after(async () => {
    for (const made of workspaces) await made.cleanup();
    await pe?.close();
  });

  test('rbac import --from-pe over HTTPS with --ca writes the reset links as CSV (login,email,reset_url) in a file of mode 0600, with a progress line on stderr; export → import into a fresh instance gives equal data', async () => {
    const first = await workspace();
    const links = path.join(first.dataDir, 'links.csv');
    // A file that was readable by others before is made 0600 too.
    writeFileSync(links, 'old', { mode: 0o644 });
    const imported = await runCli(['import', '--from-pe', pe.url, '--token', pe.token, '--ca', pe.certPath, '--reset-links', links, '--public-url', 'https://rbac.example.test', ...at(first)]);
    succeeded(imported);
    assert.match(imported.stderr, /rbac import: reading users from https:\/\/localhost:\d+/);
    assert.match(imported.stdout, /create role \d+ "Helpdesk"/);
    assert.match(imported.stdout, /built-in users matched by login and left as they are: admin/);
    assert.equal(statSync(links).mode & 0o777, 0o600);
    const rows = readFileSync(links, 'utf8').trim().split('\n');
    assert.equal(rows[0], 'login,email,reset_url');
    assert.equal(rows.length, 2, 'one local, active user: alice');
    assert.match(rows[1] ?? '', /^alice,alice@example\.test,https:\/\/rbac\.example\.test\/.*\?token=[\w.-]+$/);

    // A second run: nothing to change, no new link.
    const again = await runCli(['import', '--from-pe', pe.url, '--token', pe.token, '--ca', pe.certPath, '--reset-links', links, ...at(first)]);
    succeeded(again);
    assert.match(again.stdout, /nothing to change, \d+ objects already equal; 0 reset links issued/);

    const out = path.join(first.dataDir, 'export.json');
    succeeded(await runCli(['export', '--out', out, ...at(first)]));
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const exportedText = readFileSync(out, 'utf8');
    assert.doesNotMatch(exportedText, /\$argon2/, 'no password hash');
    assert.ok(!exportedText.includes(BIND_PASSWORD), 'no bind password');
    const exported = JSON.parse(exportedText) as PortableDocument;
    assert.deepEqual(keysOf(exported).filter((key) => /password|token|hash|secret/i.test(key)), [], 'no key that could hold a secret');
    assert.equal(exported.format_version, 1);

    const second = await workspace();
    const secondLinks = path.join(second.dataDir, 'links.csv');
    succeeded(await runCli(['import', out, '--reset-links', secondLinks, ...at(second)]));
    const reexported = await runCli(['export', ...at(second)]);
    succeeded(reexported);
    assert.deepEqual(comparable(JSON.parse(reexported.stdout) as PortableDocument), comparable(exported));
  });

  test('rbac import --dry-run reports what it would change and writes nothing', async () => {
    const fresh = await workspace();
    const links = path.join(fresh.dataDir, 'links.csv');
    const dry = await runCli(['import', '--from-pe', pe.url, '--token', pe.token, '--ca', pe.certPath, '--dry-run', '--reset-links', links, ...at(fresh)]);
    succeeded(dry);
    assert.match(dry.stdout, /would create local user "alice"/);
    assert.match(dry.stdout, /dry run: \d+ changes would be made/);
    assert.throws(() => statSync(links), /ENOENT/, 'no links file');
    const store = openStore({ dataDir: fresh.dataDir, databaseUrl: fresh.databaseUrl });
    try {
      assert.deepEqual(await store.db.selectFrom('users').select('login').execute(), [{ login: 'api_user' }], "no user written (PE's api_user is the migrations')");
      assert.equal((await store.db.selectFrom('audit_events').select('id').where('type', '=', 'imported').execute()).length, 0);
    } finally {
      await store.close();
    }
  });

  test('a permission type this service does not know is refused by name, nothing written (an earlier reset-links file kept as it was); with --allow-unknown-types the role is imported and the type added to the permission-types file', async () => {
    const fresh = await workspace();
    const file = path.join(fresh.dataDir, 'document.json');
    const document: PortableDocument = {
      format_version: 1,
      source: 'https://pe.example.test:4433',
      exported_at: new Date().toISOString(),
      users: [],
      roles: [{ id: 40, display_name: 'Widget makers', description: '', permissions: [{ object_type: 'acme_widgets', action: 'frob', instance: 'widget-7' }, { object_type: 'users', action: 'edit', instance: '*' }] }],
      groups: [],
      directories: [],
      disclaimer: null,
    };
    writeFileSync(file, JSON.stringify(document));
    // A links file from an earlier import keeps its links; one made for this import is removed again.
    const earlierLinks = path.join(fresh.dataDir, 'earlier.csv');
    writeFileSync(earlierLinks, 'login,email,reset_url\nzoe,zoe@example.test,https://rbac.example.test/auth/reset?token=t\n');
    const refused = await runCli(['import', file, '--reset-links', earlierLinks, ...at(fresh)]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /permission type acme_widgets \(frob\) is not one this service knows/);
    assert.match(readFileSync(earlierLinks, 'utf8'), /^zoe,/m, 'a refused import leaves an earlier links file as it was');
    const newLinks = path.join(fresh.dataDir, 'new.csv');
    assert.equal((await runCli(['import', file, '--reset-links', newLinks, ...at(fresh)])).code, 1);
    assert.throws(() => statSync(newLinks), /ENOENT/, 'no links file left by a refused import');

    const types = path.join(fresh.dataDir, 'types.json');
    writeFileSync(types, '[]');
    const allowed = await runCli(['import', file, '--allow-unknown-types', '--permission-types', types, ...at(fresh)]);
    succeeded(allowed);
    const declared = JSON.parse(readFileSync(types, 'utf8')) as { object_type: string; has_instances: boolean; actions: { name: string }[] }[];
    assert.deepEqual(declared.map((type) => [type.object_type, type.has_instances, type.actions.map((action) => action.name)]), [['acme_widgets', true, ['frob']]]);
    // The service reads the type from the file: the role and its permission are there.
    const listed = await runCli(['roles', 'list', '--json', '--permission-types', types, ...at(fresh)]);
    succeeded(listed);
    const role = (JSON.parse(listed.stdout) as { id: number; permissions: unknown[] }[]).find((candidate) => candidate.id === 40);
    assert.deepEqual(role?.permissions, document.roles[0]?.permissions);
  });

  test('a file that is not a portable document is refused with what is wrong, exit 1', async () => {
    const fresh = await workspace();
    const file = path.join(fresh.dataDir, 'bad.json');
    writeFileSync(file, JSON.stringify({ format_version: 1, users: 'none' }));
    const result = await runCli(['import', file, ...at(fresh)]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /is not a portable document/);
    writeFileSync(file, JSON.stringify({ format_version: 99 }));
    assert.match((await runCli(['import', file, ...at(fresh)])).stderr, /reads format_version 1/);
  });
});
