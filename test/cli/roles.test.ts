// `rbac roles list|create|assign|unassign`, driven as a subprocess on SQLite
// and PostgreSQL against the store of a service running in-process: what the
// commands do is checked through its API (GET /roles, /users/:sid,
// /permitted, /events).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Role, User } from '../../src/shapes.js';
import { runLimited } from '../kit/concurrency.js';
import { describeEachDatabase } from '../kit/databases.js';
import type { CliResult } from '../kit/processes.js';
import { USER_PASSWORD } from '../kit/passwords.js';
import { apiEvents, expectExit, expectRefusal, getAsAdmin, withApiService } from './support.js';

describeEachDatabase('rbac roles', (target) => {
  test('create prints the role and GET /roles shows it; assign and unassign (by name or id) change what the user may do; list as a table and as GET /roles; each change recorded as the API records it', async () => {
    await withApiService(target.dialect, async (service, run) => {
      const aliceId = await service.createUser('alice');

      const created = await run('roles', 'create', 'Helpdesk', '--description', 'Resets passwords', '--permission', 'users:reset_password', '--permission', `users:edit:${aliceId.toUpperCase()}`);
      expectExit(created, 0, 'roles create');
      assert.deepEqual(created.stdout.split('\n').map((line) => line.split(/\s{2,}/)), [
        ['ID', 'NAME', 'MEMBERS', 'PERMISSIONS'],
        ['6', 'Helpdesk', '0', `users:reset_password:*,users:edit:${aliceId}`],
        [''],
      ]);
      const role = (await getAsAdmin<Role>(service, '/roles/6')).body;
      assert.deepEqual(
        { display_name: role.display_name, description: role.description, permissions: role.permissions, user_ids: role.user_ids },
        {
          display_name: 'Helpdesk',
          description: 'Resets passwords',
          permissions: [
            { object_type: 'users', action: 'reset_password', instance: '*' },
            { object_type: 'users', action: 'edit', instance: aliceId },
          ],
          user_ids: [],
        },
        'the role as the API shows it (user ids in lower case, as the API stores them)',
      );

      const aliceToken = await service.login('alice', USER_PASSWORD);
      const permitted = async () => {
        const response = await service.request({ method: 'GET', url: '/rbac-api/v1/permitted/users/reset_password', token: aliceToken });
        return response.json() as string[];
      };
      assert.deepEqual(await permitted(), [], 'before: alice may reset no password');

      const assigned = await run('roles', 'assign', 'Helpdesk', 'ALICE');
      expectExit(assigned, 0, 'roles assign by name');
      assert.equal(assigned.stdout, 'ALICE holds role 6 (Helpdesk).\n');
      const again = await run('roles', 'assign', '6', 'alice');
      expectExit(again, 0, 'roles assign by id, already held');
      assert.deepEqual((await getAsAdmin<User>(service, `/users/${aliceId}`)).body.role_ids, [6]);
      assert.deepEqual(await permitted(), ['*'], 'after: alice may reset every password');

      const [table, json] = await runLimited([() => run('roles', 'list'), () => run('roles', 'list', '--json')]);
      expectExit(table as CliResult, 0, 'roles list');
      const rows = (table as CliResult).stdout.trim().split('\n').map((line) => line.split(/\s{2,}/));
      assert.deepEqual(rows[0], ['ID', 'NAME', 'MEMBERS', 'PERMISSIONS']);
      assert.deepEqual(rows[1]?.slice(0, 3), ['1', 'Administrators', '2'], "Administrators and its two members, admin and PE's api_user");
      assert.match(rows[1]?.[3] ?? '', /^users:create:\*,users:edit:\*,.*tokens:override_lifetime:\*,.*node_groups:view:\*,.*tasks:run_with_constraints:\*$/);
      assert.deepEqual(rows.slice(2, 6).map((row) => row.slice(0, 2)), [['2', 'Operators'], ['3', 'Viewers'], ['4', 'Code Deployers'], ['5', 'Project Deployers']], "PE's default roles");
      assert.deepEqual(rows[6], ['6', 'Helpdesk', '1', `users:reset_password:*,users:edit:${aliceId}`]);
      expectExit(json as CliResult, 0, 'roles list --json');
      assert.deepEqual(JSON.parse((json as CliResult).stdout), (await getAsAdmin<Role[]>(service, '/roles')).body, 'the JSON is what GET /roles answers');

      const unassigned = await run('roles', 'unassign', 'Helpdesk', 'alice');
      expectExit(unassigned, 0, 'roles unassign');
      assert.equal(unassigned.stdout, 'alice does not hold role 6 (Helpdesk).\n');
      assert.deepEqual((await getAsAdmin<User>(service, `/users/${aliceId}`)).body.role_ids, []);
      assert.deepEqual(await permitted(), [], 'after unassign: nothing again');

      const events = await apiEvents(service, 'role-created', 'role-assigned', 'role-removed');
      assert.deepEqual(
        events.map((event) => ({ type: event.type, actor: event.actor, subject: event.subject?.login ?? null, source: event.source_address, details: event.details })),
        [
          {
            type: 'role-created',
            actor: null,
            subject: null,
            source: 'cli',
            details: { role_id: 6, display_name: 'Helpdesk', permissions: ['users:reset_password:*', `users:edit:${aliceId}`] },
          },
          { type: 'role-assigned', actor: null, subject: 'alice', source: 'cli', details: { role_id: 6 } },
          { type: 'role-removed', actor: null, subject: 'alice', source: 'cli', details: { role_id: 6 } },
        ],
        'one role-assigned: assigning a held role again records nothing',
      );
    });
  });

  test('a misspelt --permission exits 2; an existing name, an unknown role or login exits 1 naming it; nothing changes', async () => {
    await withApiService(target.dialect, async (service, run) => {
      const aliceId = await service.createUser('alice');
      expectExit(await run('roles', 'create', 'Helpdesk'), 0, 'roles create without permissions');

      const spellings: [string, RegExp][] = [
        ['users', /^rbac: --permission "users" is not type:action or type:action:instance/m],
        ['users:edit:*:more', /"users:edit:\*:more": The instance of a users:edit permission is "\*" or the id of a user/],
        ['node_groups:view:development', /The instance of a node_groups:view permission is "\*" or the id of a node group \(a UUID\); this one is neither/],
        ['plans:run:Deploy::App', /The instance of a plans:run permission is "\*" or a plan name/],
        ['users:', /is not type:action or type:action:instance/],
        ['users:fly', /^rbac: --permission "users:fly": Unknown permission users:fly\.$/m],
        ['users:edit:bob', /"users:edit:bob": The instance of a users:edit permission is "\*" or the id of a user \(a UUID\); this one is neither\.$/m],
        ['configuration:view:1', /The instance of configuration:view is always "\*"/],
      ];
      const results = await runLimited([
        ...spellings.map(([spelling]) => () => run('roles', 'create', 'Misspelt', '--permission', 'users:create', '--permission', spelling)),
        () => run('roles', 'create', 'Helpdesk'),
        () => run('roles', 'assign', 'Nobody', 'alice'),
        () => run('roles', 'assign', '99', 'alice'),
        () => run('roles', 'unassign', 'Helpdesk', 'nobody'),
      ]);
      spellings.forEach(([spelling, reason], index) => expectRefusal(results[index] as CliResult, 2, reason, `--permission ${spelling}`));
      const [duplicate, unknownName, unknownId, unknownLogin] = results.slice(spellings.length) as CliResult[];
      expectRefusal(duplicate as CliResult, 1, /^rbac: A role named "Helpdesk" already exists\.$/m, 'a taken name');
      expectRefusal(unknownName as CliResult, 1, /^rbac: No role has the id or name "Nobody"\.$/m, 'an unknown role name');
      expectRefusal(unknownId as CliResult, 1, /^rbac: No role has the id or name "99"\.$/m, 'an unknown role id');
      expectRefusal(unknownLogin as CliResult, 1, /^rbac: No user has the login "nobody"\.$/m, 'an unknown login');

      assert.deepEqual(
        (await getAsAdmin<Role[]>(service, '/roles')).body.map((role) => role.display_name),
        ['Administrators', 'Operators', 'Viewers', 'Code Deployers', 'Project Deployers', 'Helpdesk'],
        'no role was created by a refused command',
      );
      assert.deepEqual((await getAsAdmin<User>(service, `/users/${aliceId}`)).body.role_ids, []);
      assert.deepEqual(
        (await apiEvents(service, 'role-created', 'role-assigned', 'role-removed')).map((event) => event.type),
        ['role-created'],
        'only the one role created',
      );
    });
  });
});
