// Migration 016_default_roles on a database that already had roles: PE's
// default roles are added where their id and name are free; a role of the
// users' at one of those ids, or with one of those names, is kept as it is,
// and the service's log (and `rbac migrate`) says so.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { openStore } from '../../src/store/database.js';
import { migrateTo } from '../../src/store/migrate.js';
import { expectExit, storeArgs } from '../cli/support.js';
import { describeEachDatabase, freshWorkspace, type Workspace } from '../kit/databases.js';
import { runCli, spawnService } from '../kit/processes.js';

const HELPDESK_PERMISSIONS = JSON.stringify([{ object_type: 'users', action: 'reset_password', instance: '*' }]);

/** A database as the version before 016 left it: Administrators, a Helpdesk role of the users' at id 2 and their own "Viewers" at id 9. */
async function databaseWithRoles(workspace: Workspace): Promise<void> {
  const old = openStore({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl });
  try {
    await migrateTo(old, '012_directories');
    await old.db.insertInto('roles').values({ id: 2, display_name: 'Helpdesk', description: 'Resets passwords', permissions: HELPDESK_PERMISSIONS }).execute();
    await old.db.insertInto('roles').values({ id: 9, display_name: 'Viewers', description: 'ours', permissions: '[]' }).execute();
    if (workspace.databaseUrl) await sql`select setval(pg_get_serial_sequence('roles', 'id'), 9)`.execute(old.db);
  } finally {
    await old.close();
  }
}

async function rolesIn(workspace: Workspace) {
  const store = openStore({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl, poolSize: 1 });
  try {
    return await store.db.selectFrom('roles').selectAll().orderBy('id').execute();
  } finally {
    await store.close();
  }
}

describeEachDatabase('migration 016: default roles on an existing database', (target) => {
  test('adds the default roles whose id and name are free, keeps the roles at taken ids or names, and the service logs what it kept', async () => {
    const workspace = await freshWorkspace(target.dialect);
    try {
      await databaseWithRoles(workspace);
      const service = await spawnService({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl });
      try {
        const kept = await service.waitForLog((line) => line.msg.includes('Operators'));
        assert.equal(kept.level, 40, 'a warning');
        assert.match(kept.msg, /default role Operators \(id 2\) was not added: role 2 \("Helpdesk"\) already exists and is kept/);
        const viewers = await service.waitForLog((line) => line.msg.includes('default role Viewers'));
        assert.match(viewers.msg, /Viewers \(id 3\) was not added: role 9 \("Viewers"\) already exists/);
      } finally {
        await service.stop();
        await service.cleanup();
      }
      const roles = await rolesIn(workspace);
      assert.deepEqual(
        roles.map((role) => [role.id, role.display_name]),
        [
          [1, 'Administrators'],
          [2, 'Helpdesk'],
          [4, 'Code Deployers'],
          [5, 'Project Deployers'],
          [9, 'Viewers'],
        ],
      );
      const helpdesk = roles.find((role) => role.id === 2);
      assert.deepEqual([helpdesk?.description, helpdesk?.permissions], ['Resets passwords', HELPDESK_PERMISSIONS], 'the users\' role 2 is untouched');
      assert.deepEqual(JSON.parse(roles.find((role) => role.id === 4)?.permissions ?? '[]'), [
        { object_type: 'tokens', action: 'override_lifetime', instance: '*' },
        { object_type: 'environment', action: 'deploy_code', instance: '*' },
      ]);
      assert.deepEqual(JSON.parse(roles.find((role) => role.id === 5)?.permissions ?? '[]'), [{ object_type: 'orchestrator', action: 'view', instance: '*' }]);
    } finally {
      await workspace.cleanup();
    }
  });

  test('`rbac migrate` prints what it kept; a role made afterwards takes the next id', async () => {
    const workspace = await freshWorkspace(target.dialect);
    try {
      await databaseWithRoles(workspace);
      const result = await runCli(['migrate', ...storeArgs(workspace)]);
      expectExit(result, 0, 'rbac migrate');
      assert.match(result.stdout, /applied: .*016_default_roles/);
      assert.match(result.stderr, /^rbac: PE's default role Operators \(id 2\) was not added: role 2 \("Helpdesk"\)/m);
      assert.match(result.stderr, /^rbac: PE's default role Viewers \(id 3\) was not added: role 9 \("Viewers"\)/m);
      const again = await runCli(['migrate', ...storeArgs(workspace)]);
      expectExit(again, 0, 'rbac migrate again');
      assert.equal(again.stderr, '', 'nothing to say once migrated');

      const store = openStore({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl, poolSize: 1 });
      try {
        const created = await store.db.insertInto('roles').values({ display_name: 'Fresh', description: '', permissions: '[]' }).returning('id').executeTakeFirstOrThrow();
        assert.equal(created.id, 10, 'ids keep counting after the explicit ones');
      } finally {
        await store.close();
      }
    } finally {
      await workspace.cleanup();
    }
  });
});
