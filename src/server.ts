// Starting the service: open the store, migrate, make sure `admin` exists,
// load or create the TLS certificate, listen, and sweep idle accounts when
// account expiry is on.

import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import { buildApp } from './http/app.js';
import { createLogger, flushLog } from './http/logging.js';
import { startMetricsListener } from './metrics/server.js';
import { openServices } from './services.js';
import type { Store } from './store/database.js';
import { loadOrCreateCertificate } from './tls/certificate.js';
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

export async function startService(config: Config, options: StartOptions = {}): Promise<RunningService> {
  const logger = options.logger ?? createLogger(config.logLevel);
  for (const warning of options.warnings ?? []) logger.warn(warning);
  const announce = options.announce ?? ((message: string) => process.stderr.write(`${message}\n`));
  // The certificate first: a bad tls-cert or tls-key stops the start before a database or an admin is created.
  const tls = config.insecureHttp ? undefined : await loadOrCreateCertificate({ dataDir: config.dataDir, certFile: config.tlsCert, keyFile: config.tlsKey });
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
          '  Change it after logging in, or set one with: npm run rbac -- reset-admin-password',
          '',
        ].join('\n'),
      );
    } else if (bootstrap.created) {
      logger.info('superuser "admin" created with the password from RBAC_ADMIN_PASSWORD');
    }

    await keys.ensureKey();

    if (tls?.created) logger.info({ cert: tls.certPath }, 'created a self-signed TLS certificate');

    const app = await buildApp(services, { logger, https: tls ? { key: tls.key, cert: tls.cert } : undefined });
    const host = config.host ?? (config.insecureHttp ? '127.0.0.1' : '0.0.0.0');
    await app.listen({ port: config.port, host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
    const url = `${tls ? 'https' : 'http'}://${shownHost}:${port}`;
    logger.info({ url, database: store.location }, 'rbac service listening');
    // On its own listener (127.0.0.1:9464 by default), not public with the API.
    const metricsListener = metrics ? await startMetricsListener(metrics, { host: config.metricsHost, port: config.metricsPort, allowedHosts: config.metricsAllowedHosts }, logger) : undefined;
    const expiry = scheduleAccountExpiry({ db: store.db, config }, { logger, ...(options.now ? { now: options.now } : {}) });

    return {
      app,
      store,
      url,
      certPath: tls?.certPath,
      metricsUrl: metricsListener?.url,
      async close() {
        const sweepEnded = expiry?.stop();
        await app.close();
        await sweepEnded;
        await metricsListener?.close();
        await store.close();
        // The log is written asynchronously: nothing logged before the close may be lost.
        await flushLog(logger);
      },
    };
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
}
