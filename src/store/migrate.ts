// Versioned migrations, applied at start (and by `rbac migrate`). They are
// imported statically so the compiled service needs no migration folder on
// disk. Kysely takes an advisory lock on PostgreSQL and our SQLite driver
// begins with BEGIN IMMEDIATE, so two processes starting at once migrate once.

import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Store } from './database.js';
import * as initial from './migrations/001_initial.js';

const MIGRATIONS: Record<string, Migration> = {
  '001_initial': initial,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

export async function migrateToLatest(store: Store): Promise<string[]> {
  const migrator = new Migrator({ db: store.db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? error}`);
  }
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
}
