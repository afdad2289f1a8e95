// Starting the service: open the store, migrate, make sure `admin` exists,
// load or create the TLS certificate, listen, and sweep idle accounts when
// account expiry is on.

import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import { buildApp } from './http/app.js';
import { createLogger, flushLog } from './http/logging.js';
import { ShutdownGrace } from './http/shutdown-grace.js';
import { startMetricsListener } from './metrics/server.js';
import { openServices } from './services.js';
import type { Store } from './store/database.js';
import { loadOrCreateCertificate } from './tls/certificate.js';
import { CertificateAllowlist } from './tls/allowlist.js';
import { clientCertificateOptions, readClientCa } from './tls/client-certificates.js';
import { scheduleAccountExpiry } from './users/account-expiry.js';
import { ensureBootstrapAdmin } from './users/bootstrap.js';

export interface RunningService {
  app: FastifyInstance;
  store: Store;
  url: string;
  /** The certificate clients should trust, when serving HTTPS. */
  certPath: string | undefined;
  /** Where Prometheus scrapes this instance; undefined when metrics-port is 0 or the port was taken. */
  metricsUrl: string | undefined;
  /** Stops the account expiry sweeps and accepting connections, lets requests and a sweep in flight finish, then closes the metrics listener and the database. */
  close(): Promise<void>;
  /**
   * SIGTERM's stop: the status routes answer 503 for shutdown-grace-period
   * while everything else is served (src/http/shutdown-grace.ts), then close().
   */
  stop(): Promise<void>;
  /** Ends stop()'s grace period now. */
  endGracePeriod(): void;
}

export interface StartOptions {
  logger?: Logger;
  /** RBAC_ADMIN_PASSWORD: the bootstrap admin's password on first start. */
  adminPassword?: string | undefined;
  /** Where the one-time generated admin password is announced. */
  announce?: (message: string) => void;
  /** The clock account expiry sweeps by (tests set it); the system clock otherwise. */
  now?: () => Date;
  /** What the start should warn about (RBAC_… variables that are no setting), logged once the logger exists. */
  warnings?: readonly string[];
}

/** The address the service binds to: host, or loopback for plain HTTP and every interface for HTTPS. */
export function listenHost(config: Pick<Config, 'host' | 'insecureHttp'>): string {
  return config.host ?? (config.insecureHttp ? '127.0.0.1' : '0.0.0.0');
}

/**
 * Where the service listens, as a URL: what the start announces and, without
 * public-url, what `rbac reset-token --url` links to, so both read the same
 * settings (an any-interface bind is shown as localhost).
 */
export function serviceUrl(config: Pick<Config, 'host' | 'insecureHttp'>, port: number): string {
  const host = listenHost(config);
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `${config.insecureHttp ? 'http' : 'https'}://${shownHost}:${port}`;
}

/**
 * How to set the admin's password again: `rbac reset-admin-password` with the
 * settings that reach this database. The SQLite database is found from the
 * data dir; a PostgreSQL one only from the settings the service was given.
 */
function recoveryHint(config: Config): string[] {
  const command = config.databaseUrl ? 'reset-admin-password --config <file>' : `reset-admin-password --data-dir ${shellWord(path.resolve(config.dataDir))}`;
  return [
    config.databaseUrl
      ? '  Change it after logging in, or set one with the settings this service was given\n  (its config file, or the same RBAC_* variables without --config):'
      : '  Change it after logging in, or set one with:',
    '',
    `      rbac ${command}`,
    `      npm run rbac -- ${command}    (in a checkout)`,
  ];
}

/** A word the shell reads back as it is. */
function shellWord(word: string): string {
  return /^[\w./:@-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

export async function startService(config: Config, options: StartOptions = {}): Promise<RunningService> {
  const logger = options.logger ?? createLogger(config.logLevel);
  for (const warning of options.warnings ?? []) logger.warn(warning);
  const announce = options.announce ?? ((message: string) => process.stderr.write(`${message}\n`));
  // The certificate first: a bad tls-cert or tls-key stops the start before a database or an admin is created.
  const tls = config.insecureHttp ? undefined : await loadOrCreateCertificate({ dataDir: config.dataDir, certFile: config.tlsCert, keyFile: config.tlsKey });
  // So are a bad client-ca or certificate-allowlist (loadConfig sets both or neither, and never with plain HTTP).
  const clientCertificates = config.clientCa === undefined ? {} : clientCertificateOptions(readClientCa(config.clientCa));
  const certificateAllowlist = config.certificateAllowlist === undefined ? undefined : CertificateAllowlist.open(config.certificateAllowlist);
  const services = await openServices(config, { hasher: 'eager', metrics: true, backgroundCheckpoints: true });
  const { store, hasher, keys, metrics } = services;
  try {
    if (services.migrations.length > 0) logger.info({ migrations: services.migrations }, 'database migrated');
    for (const notice of services.migrationNotices) logger.warn(notice);

    const bootstrap = await ensureBootstrapAdmin(
      { db: store.db, hasher, rules: config },
      options.adminPassword,
    );
    if (bootstrap.generatedPassword) {
      announce(
        [
          '',
          '  The superuser "admin" was created with this password (shown only once):',
          '',
          `      ${bootstrap.generatedPassword}`,
          '',
          ...recoveryHint(config),
          '',
        ].join('\n'),
      );
    } else if (bootstrap.created) {
      logger.info('superuser "admin" created with the password from RBAC_ADMIN_PASSWORD');
    }

    await keys.ensureKey();

    if (tls?.created) logger.info({ cert: tls.certPath }, 'created a self-signed TLS certificate');

    const grace = new ShutdownGrace();
    const app = await buildApp(services, { logger, https: tls ? { key: tls.key, cert: tls.cert, ...clientCertificates } : undefined, certificateAllowlist, shutdown: grace });
    if (certificateAllowlist) logger.info({ clientCa: config.clientCa, certificateAllowlist: certificateAllowlist.file }, 'client certificates on the allowlist act as api_user');
    await app.listen({ port: config.port, host: listenHost(config) });
    const address = app.server.address();
    const url = serviceUrl(config, typeof address === 'object' && address ? address.port : config.port);
    logger.info({ url, database: store.location }, 'rbac service listening');
    // On its own listener (127.0.0.1:9464 by default), not public with the API.
    const metricsListener = metrics ? await startMetricsListener(metrics, { host: config.metricsHost, port: config.metricsPort, allowedHosts: config.metricsAllowedHosts }, logger) : undefined;
    const expiry = scheduleAccountExpiry({ db: store.db, config }, { logger, ...(options.now ? { now: options.now } : {}) });

    const close = async () => {
      const sweepEnded = expiry?.stop();
      await app.close();
      await sweepEnded;
      await metricsListener?.close();
      await store.close();
      // The log is written asynchronously: nothing logged before the close may be lost.
      await flushLog(logger);
    };
    return {
      app,
      store,
      url,
      certPath: tls?.certPath,
      metricsUrl: metricsListener?.url,
      close,
      async stop() {
        const seconds = config.shutdownGracePeriodSeconds;
        if (seconds > 0) logger.info({ shutdownGracePeriod: seconds }, 'status routes answer 503 for the grace period; serving everything else');
        await grace.wait(seconds);
        logger.info('closing: no new connections, finishing requests in flight');
        await close();
      },
      endGracePeriod: () => grace.end(),
    };
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
}
