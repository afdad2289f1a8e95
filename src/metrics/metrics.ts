// Prometheus metrics of one service instance, in a Registry of its own (not
// prom-client's global one), so several services in one process — tests, or
// an embedding program — never mix their numbers.
//
// Labels are bounded sets only: the route *pattern* (never the raw URL, so no
// token or user id reaches a label), the method, the status code, and the
// fixed kinds and reasons of security events.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { AUDIT_EVENT_TYPES, type AuditEvent } from '../audit/audit.js';
import { directoryConnectionsOpened, idleDirectoryConnections } from '../directory/connection-pool.js';
import { RequestMetrics } from './request-metrics.js';

/** What the DB pool gauges read; pg.Pool has these. */
export interface PoolStats {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

export interface MetricsOptions {
  /** PostgreSQL's connection pool, when there is one (SQLite has a single connection). */
  pool?: PoolStats | undefined;
  /** Node's process metrics (CPU, memory, event loop lag, GC); on by default. */
  processMetrics?: boolean;
}


export class ServiceMetrics {
  readonly registry = new Registry();

  /** rbac_http_requests_total and rbac_http_request_duration_seconds: recorded without allocating per request. */
  readonly http = new RequestMetrics(this.registry);

  readonly hashDuration = new Histogram({
    name: 'rbac_password_hash_duration_seconds',
    help: 'Time spent in argon2id, by operation (hash, verify, verify-dummy)',
    labelNames: ['operation'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly securityEvents = new Counter({
    name: 'rbac_security_events_total',
    help: 'Security (audit) events recorded by this instance, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  readonly loginsFailed = new Counter({
    name: 'rbac_logins_failed_total',
    help: 'Failed password checks (logins and current-password checks), by purpose and reason',
    labelNames: ['purpose', 'reason'] as const,
    registers: [this.registry],
  });

  readonly accountsLocked = new Counter({
    name: 'rbac_accounts_locked_total',
    help: 'Accounts revoked by the failed-attempts lockout',
    registers: [this.registry],
  });

  readonly resetTokensIssued = new Counter({
    name: 'rbac_reset_tokens_issued_total',
    help: 'Password reset tokens issued',
    registers: [this.registry],
  });

  readonly resetTokensUsed = new Counter({
    name: 'rbac_reset_tokens_used_total',
    help: 'Password reset tokens used to set a new password',
    registers: [this.registry],
  });

  readonly resetTokensRejected = new Counter({
    name: 'rbac_reset_tokens_rejected_total',
    help: 'Password resets refused because of the token, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor(options: MetricsOptions = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    // Counters start at 0 where the label set is known, so rate() works from the first scrape.
    for (const type of AUDIT_EVENT_TYPES) this.securityEvents.inc({ type }, 0);
    this.accountsLocked.inc(0);
    this.resetTokensIssued.inc(0);
    this.resetTokensUsed.inc(0);

    const pool = options.pool;
    if (pool) {
      const gauge = (name: string, help: string, read: (stats: PoolStats) => number) =>
        new Gauge({
          name,
          help,
          registers: [this.registry],
          collect() {
            this.set(read(pool));
          },
        });
      gauge('rbac_db_pool_connections', 'PostgreSQL connections open in the pool (idle and in use)', (stats) => stats.totalCount);
      gauge('rbac_db_pool_idle_connections', 'PostgreSQL connections open and idle in the pool', (stats) => stats.idleCount);
      gauge('rbac_db_pool_waiting_requests', 'Queries waiting for a PostgreSQL connection from the pool', (stats) => stats.waitingCount);
    }

    // Directory logins' connections (src/directory/connection-pool.ts): how many were opened, how many wait idle for reuse.
    new Counter({
      name: 'rbac_directory_connections_opened_total',
      help: 'Connections this process opened to directories for logins (reused ones are not counted again)',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(directoryConnectionsOpened());
      },
    });
    new Gauge({
      name: 'rbac_directory_idle_connections',
      help: 'Connections to directories open and idle, kept for the next directory login',
      registers: [this.registry],
      collect() {
        this.set(idleDirectoryConnections());
      },
    });
  }

  /** One answered request. `route` is the pattern (`/rbac-api/v1/users/:sid`), or `unmatched`. */
  observeRequest(method: string, route: string, statusCode: number, seconds: number): void {
    this.http.observe(method, route, statusCode, seconds);
  }

  /** Called for each security event this instance records. */
  countSecurityEvent(event: AuditEvent): void {
    this.securityEvents.inc({ type: event.type });
    // Typed details: every label value is one of a fixed set, so no label grows unbounded.
    switch (event.type) {
      case 'login-failed':
        this.loginsFailed.inc({ purpose: event.details.purpose, reason: event.details.reason });
        break;
      case 'account-locked':
        this.accountsLocked.inc();
        break;
      case 'reset-token-issued':
        this.resetTokensIssued.inc();
        break;
      case 'reset-token-used':
        this.resetTokensUsed.inc();
        break;
      case 'reset-rejected':
        this.resetTokensRejected.inc({ reason: event.details.reason });
        break;
    }
  }

  /** The exposition text, as GET /metrics serves it. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
