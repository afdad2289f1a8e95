// The SQLite store's checkpoints, run by a thread of their own (src/store/database.ts
// says why): a second connection to the same file copies the WAL's committed
// pages into the database. PASSIVE never waits for a lock and never blocks a
// writer or reader of the service's connection.

import SqliteDatabase from 'better-sqlite3';

export interface CheckpointTask {
  file: string;
  /** Close this thread's connection to the file (the store is closing). */
  close?: boolean;
}

const connections = new Map<string, SqliteDatabase.Database>();

export default function runCheckpointTask(task: CheckpointTask): void {
  let connection = connections.get(task.file);
  if (task.close) {
    connection?.close();
    connections.delete(task.file);
    return;
  }
  try {
    if (!connection) connections.set(task.file, (connection = new SqliteDatabase(task.file, { fileMustExist: true })));
    connection.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    // Another connection holds a lock for a moment (a migration, an rbac
    // command): the next interval tries again. Anything else is the caller's.
    const code = (error as { code?: unknown }).code;
    if (code !== 'SQLITE_BUSY' && code !== 'SQLITE_LOCKED') throw error;
  }
}
