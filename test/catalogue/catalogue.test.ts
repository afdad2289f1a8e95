// PE's permission catalogue (CONTRACT §13): GET /types lists PE's object
// types and actions as PE's reference names them; roles hold any of them;
// POST /permitted, GET /permitted/… and introspection evaluate them ("*"
// matches every instance, one instance only itself); PE's default roles
// exist from the first start with PE's ids and permission sets.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { USER_PASSWORD } from '../kit/service.js';
import { ADMINISTRATORS, api, rolesSuite, type Permission, type RoleJson } from '../roles/support.js';

/** PE's catalogue as PE's reference lists it: [type, action, has_instances, an instance of the action's kind]. */
const PE_CATALOGUE: [string, string, boolean, string][] = [
  ['users', 'create', false, '*'],
  ['users', 'edit', true, randomUUID()],
  ['users', 'disable', true, randomUUID()],
  ['users', 'reset_password', true, randomUUID()],
  ['user_roles', 'create', false, '*'],
  ['user_roles', 'edit', true, '7'],
  ['user_roles', 'edit_members', true, '7'],
  ['user_groups', 'import', false, '*'],
  ['user_groups', 'delete', true, randomUUID()],
  ['directory_service', 'edit', false, '*'],
  ['configuration', 'view', false, '*'],
  ['configuration', 'edit', false, '*'],
  ['configuration', 'view_disclaimer', false, '*'],
  ['configuration', 'edit_disclaimer', false, '*'],
  ['tokens', 'override_lifetime', false, '*'],
  ['cert_requests', 'accept_reject', false, '*'],
  ['console_page', 'view', false, '*'],
  ['orchestrator', 'view', false, '*'],
  ['node_groups', 'modify_children', true, randomUUID()],
  ['node_groups', 'edit_child_rules', true, randomUUID()],
  ['node_groups', 'edit_classification', true, randomUUID()],
  ['node_groups', 'edit_config_data', true, randomUUID()],
  ['node_groups', 'edit_params_and_vars', true, randomUUID()],
  ['node_groups', 'set_environment', true, randomUUID()],
  ['node_groups', 'view', true, '00000000-0000-4000-8000-000000000000'],
  ['nodes', 'edit_data', false, '*'],
  ['nodes', 'view_data', false, '*'],
  ['nodes', 'view_inventory_sensitive', false, '*'],
  ['plans', 'run', true, 'deploy::app'],
  ['puppet_agent', 'run', false, '*'],
  ['environment', 'deploy_code', true, 'production'],
  ['puppetserver', 'compile_catalogs', false, '*'],
  ['tasks', 'run', true, 'package'],
  ['tasks', 'run_with_constraints', true, '12'],
];

const star = (object_type: string, action: string): Permission => ({ object_type, action, instance: '*' });
const sorted = (permissions: readonly Permission[]) => [...permissions].map((p) => `${p.object_type}:${p.action}:${p.instance}`).sort();

/** PE's default roles and the permissions PE gives them (Administrators: every one). */
const DEFAULT_ROLES: Record<number, { name: string; permissions: Permission[] }> = {
  2: {
    name: 'Operators',
    permissions: [
      star('tokens', 'override_lifetime'),
      star('cert_requests', 'accept_reject'),
      star('console_page', 'view'),
      star('orchestrator', 'view'),
      ...['modify_children', 'edit_child_rules', 'edit_classification', 'edit_config_data', 'edit_params_and_vars', 'set_environment', 'view'].map((action) => star('node_groups', action)),
      star('puppet_agent', 'run'),
      star('environment', 'deploy_code'),
    ],
  },
  3: { name: 'Viewers', permissions: [star('console_page', 'view'), star('orchestrator', 'view'), star('node_groups', 'view')] },
  4: { name: 'Code Deployers', permissions: [star('tokens', 'override_lifetime'), star('environment', 'deploy_code')] },
  5: { name: 'Project Deployers', permissions: [star('orchestrator', 'view')] },
};

interface TypeJson {
  id: number;
  object_type: string;
  has_instances: boolean;
  actions: { id: number; name: string; display_name: string; description: string; has_instances: boolean }[];
}

