// Several processes starting on one fresh database migrate it once: each
// migration is applied by exactly one of them, the others wait and find
// nothing left to do. PostgreSQL through Kysely's advisory lock, SQLite
// through one BEGIN IMMEDIATE transaction around the whole run.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { openStore } from '../../src/store/database.js';
import { expectExit, storeArgs } from '../cli/support.js';
import { atOnce } from '../kit/concurrency.js';
import { describeEachDatabase, withWorkspace } from '../kit/databases.js';
import { runCli } from '../kit/processes.js';

const PROCESSES = 4;

describeEachDatabase('migrations', (target) => {
  test(`${PROCESSES} processes migrating one fresh database at once all succeed, and each migration is applied once`, async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      const results = await atOnce(PROCESSES, () => runCli(['migrate', ...storeArgs(workspace)]));
      results.forEach((result, index) => expectExit(result, 0, `rbac migrate #${index + 1}`));
      const store = openStore({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl, poolSize: 1 });
      try {
        const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(store.db);
        const names = applied.rows.map((row) => row.name);
        assert.deepEqual(names, [...new Set(names)], 'no migration recorded twice');
        assert.ok(names.length >= 11, `every migration recorded: ${names.join(', ')}`);
        // Each process prints what it applied: together, every migration exactly once.
        const reported = results.flatMap((result) => /^applied: (.*)$/m.exec(result.stdout)?.[1]?.split(', ') ?? []);
        assert.deepEqual(reported.sort(), names, `each migration applied by exactly one process:\n${results.map((result) => result.stdout).join('')}`);
      } finally {
        await store.close();
      }
    });
  });
});
