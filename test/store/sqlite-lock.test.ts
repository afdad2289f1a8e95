// SQLite's write lock held by another process (an rbac command, a second
// instance): a write transaction waits for it without blocking the event
// loop, then commits. (SQLite only: PostgreSQL locks rows, and its driver is
// asynchronous anyway.)

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import SqliteDatabase from 'better-sqlite3';
import { inTransaction } from '../../src/store/transaction.js';
import { SQLITE_FILE, openStore, type Store } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { freshWorkspace, type Workspace } from '../kit/databases.js';

let workspace: Workspace;
let store: Store;
before(async () => {
  workspace = await freshWorkspace('sqlite');
  store = openStore({ dataDir: workspace.dataDir, databaseUrl: undefined });
  await migrateToLatest(store);
});
after(async () => {
  await store?.close();
  await workspace?.cleanup();
});

test('a write transaction waits for a lock another connection holds, and the event loop keeps running meanwhile', async () => {
  const other = new SqliteDatabase(path.join(workspace.dataDir, SQLITE_FILE));
  try {
    other.exec('begin immediate');
    let settled = false;
    const write = inTransaction(store.db, async (trx) => {
      await trx.insertInto('roles').values({ display_name: 'written after the wait', description: '', permissions: '[]' }).execute();
    }).finally(() => (settled = true));

    // Timers and immediates run while the write waits: a wait that blocked the
    // event loop would hold these back until SQLite gave up, and the write would
    // have settled (failed with SQLITE_BUSY) by the time they ran.
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    try {
      while (ticks < 20) await sleep(5);
    } finally {
      clearInterval(ticker);
    }
    assert.equal(settled, false, 'it is still waiting, neither committed nor failed, while the other connection holds the lock');

    other.exec('commit');
    await write;
    const row = await store.db.selectFrom('roles').select('display_name').where('display_name', '=', 'written after the wait').executeTakeFirst();
    assert.ok(row, 'it committed once the lock was free');
  } finally {
    if (other.inTransaction) other.exec('rollback');
    other.close();
  }
});