describeEachDatabase("PE's permission catalogue", (target) => {
  const suite = rolesSuite(target);
  const { permission, actorWith } = suite;
  let admin: string;
  before(() => ({ admin } = suite));

  const get = (url: string, token: string) => suite.service.request({ method: 'GET', url: api(url), token });
  const permitted = (token: string, body: unknown) =>
    suite.service.request({ method: 'POST', url: api('/permitted'), token, payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const roleCount = async () => (await suite.service.store.db.selectFrom('roles').select('id').execute()).length;

  test("GET /types lists PE's object types and actions, with has_instances per action and per type", async () => {
    const response = await get('/types', admin);
    assert.equal(response.statusCode, 200, response.body);
    const types = response.json() as TypeJson[];
    const listed = types.flatMap((type) => type.actions.map((action) => [type.object_type, action.name, action.has_instances]));
    assert.deepEqual(listed, PE_CATALOGUE.map(([type, action, hasInstances]) => [type, action, hasInstances]));
    for (const type of types) {
      assert.equal(type.has_instances, type.actions.some((action) => action.has_instances), type.object_type);
      assert.deepEqual(type.actions.map((action) => action.id), type.actions.map((_, index) => index + 1));
      for (const action of type.actions) assert.ok(action.display_name && action.description, `${type.object_type}:${action.name} has PE's display name and a description`);
    }
    assert.deepEqual(types.map((type) => type.id), types.map((_, index) => index + 1));
  });

  test('every PE type and action can be held by a role; "*" matches every instance in POST /permitted, GET /permitted/… and for the user introspection names', async () => {
    const everything = PE_CATALOGUE.map(([type, action]) => star(type, action));
    const holder = await actorWith('catalogue-holder', everything);
    const stranger = await actorWith('catalogue-stranger', []);
    const asked = PE_CATALOGUE.map(([type, action, , instance]) => ({ object_type: type, action, instance }));

    assert.deepEqual((await permitted(admin, { token: holder.id, permissions: asked })).json(), asked.map(() => true));
    assert.deepEqual((await permitted(admin, { token: stranger.id, permissions: asked })).json(), asked.map(() => false));
    for (const [type, action] of PE_CATALOGUE) {
      assert.deepEqual((await get(`/permitted/${type}/${action}`, holder.token)).json(), ['*'], `${type}:${action}`);
      assert.deepEqual((await get(`/permitted/${type}/${action}/${stranger.id}`, admin)).json(), [], `${type}:${action} of a user without it`);
    }

    // A service behind this one: introspection names the token's user and roles, /permitted answers for that user.
    const introspected = await suite.service.request({ method: 'POST', url: '/rbac-api/v2/auth/token/authenticate', payload: { token: holder.token } });
    assert.equal(introspected.statusCode, 200, introspected.body);
    const user = introspected.json() as { user_id: string; role_ids: number[] };
    assert.equal(user.user_id, holder.id);
    assert.deepEqual((await permitted(admin, { token: user.user_id, permissions: [permission('node_groups', 'set_environment', randomUUID())] })).json(), [true]);
  });

  test('a permission on one instance of a PE type matches only that instance', async () => {
    const group = randomUUID();
    const held = [
      permission('node_groups', 'view', group.toUpperCase()),
      permission('environment', 'deploy_code', 'production'),
      permission('tasks', 'run', 'package'),
      permission('plans', 'run', 'deploy::app'),
      permission('tasks', 'run_with_constraints', '12'),
    ];
    const holder = await actorWith('catalogue-one-instance', held);
    const answer = await permitted(admin, {
      token: holder.id,
      permissions: [
        permission('node_groups', 'view', group),
        permission('node_groups', 'view', randomUUID()),
        permission('node_groups', 'view'),
        permission('node_groups', 'set_environment', group),
        permission('environment', 'deploy_code', 'production'),
        permission('environment', 'deploy_code', 'development'),
        permission('tasks', 'run', 'package'),
        permission('tasks', 'run', 'service'),
        permission('plans', 'run', 'deploy::app'),
        permission('plans', 'run', 'deploy::db'),
        permission('tasks', 'run_with_constraints', '12'),
        permission('tasks', 'run_with_constraints', '13'),
      ],
    });
    assert.deepEqual(answer.json(), [true, false, false, false, true, false, true, false, true, false, true, false]);
    assert.deepEqual((await get('/permitted/node_groups/view', holder.token)).json(), [group], 'node group ids are kept in lower case');
    assert.deepEqual((await get('/permitted/environment/deploy_code', holder.token)).json(), ['production']);
    assert.deepEqual((await get(`/permitted/plans/run/${holder.id}`, admin)).json(), ['deploy::app']);
    assert.deepEqual((await get('/permitted/node_groups/set_environment', holder.token)).json(), []);
  });

  test('an unknown type or action, or an instance a PE action cannot take, is 400 and stores nothing', async () => {
    const before = await roleCount();
    const refused: Permission[] = [
      permission('nodes', 'fly'),
      permission('spaceships', 'view'),
      permission('node_groups', 'view', 'not-a-uuid'),
      permission('environment', 'deploy_code', 'Production Env'),
      permission('tasks', 'run', 'a::b::c'),
      permission('plans', 'run', 'Deploy'),
      permission('tasks', 'run_with_constraints', 'first'),
      permission('cert_requests', 'accept_reject', randomUUID()),
      permission('console_page', 'view', 'console'),
      permission('configuration', 'edit_disclaimer', '1'),
    ];
    for (const bad of refused) {
      assertError(await suite.postRole(admin, { display_name: `Refused ${bad.object_type} ${bad.action}`, permissions: [bad] }), 400, 'schema-violation');
      assertError(await suite.command('roles/add-permissions', admin, { role_id: 2, permissions: [bad] }), 400, 'schema-violation');
    }
    assert.equal(await roleCount(), before);
    assert.deepEqual(sorted((await suite.fetchRole(2)).permissions), sorted(DEFAULT_ROLES[2]?.permissions ?? []), 'Operators unchanged');
    // A question about an unknown permission is answered, not refused (PE): false, and GET /permitted 404.
    const holder = await actorWith('catalogue-unknown-asker', [star('nodes', 'view_data')]);
    assert.deepEqual((await permitted(admin, { token: holder.id, permissions: [permission('nodes', 'fly'), star('nodes', 'view_data')] })).json(), [false, true]);
    assertError(await get('/permitted/spaceships/view', holder.token), 404, 'not-found');
  });

  test('no escalation through PE types: only what the caller holds may be put in a role or given with one', async () => {
    const group = randomUUID();
    const { token } = await actorWith('catalogue-delegate', [
      star('user_roles', 'create'),
      star('user_roles', 'edit'),
      star('user_roles', 'edit_members'),
      star('users', 'edit'),
      permission('node_groups', 'view', group),
      star('environment', 'deploy_code'),
    ]);
    const created = await suite.postRole(token, { display_name: 'Group viewers', permissions: [permission('node_groups', 'view', group), permission('environment', 'deploy_code', 'production')] });
    assert.equal(created.statusCode, 201, created.body);
    const role = (created.json() as RoleJson).id;
    for (const wider of [star('node_groups', 'view'), permission('node_groups', 'view', randomUUID()), star('node_groups', 'modify_children'), star('puppet_agent', 'run')]) {
      assertError(await suite.postRole(token, { display_name: `Wider ${wider.action}`, permissions: [wider] }), 403, 'permission-denied');
      assertError(await suite.command('roles/add-permissions', token, { role_id: role, permissions: [wider] }), 403, 'permission-denied');
    }
    // Operators and Viewers hold what the delegate does not: it may not give them.
    const user = await actorWith('catalogue-receiver', []);
    for (const defaultRole of [2, 3]) assertError(await suite.command('users/add-roles', token, { user_id: user.id, role_ids: [defaultRole] }), 403, 'permission-denied');
    // Code Deployers' permissions are not all held either (tokens:override_lifetime).
    assertError(await suite.command('users/add-roles', token, { user_id: user.id, role_ids: [4] }), 403, 'permission-denied');
    assert.deepEqual(await suite.roleIdsOf(user.id), []);
  });

  describe("PE's default roles", () => {
    test('exist from the first start with PE\'s ids, names and permission sets; Administrators holds every type', async () => {
      const roles = (await get('/roles', admin)).json() as RoleJson[];
      assert.deepEqual(roles.slice(0, 5).map((role) => [role.id, role.display_name]), [
        [1, 'Administrators'],
        [2, 'Operators'],
        [3, 'Viewers'],
        [4, 'Code Deployers'],
        [5, 'Project Deployers'],
      ]);
      assert.deepEqual(sorted(roles[0]?.permissions ?? []), sorted(PE_CATALOGUE.map(([type, action]) => star(type, action))));
      for (const [id, expected] of Object.entries(DEFAULT_ROLES)) {
        const role = roles.find((candidate) => candidate.id === Number(id));
        assert.deepEqual(sorted(role?.permissions ?? []), sorted(expected.permissions), expected.name);
      }
      assert.ok(roles.slice(5).every((role) => role.id > 5), 'roles made later take ids after the default ones');
    });

    test("a user PE's Puppet module makes without roles gets role 3, Viewers: it may view node groups, not change them", async () => {
      const created = await suite.service.request({
        method: 'POST',
        url: api('/users'),
        token: admin,
        payload: { login: 'module-made', email: 'module-made@example.com', display_name: 'Module made', role_ids: [3], password: USER_PASSWORD },
      });
      assert.equal(created.statusCode, 201, created.body);
      const token = await suite.service.login('module-made', USER_PASSWORD);
      assert.deepEqual((await get('/permitted/node_groups/view', token)).json(), ['*']);
      assert.deepEqual((await get('/permitted/node_groups/modify_children', token)).json(), []);
      assert.deepEqual((await get('/permitted/console_page/view', token)).json(), ['*']);
    });

    test('other than Administrators, they are ordinary roles: an administrator may change their permissions and delete them', async () => {
      const added = await suite.command('roles/add-permissions', admin, { role_id: 3, permissions: [star('nodes', 'view_data')] });
      assert.equal(added.statusCode, 204, added.body);
      assert.ok(sorted((await suite.fetchRole(3)).permissions).includes('nodes:view_data:*'));
      const removed = await suite.command('roles/remove-permissions', admin, { role_id: 3, permissions: [star('nodes', 'view_data')] });
      assert.equal(removed.statusCode, 204, removed.body);
      const made = await suite.postRole(admin, { display_name: 'Short-lived', permissions: [] });
      assert.equal(made.statusCode, 201, made.body);
      assert.equal((await suite.deleteRole(5, admin)).statusCode, 204);
      assertError(await get('/roles/5', admin), 404, 'not-found');
      assertError(await suite.command('roles/add-permissions', admin, { role_id: ADMINISTRATORS, permissions: [star('nodes', 'view_data')] }), 403, 'default-roles-immutable');
    });
  });

  test("the disclaimer answers to PE's configuration:view_disclaimer and edit_disclaimer as to view and edit", async () => {
    const editor = await actorWith('disclaimer-pe-editor', [star('configuration', 'edit_disclaimer')]);
    const viewer = await actorWith('disclaimer-pe-viewer', [star('configuration', 'view_disclaimer')]);
    const set = await suite.command('config/set-disclaimer', editor.token, { disclaimer: 'Authorised use only.' });
    assert.equal(set.statusCode, 204, set.body);
    assert.deepEqual((await get('/config/disclaimer', viewer.token)).json(), { disclaimer: 'Authorised use only.' });
    assert.deepEqual((await get('/config/disclaimer', editor.token)).json(), { disclaimer: 'Authorised use only.' });
    assertError(await suite.command('config/set-disclaimer', viewer.token, { disclaimer: 'No.' }), 403, 'permission-denied');
    assert.equal((await suite.command('config/remove-disclaimer', editor.token, {})).statusCode, 204);
  });
});
