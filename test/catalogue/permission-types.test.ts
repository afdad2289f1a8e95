// The operator's own object types (setting `permission-types`, CONTRACT
// §13): a YAML or JSON file of {object_type, display_name, has_instances,
// actions: [{name, display_name}]}, listed by GET /types and `rbac types`
// after PE's, held by roles and answered by /permitted like PE's; a bad file
// stops the start with a message naming the entry.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { expectExit, expectRefusal } from '../cli/support.js';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { freePort, runCli } from '../kit/processes.js';
import { ADMINISTRATORS, api, rolesSuite, type Permission, type RoleJson } from '../roles/support.js';

const DIR = mkdtempSync(path.join(tmpdir(), 'rbac-permission-types-'));
const TYPES_FILE = path.join(DIR, 'types.yaml');
writeFileSync(
  TYPES_FILE,
  `# The reports service and the billing service keep their permissions in the RBAC service.
- object_type: inventory_reports
  display_name: Inventory reports
  description: Reports of the inventory service.
  has_instances: true
  actions:
    - name: view
      display_name: View
    - name: export
      display_name: Export all
      has_instances: false
- object_type: billing
  display_name: Billing
  has_instances: false
  actions:
    - { name: approve, display_name: Approve invoices }
`,
);

/** Writes a permission-types file and returns its path. */
function typesFile(name: string, content: string): string {
  const file = path.join(DIR, name);
  writeFileSync(file, content);
  return file;
}

const star = (object_type: string, action: string): Permission => ({ object_type, action, instance: '*' });
const one = (object_type: string, action: string, instance: string): Permission => ({ object_type, action, instance });

