// Versioned migrations, applied at start (and by `rbac migrate`). They are
// imported statically so the compiled service needs no migration folder on
// disk. Kysely takes an advisory lock on PostgreSQL and our SQLite driver
// runs the whole migration in one BEGIN IMMEDIATE transaction (src/store/database.ts),
// so two processes starting at once migrate once.

import { setTimeout } from 'node:timers/promises';
import { Migrator, sql, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import type { Store } from './database.js';
import * as initial from './migrations/001_initial.js';
import * as passwordReset from './migrations/002_password_reset.js';
import * as decoyAttempts from './migrations/003_decoy_attempts.js';
import * as liveResetTokensIndex from './migrations/004_live_reset_tokens_index.js';
import * as loginSkeleton from './migrations/005_login_skeleton.js';
import * as lockedAt from './migrations/006_locked_at.js';
import * as passwordHistory from './migrations/007_password_history.js';
import * as settings from './migrations/008_settings.js';
import * as administratorsRole from './migrations/009_administrators_role.js';
import * as tokenIds from './migrations/010_token_ids.js';
import * as reinstatedAt from './migrations/011_reinstated_at.js';
import * as directories from './migrations/012_directories.js';
import * as directoryBinding from './migrations/013_directory_binding.js';
import * as loginSkeletonsV2 from './migrations/014_login_skeletons_v2.js';
import * as apiUser from './migrations/015_api_user.js';
import * as defaultRoles from './migrations/016_default_roles.js';
import * as rateLimits from './migrations/017_rate_limits.js';
import * as activityIndexes from './migrations/018_activity_indexes.js';
import * as accountState from './migrations/019_account_state.js';

/** What a migration tells the operator besides having run (a default role it kept rather than added, a user it grandfathered). */
export type MigrationNotice = (message: string) => void;

const migrations = (notice: MigrationNotice): Record<string, Migration> => ({
  '001_initial': initial,
  '002_password_reset': passwordReset,
  '003_decoy_attempts': decoyAttempts,
  '004_live_reset_tokens_index': liveResetTokensIndex,
  '005_login_skeleton': loginSkeleton,
  '006_locked_at': lockedAt,
  '007_password_history': passwordHistory,
  '008_settings': settings,
  '009_administrators_role': administratorsRole,
  '010_token_ids': tokenIds,
  '011_reinstated_at': reinstatedAt,
  '012_directories': directories,
  '013_directory_binding': directoryBinding,
  '014_login_skeletons_v2': { up: (db) => loginSkeletonsV2.up(db, notice), down: loginSkeletonsV2.down },
  '015_api_user': { up: (db) => apiUser.up(db, notice), down: apiUser.down },
  '016_default_roles': { up: (db) => defaultRoles.up(db, notice), down: defaultRoles.down },
  '017_rate_limits': rateLimits,
  '018_activity_indexes': activityIndexes,

  '019_account_state': accountState,
});

/** Applies every migration not yet applied; `notice` hears what they tell the operator. */
export async function migrateToLatest(store: Store, notice: MigrationNotice = () => {}): Promise<string[]> {
  return migrate(store, notice, (migrator) => migrator.migrateToLatest());
}

/** Applies the migrations up to and including `name`: for testing a migration against data the older schema held. */
export async function migrateTo(store: Store, name: string, notice: MigrationNotice = () => {}): Promise<string[]> {
  return migrate(store, notice, (migrator) => migrator.migrateTo(name));
}

// On SQLite a process whose turn has not come after the driver's lock wait
// (another process is still migrating, slowly on a busy machine) gets
// SQLITE_BUSY before it changed anything: it waits and tries again, as
// PostgreSQL's advisory lock would have it wait.
const MIGRATION_WAIT_MS = 120_000;

async function runWaitingForOthers(run: () => Promise<MigrationResultSet>): Promise<MigrationResultSet> {
  const deadline = Date.now() + MIGRATION_WAIT_MS;
  for (;;) {
    const outcome = await run();
    const busy = (outcome.error as { code?: unknown } | undefined)?.code === 'SQLITE_BUSY';
    if (!busy || Date.now() >= deadline) return outcome;
    await setTimeout(200);
  }
}

async function migrate(store: Store, notice: MigrationNotice, run: (migrator: Migrator) => Promise<MigrationResultSet>): Promise<string[]> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(notice) };
  // On PostgreSQL the migration tables live in the connection's own schema;
  // without saying so Kysely finds another schema's tables and skips creating them.
  const schema =
    store.dialect === 'postgres'
      ? (await sql<{ current_schema: string }>`select current_schema()`.execute(store.db)).rows[0]?.current_schema
      : undefined;
  // Numbers are handed out before the work lands, so a database may have run
  // 016 before 014 exists; each migration stands on those below its number
  // only, and one that arrives late runs on the next start instead of stopping it.
  const migrator = new Migrator({ db: store.db, provider, allowUnorderedMigrations: true, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = await runWaitingForOthers(() => run(migrator));
  if (error) {
    const failed = results?.find((result) => result.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? error}`);
  }
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
}
