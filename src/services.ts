// The one composition root. The server, the CLI and the tests all run on
// what this builds: the migrated store, the password hasher, the signing key
// ring and, when asked for, the instance's metrics — subscribed to the
// store's committed security events.

import type { AuditEvent } from './audit/audit.js';
import type { Config } from './config/config.js';
import { measuredHasher } from './metrics/hasher.js';
import { ServiceMetrics } from './metrics/metrics.js';
import { createPasswordHasher, lazyPasswordHasher, type PasswordHasher } from './passwords/hashing.js';
import { SigningKeyRing } from './password-reset/signing-keys.js';
import { installPermissionTypes } from './catalogue/catalogue.js';
import { openStore, type Store } from './store/database.js';
import { migrateToLatest } from './store/migrate.js';
import { onEventsCommitted } from './store/transaction.js';

export interface Services {
  store: Store;
  config: Config;
  hasher: PasswordHasher;
  keys: SigningKeyRing;
  /** This instance's metrics; undefined when not asked for, or metrics-port is 0. */
  metrics: ServiceMetrics | undefined;
  /** The clock password ages are judged and restarted by: the system clock, or the tests' own. */
  now: () => number;
}

export interface ServiceOptions {
  /** A hasher of the caller's (the tests count hashes), `eager` (start the pool now: the server) or `lazy` (on first use: the CLI). */
  hasher?: PasswordHasher | 'eager' | 'lazy';
  /** Collect metrics (the server, when metrics-port is not 0). */
  metrics?: boolean;
  /** PostgreSQL pool size; the CLI needs few connections. */
  poolSize?: number;
  /** SQLite: checkpoint from a thread of its own (the server; a short command need not start one). */
  backgroundCheckpoints?: boolean;
  /** The clock password ages are judged by (tests move it forward); the system clock otherwise. */
  now?: () => number;
}

export interface OpenServices extends Services {
  /** Migrations this start applied, by name. */
  migrations: string[];
  /** What those migrations tell the operator (a default role kept from an earlier one), for the log. */
  migrationNotices: string[];
  /** Closes the store (the hashing pool's idle threads keep nothing alive). */
  close(): Promise<void>;
}

export async function openServices(config: Config, options: ServiceOptions = {}): Promise<OpenServices> {
  // The operator's object types join PE's before anything reads the catalogue (migration 016 included).
  installPermissionTypes(config.permissionTypes);
  const store = openStore({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    ...(options.poolSize ? { poolSize: options.poolSize } : {}),
    backgroundCheckpoints: options.backgroundCheckpoints ?? false,
  });
  try {
    const migrationNotices: string[] = [];
    const migrations = await migrateToLatest(store, (notice) => migrationNotices.push(notice));
    // Metrics are per instance, in a registry of their own.
    const metrics = options.metrics && config.metricsPort !== 0 ? new ServiceMetrics({ pool: store.pool }) : undefined;
    // Only src/audit/audit.ts writes events, always as AuditEvents.
    if (metrics) onEventsCommitted(store.db, (events) => events.forEach((event) => metrics.countSecurityEvent(event as AuditEvent)));
    const chosen = options.hasher ?? 'eager';
    const plainHasher = chosen === 'eager' ? await createPasswordHasher() : chosen === 'lazy' ? lazyPasswordHasher() : chosen;
    const hasher = metrics ? measuredHasher(plainHasher, metrics.hashDuration) : plainHasher;
    return { store, config, hasher, keys: new SigningKeyRing(store.db), metrics, now: options.now ?? Date.now, migrations, migrationNotices, close: () => store.close() };
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
}
