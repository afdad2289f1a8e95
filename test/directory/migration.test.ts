// Migration 017: remote users from before it get the directory they came
// from when exactly one directory is set (they can have come from no other),
// so deleting that directory removes them as PE does; local users, and
// remote users when several directories are set, get none.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { openStore, type Store } from '../../src/store/database.js';
import { migrateTo, migrateToLatest } from '../../src/store/migrate.js';
import { describeEachDatabase, freshWorkspace } from '../kit/databases.js';

async function userAt(store: Store, login: string, remote: boolean): Promise<string> {
  const id = randomUUID();
  await store.db
    .insertInto('users')
    .values({ id, login, login_key: login, email: '', display_name: '', is_remote: remote ? 1 : 0, is_superuser: 0, is_revoked: 0, password_hash: null, last_login: null, created_at: Date.now() } as never)
    .execute();
  return id;
}

async function directoryAt(store: Store): Promise<string> {
  const id = randomUUID();
  await store.db.insertInto('directories').values({ id, settings: '{}', bind_password: null, created_at: Date.now(), updated_at: Date.now() }).execute();
  return id;
}

describeEachDatabase('migration 017: the directory of each remote user', (target) => {
  for (const directoryCount of [1, 2]) {
    test(`with ${directoryCount} director${directoryCount === 1 ? 'y' : 'ies'} set: remote users get ${directoryCount === 1 ? "its id" : 'none'}, local users none`, async () => {
      const workspace = await freshWorkspace(target.dialect);
      const store = openStore({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl });
      try {
        await migrateTo(store, '012_directories');
        const directories = [];
        for (let index = 0; index < directoryCount; index++) directories.push(await directoryAt(store));
        const remote = await userAt(store, 'remote-before', true);
        const local = await userAt(store, 'local-before', false);
        await migrateToLatest(store);
        const rows = await store.db.selectFrom('users').select(['id', 'directory_id']).execute();
        const directoryOf = (id: string) => rows.find((row) => row.id === id)?.directory_id;
        assert.equal(directoryOf(remote), directoryCount === 1 ? directories[0] : null);
        assert.equal(directoryOf(local), null);
      } finally {
        await store.close();
        await workspace.cleanup();
      }
    });
  }
});