describeEachDatabase("the operator's permission types", (target) => {
  const suite = rolesSuite(target, { permissionTypes: loadConfig({ env: {}, flags: { 'permission-types': TYPES_FILE } }).permissionTypes });
  let admin: string;
  before(() => ({ admin } = suite));
  const get = (url: string, token: string) => suite.service.request({ method: 'GET', url: api(url), token });
  const permitted = (token: string, body: unknown) =>
    suite.service.request({ method: 'POST', url: api('/permitted'), token, payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

  test("GET /types lists them after PE's, with has_instances per action", async () => {
    const types = (await get('/types', admin)).json() as { object_type: string; display_name: string; has_instances: boolean; actions: { name: string; has_instances: boolean }[] }[];
    assert.ok(types.some((type) => type.object_type === 'node_groups'), "PE's types are still there");
    assert.deepEqual(
      types.slice(-2).map((type) => [type.object_type, type.display_name, type.has_instances, type.actions.map((action) => [action.name, action.has_instances])]),
      [
        ['inventory_reports', 'Inventory reports', true, [['view', true], ['export', false]]],
        ['billing', 'Billing', false, [['approve', false]]],
      ],
    );
  });

  test('a role may hold them; /permitted answers for them: "*" matches every instance, one instance only itself', async () => {
    const everywhere = await suite.actorWith('reports-everywhere', [star('inventory_reports', 'view'), star('billing', 'approve')]);
    const oneReport = await suite.actorWith('reports-one', [one('inventory_reports', 'view', 'weekly-2025')]);
    const asked = [one('inventory_reports', 'view', 'weekly-2025'), one('inventory_reports', 'view', 'monthly'), star('inventory_reports', 'view'), star('billing', 'approve'), star('inventory_reports', 'export')];
    assert.deepEqual((await permitted(admin, { token: everywhere.id, permissions: asked })).json(), [true, true, true, true, false]);
    assert.deepEqual((await permitted(admin, { token: oneReport.id, permissions: asked })).json(), [true, false, false, false, false]);
    assert.deepEqual((await get('/permitted/inventory_reports/view', oneReport.token)).json(), ['weekly-2025']);
    assert.deepEqual((await get(`/permitted/billing/approve/${everywhere.id}`, admin)).json(), ['*']);
    const administrators = (await suite.fetchRole(ADMINISTRATORS)).permissions.map((p) => `${p.object_type}:${p.action}:${p.instance}`);
    for (const held of ['inventory_reports:view:*', 'inventory_reports:export:*', 'billing:approve:*']) assert.ok(administrators.includes(held), `Administrators holds ${held}`);
  });

  test('an unknown action of theirs, or an instance where the type or action takes none, is 400; escalation through them is 403', async () => {
    for (const bad of [star('inventory_reports', 'delete'), one('inventory_reports', 'export', 'weekly'), one('billing', 'approve', 'invoice-7'), one('inventory_reports', 'view', 'tab\there')]) {
      assertError(await suite.postRole(admin, { display_name: `Bad ${bad.action}`, permissions: [bad] }), 400, 'schema-violation');
    }
    const { token } = await suite.actorWith('reports-delegate', [star('user_roles', 'create'), star('users', 'edit'), one('inventory_reports', 'view', 'weekly-2025')]);
    const made = await suite.postRole(token, { display_name: 'Weekly readers', permissions: [one('inventory_reports', 'view', 'weekly-2025')] });
    assert.equal(made.statusCode, 201, made.body);
    assert.deepEqual((made.json() as RoleJson).permissions, [one('inventory_reports', 'view', 'weekly-2025')]);
    for (const wider of [star('inventory_reports', 'view'), one('inventory_reports', 'view', 'monthly'), star('billing', 'approve')]) {
      assertError(await suite.postRole(token, { display_name: `Wider ${wider.object_type}`, permissions: [wider] }), 403, 'permission-denied');
    }
  });
});

test('`rbac types` lists PE\'s catalogue and, with --permission-types, the operator\'s types after it', async () => {
  const plain = await runCli(['types']);
  expectExit(plain, 0, 'rbac types');
  assert.match(plain.stdout, /^TYPE\s+ACTION\s+INSTANCES\s+NAME$/m);
  assert.match(plain.stdout, /^node_groups\s+set_environment\s+one or "\*"\s+Node groups: Set environment$/m);
  assert.match(plain.stdout, /^cert_requests\s+accept_reject\s+"\*" only\s+/m);
  assert.doesNotMatch(plain.stdout, /inventory_reports/);

  const withOwn = await runCli(['types', '--json', '--permission-types', TYPES_FILE]);
  expectExit(withOwn, 0, 'rbac types --json --permission-types');
  const types = JSON.parse(withOwn.stdout) as { object_type: string; actions: { name: string; has_instances: boolean }[] }[];
  assert.equal(types[0]?.object_type, 'users');
  assert.deepEqual(types.at(-1), { ...types.at(-1), object_type: 'billing', actions: [{ ...types.at(-1)?.actions[0], name: 'approve', has_instances: false }] });
});

test('a bad permission-types file stops the start (exit 2) with a message naming the setting and the entry at fault', async () => {
  const bad: [string, string, RegExp][] = [
    ['mapping.yaml', 'object_type: reports\n', /permission-types": .*mapping\.yaml must hold a list of object types/],
    ['no-actions.yaml', '- {object_type: reports, display_name: Reports, has_instances: false, actions: []}\n', /entry 1 \(object_type "reports"\) in .*: actions must not have fewer than 1 items/],
    [
      'bad-action.yaml',
      '- {object_type: reports, display_name: Reports, has_instances: false, actions: [{name: view, display_name: View}]}\n- {object_type: invoices, display_name: Invoices, has_instances: false, actions: [{name: Approve, display_name: Approve}]}\n',
      /entry 2 \(object_type "invoices"\) in .*: actions\/0\/name must match pattern/,
    ],
    ['pe-type.yaml', '- {object_type: nodes, display_name: Nodes, has_instances: false, actions: [{name: reboot, display_name: Reboot}]}\n', /entry 1 \(object_type "nodes"\) .*is one of PE's types/],
    [
      'twice.json',
      JSON.stringify([
        { object_type: 'reports', display_name: 'Reports', has_instances: false, actions: [{ name: 'view', display_name: 'View' }] },
        { object_type: 'reports', display_name: 'Again', has_instances: false, actions: [{ name: 'view', display_name: 'View' }] },
      ]),
      /entry 2 \(object_type "reports"\) .*declared twice/,
    ],
    ['unknown-key.yaml', '- {object_type: reports, display_name: Reports, has_instances: false, owner: me, actions: [{name: view, display_name: View}]}\n', /entry 1 \(object_type "reports"\) .*has an unknown key: owner/],
    ['no-has-instances.yaml', '- {object_type: reports, display_name: Reports, actions: [{name: view, display_name: View}]}\n', /entry 1 \(object_type "reports"\) .*has_instances/],
    ['repeated-action.yaml', '- {object_type: reports, display_name: Reports, has_instances: true, actions: [{name: view, display_name: View}, {name: view, display_name: See}]}\n', /entry 1 \(object_type "reports"\) .*action "view" is declared twice/],
  ];
  for (const [name, content, reason] of bad) {
    expectRefusal(await runCli(['config', 'check', '--permission-types', typesFile(name, content)]), 2, reason, name);
  }
  expectRefusal(await runCli(['config', 'check', '--permission-types', path.join(DIR, 'missing.yaml')]), 2, /permission-types": cannot read .*missing\.yaml/, 'a file that is not there');

  // The service itself: refused before it listens or touches a database.
  const dataDir = mkdtempSync(path.join(tmpdir(), 'rbac-permission-types-serve-'));
  const file = typesFile('serve-bad.yaml', '- {object_type: reports, display_name: Reports, has_instances: false, actions: [{name: view}]}\n');
  const serve = await runCli(['serve', '--insecure-http', '--port', String(await freePort()), '--metrics-port', '0', '--data-dir', dataDir, '--permission-types', file]);
  expectRefusal(serve, 2, /configuration key "permission-types": entry 1 \(object_type "reports"\) in .*serve-bad\.yaml: actions\/0 must have required properties display_name/, 'rbac serve');
});
