// The server's SQLite connection never checkpoints in a commit: a worker
// thread with its own connection copies the WAL into the database file.
// In WAL mode the database file changes only through checkpoints, so its
// growth while the service's connection has automatic checkpoints off is
// the worker's doing.

import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { openStore, SQLITE_FILE } from '../../src/store/database.js';
import * as events from '../../src/store/events.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { withWorkspace } from '../kit/databases.js';

const size = (file: string) => statSync(file).size;

test('SQLite with background checkpoints: commits leave the WAL alone, a worker thread copies it into the database, and closing keeps every row', async () => {
  await withWorkspace('sqlite', async (workspace) => {
    const file = path.join(workspace.dataDir, SQLITE_FILE);
    const store = openStore({ dataDir: workspace.dataDir, backgroundCheckpoints: true });
    const written = 1500;
    try {
      await migrateToLatest(store);
      const autocheckpoint = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(store.db);
      assert.equal(autocheckpoint.rows[0]?.wal_autocheckpoint, 0, "the service's connection does not checkpoint in its commits");
      const before = size(file);
      // Far more pages than fit in the file before: it must grow once they are checkpointed.
      for (let i = 0; i < written; i++) {
        await events.record(store.db, [{ type: 'login-succeeded', details: { filler: 'x'.repeat(400), i } }], Date.now());
      }
      const deadline = Date.now() + 10_000;
      while (size(file) <= before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(size(file) > before, `the database file grew from ${before} bytes through checkpoints (now ${size(file)})`);
      const after = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(store.db);
      assert.equal(after.rows[0]?.wal_autocheckpoint, 0, 'the worker thread did them (it did not fail and hand them back to the commits)');
    } finally {
      await store.close();
    }
    const reopened = openStore({ dataDir: workspace.dataDir });
    try {
      const { rows } = await sql<{ n: number }>`select count(*) as n from audit_events where type = 'login-succeeded'`.execute(reopened.db);
      assert.equal(rows[0]?.n, written);
    } finally {
      await reopened.close();
    }
  });
});

test('SQLite without background checkpoints (an rbac command): commits checkpoint as SQLite does by default', async () => {
  await withWorkspace('sqlite', async (workspace) => {
    const store = openStore({ dataDir: workspace.dataDir });
    try {
      const autocheckpoint = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(store.db);
      assert.equal(autocheckpoint.rows[0]?.wal_autocheckpoint, 1000);
    } finally {
      await store.close();
    }
  });
});
