// Starting the real service (docs/operations.md). HTTPS by default with a self-signed
// certificate created once under <data-dir>/tls and reused; readiness at
// /status/v1/simple; the bootstrap `admin` (RBAC_ADMIN_PASSWORD or a generated
// password announced once); plain HTTP only when asked, bound to loopback;
// migrations applied at start. Each test listens on a real socket (port 0) and
// talks to it over node:https / node:http, for SQLite and PostgreSQL.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { defaultConfig, loadConfig, type Config } from '../src/config/config.js';
import { createLogger } from '../src/http/logging.js';
import { startService, type RunningService, type StartOptions } from '../src/server.js';
import { POSTGRES, describeEachDatabase, freshWorkspace, withWorkspace, type Workspace } from './kit/databases.js';
import { runCli } from './kit/processes.js';
import { callPort, type CallOptions, type Reply } from './kit/api.js';
import { ADMIN_PASSWORD, USER_PASSWORD } from './kit/service.js';

/** One request to a running service: HTTPS trusting only `ca` (checked against the name localhost), or plain HTTP. */
function call(service: RunningService, options: Omit<CallOptions, 'ca'>, ca?: string): Promise<Reply> {
  return callPort((service.app.server.address() as AddressInfo).port, { ...options, ca });
}

async function login(service: RunningService, password: string, ca?: string): Promise<Reply> {
  return call(service, { method: 'POST', path: '/rbac-api/v1/auth/token', json: { login: 'admin', password } }, ca);
}

/** Logs in as admin over the wire and returns the token; fails the test if the login is refused. */
async function adminToken(service: RunningService, password: string, ca?: string): Promise<string> {
  const response = await login(service, password, ca);
  assert.equal(response.status, 200, `admin login: ${response.body}`);
  const { token } = JSON.parse(response.body) as { token: string };
  assert.equal(typeof token, 'string');
  return token;
}

function configFor(workspace: Workspace, overrides: Partial<Config> = {}): Config {
  // No metrics listener: test files run in parallel, and its default port is fixed.
  return defaultConfig({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl, port: 0, metricsPort: 0, logLevel: 'silent', ...overrides });
}

const silent = createLogger('silent');

/** Starts the service, runs `body`, and always closes it. */
async function withService<T>(config: Config, options: StartOptions, body: (service: RunningService) => Promise<T>): Promise<T> {
  const service = await startService(config, { logger: silent, ...options });
  try {
    return await body(service);
  } finally {
    await service.close();
  }
}

/** The password line of the one-time announcement. */
function passwordIn(message: string): string {
  const match = /^\s+([A-Za-z0-9_-]{16,})\s*$/m.exec(message);
  assert.ok(match?.[1], `the announcement shows a password: ${JSON.stringify(message)}`);
  return match[1];
}

function failOnAnnounce(message: string): never {
  throw new Error(`announce must not be called here, got ${JSON.stringify(message)}`);
}

describeEachDatabase('service start', (target) => {
  test('HTTPS by default: a self-signed certificate and 0600 key are created under <data-dir>/tls and reused on the next start', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      const certFile = path.join(workspace.dataDir, 'tls', 'cert.pem');
      const keyFile = path.join(workspace.dataDir, 'tls', 'key.pem');
      assert.equal(existsSync(certFile), false, 'no certificate before the first start');
      const config = configFor(workspace);

      const firstCert = await withService(config, { adminPassword: ADMIN_PASSWORD }, async (service) => {
        assert.match(service.url, /^https:\/\//);
        assert.equal(service.certPath, certFile);
        assert.ok(existsSync(certFile), 'cert.pem created');
        assert.ok(existsSync(keyFile), 'key.pem created');
        assert.equal(statSync(keyFile).mode & 0o777, 0o600, 'key.pem is readable by its owner only');
        const cert = readFileSync(certFile, 'utf8');
        assert.match(cert, /-----BEGIN CERTIFICATE-----/);
        assert.match(readFileSync(keyFile, 'utf8'), /-----BEGIN [A-Z ]*PRIVATE KEY-----/);

        // A client pinning the certificate (curl --cacert) reaches it as localhost.
        const status = await call(service, { path: '/status/v1/simple' }, cert);
        assert.equal(status.status, 200);
        assert.equal(status.body, 'running');
        return cert;
      });

      const firstKey = readFileSync(keyFile, 'utf8');
      await withService(config, { adminPassword: ADMIN_PASSWORD }, async (service) => {
        assert.equal(readFileSync(certFile, 'utf8'), firstCert, 'the same certificate is reused');
        assert.equal(readFileSync(keyFile, 'utf8'), firstKey, 'the same key is reused');
        assert.equal(statSync(keyFile).mode & 0o777, 0o600);
        // The pinned certificate from the first start still works.
        const status = await call(service, { path: '/status/v1/simple' }, firstCert);
        assert.equal(status.status, 200);
        assert.equal(status.body, 'running');
      });
    });
  });

  test('HTTPS refuses a client that does not trust the certificate, and plain HTTP gets no answer', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      await withService(configFor(workspace), { adminPassword: ADMIN_PASSWORD }, async (service) => {
        // No `ca`: the system roots do not include our self-signed certificate.
        await assert.rejects(
          new Promise((resolve, reject) => {
            const port = (service.app.server.address() as AddressInfo).port;
            https.get({ hostname: 'localhost', family: 4, port, path: '/status/v1/simple', agent: false }, resolve).on('error', reject);
          }),
          /self[- ]signed|unable to verify|certificate/i,
        );
        // Speaking plain HTTP to the HTTPS port gets no HTTP 200.
        const plain = await call(service, { path: '/status/v1/simple' }).catch((error: Error) => error);
        assert.ok(plain instanceof Error || plain.status !== 200, 'plain HTTP is not served on the HTTPS port');
      });
    });
  });

  test('admin logs in over HTTPS and uses the token with X-Authentication', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      await withService(configFor(workspace), { adminPassword: ADMIN_PASSWORD, announce: failOnAnnounce }, async (service) => {
        const ca = readFileSync(service.certPath as string, 'utf8');
        const token = await adminToken(service, ADMIN_PASSWORD, ca);
        const current = await call(service, { path: '/rbac-api/v1/users/current', token }, ca);
        assert.equal(current.status, 200, current.body);
        const user = JSON.parse(current.body) as { login: string; is_superuser: boolean; is_revoked: boolean };
        assert.equal(user.login, 'admin');
        assert.equal(user.is_superuser, true);
        assert.equal(user.is_revoked, false);

        const wrong = await login(service, 'not the admin password', ca);
        assert.equal(wrong.status, 401, 'only the RBAC_ADMIN_PASSWORD logs in');
        const anonymous = await call(service, { path: '/rbac-api/v1/users/current' }, ca);
        assert.equal(anonymous.status, 401);
      });
    });
  });

  test('without RBAC_ADMIN_PASSWORD a generated password is announced exactly once, on the first start, and logs in', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      const config = configFor(workspace);
      const firstAnnouncements: string[] = [];
      const logLines: string[] = [];
      const logger = createLogger('info', { write: (line: string) => void logLines.push(line) });

      const generated = await withService(config, { logger, announce: (message) => firstAnnouncements.push(message) }, async (service) => {
        assert.equal(firstAnnouncements.length, 1, 'announced exactly once');
        const password = passwordIn(firstAnnouncements[0] as string);
        assert.ok(password.length >= config.passwordMinimumLength, 'the generated password meets the policy length');
        const ca = readFileSync(service.certPath as string, 'utf8');
        const token = await adminToken(service, password, ca);
        const current = await call(service, { path: '/rbac-api/v1/users/current', token }, ca);
        assert.equal(current.status, 200);
        assert.equal((JSON.parse(current.body) as { login: string }).login, 'admin');
        return password;
      });
      assert.ok(logLines.length > 0, 'the capturing logger saw the start-up');
      assert.ok(!logLines.join('').includes(generated), 'the generated password is announced, never logged');

      const secondAnnouncements: string[] = [];
      await withService(config, { announce: (message) => secondAnnouncements.push(message) }, async (service) => {
        assert.deepEqual(secondAnnouncements, [], 'nothing is announced on the second start');
        const ca = readFileSync(service.certPath as string, 'utf8');
        await adminToken(service, generated, ca);
      });
    });
  });

  test("the generated password's announcement gives a reset-admin-password command that reaches this database (--config on PostgreSQL)", async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      // The service started from a config file, as docs/operations.md's systemd unit does.
      const configFile = path.join(workspace.dataDir, 'rbac.json');
      const settings = { 'data-dir': workspace.dataDir, ...(workspace.databaseUrl ? { 'database-url': workspace.databaseUrl } : {}), 'insecure-http': true, port: 0, 'metrics-port': 0, 'log-level': 'silent' };
      writeFileSync(configFile, JSON.stringify({ rbac: settings }));
      const announcements: string[] = [];
      await withService(loadConfig({ configFile, env: {} }), { announce: (message) => announcements.push(message) }, async (service) => {
        const [announcement = ''] = announcements;
        const command = /^\s+rbac (reset-admin-password .*)$/m.exec(announcement)?.[1];
        assert.ok(command, `the announcement names the command: ${announcement}`);
        if (workspace.databaseUrl) assert.match(command, /--config <file>/, 'on PostgreSQL only the settings the service was given reach its database');
        else assert.doesNotMatch(command, /--config/);
        assert.match(announcement, new RegExp(`npm run rbac -- ${command.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), 'and how to run it in a checkout');
        const args = command.replace('<file>', configFile).split(' ');
        const reset = await runCli([...args, '--password-stdin'], { input: 'a recovered superuser passphrase\n' });
        assert.equal(reset.code, 0, reset.stderr);
        await adminToken(service, 'a recovered superuser passphrase');
      });
    });
  });

  test('each first start generates a different admin password', async () => {
    const generated: string[] = [];
    // One workspace after the other (not nested): see dropSchema().
    for (let round = 0; round < 2; round++) {
      await withWorkspace(target.dialect, async (workspace) => {
        const announced: string[] = [];
        await withService(configFor(workspace, { insecureHttp: true }), { announce: (message) => announced.push(message) }, async (service) => {
          assert.equal(announced.length, 1);
          const password = passwordIn(announced[0] as string);
          await adminToken(service, password);
          generated.push(password);
        });
      });
    }
    assert.equal(generated.length, 2);
    assert.notEqual(generated[0], generated[1]);
  });

  test('RBAC_ADMIN_PASSWORD is the admin password on the first start; later starts do not change it', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      const config = configFor(workspace, { insecureHttp: true });
      await withService(config, { adminPassword: ADMIN_PASSWORD, announce: failOnAnnounce }, async (service) => {
        await adminToken(service, ADMIN_PASSWORD);
      });
      await withService(config, { adminPassword: 'a different long passphrase', announce: failOnAnnounce }, async (service) => {
        await adminToken(service, ADMIN_PASSWORD);
        assert.equal((await login(service, 'a different long passphrase')).status, 401);
      });
    });
  });

  test('an RBAC_ADMIN_PASSWORD that breaks the password policy stops the first start', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      await assert.rejects(startService(configFor(workspace, { insecureHttp: true }), { logger: silent, adminPassword: 'short', announce: failOnAnnounce }));
    });
  });

  test('--insecure-http without --host serves plain HTTP on 127.0.0.1 only', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      await withService(configFor(workspace, { insecureHttp: true }), { adminPassword: ADMIN_PASSWORD }, async (service) => {
        const address = service.app.server.address() as AddressInfo;
        assert.equal(address.address, '127.0.0.1');
        assert.match(service.url, /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.equal(service.url, `http://127.0.0.1:${address.port}`);
        assert.equal(service.certPath, undefined);
        const status = await call(service, { path: '/status/v1/simple' });
        assert.equal(status.status, 200);
        assert.equal(status.body, 'running');
        const token = await adminToken(service, ADMIN_PASSWORD);
        assert.equal((await call(service, { path: '/rbac-api/v1/users/current', token })).status, 200);
      });
    });
  });

  test('--insecure-http with --host binds where --host says', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      await withService(configFor(workspace, { insecureHttp: true, host: '0.0.0.0' }), { adminPassword: ADMIN_PASSWORD }, async (service) => {
        assert.equal((service.app.server.address() as AddressInfo).address, '0.0.0.0');
        assert.equal((await call(service, { path: '/status/v1/simple' })).body, 'running');
      });
    });
  });

  test('migrations are applied at start; the second start applies none and keeps the users', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      const config = configFor(workspace);
      type Applied = { name: string; timestamp: unknown };
      const migrationRows = async (service: RunningService) =>
        (await sql<Applied>`select name, timestamp from kysely_migration order by name`.execute(service.store.db)).rows.map((row) => ({
          name: row.name,
          timestamp: String(row.timestamp),
        }));
      const migratedMessages = (lines: string[]) =>
        lines.map((line) => JSON.parse(line) as { msg: string; migrations?: string[] }).filter((entry) => entry.msg === 'database migrated');

      const firstLog: string[] = [];
      const first = await withService(
        config,
        { adminPassword: ADMIN_PASSWORD, logger: createLogger('info', { write: (line: string) => void firstLog.push(line) }) },
        async (service) => {
          const applied = await migrationRows(service);
          assert.ok(applied.length > 0, 'the schema is versioned by migrations');
          const logged = migratedMessages(firstLog);
          assert.equal(logged.length, 1, 'the first start reports the migrations it applied');
          assert.deepEqual(logged[0]?.migrations, applied.map((row) => row.name));

          const ca = readFileSync(service.certPath as string, 'utf8');
          const token = await adminToken(service, ADMIN_PASSWORD, ca);
          const created = await call(
            service,
            {
              method: 'POST',
              path: '/rbac-api/v1/users',
              token,
              json: { login: 'kept-user', email: 'kept@example.com', display_name: 'Kept', password: USER_PASSWORD },
            },
            ca,
          );
          assert.equal(created.status, 201, created.body);
          const admin = JSON.parse((await call(service, { path: '/rbac-api/v1/users/current', token }, ca)).body) as { id: string };
          return { applied, adminId: admin.id, keptId: (JSON.parse(created.body) as { id: string }).id };
        },
      );

      const secondLog: string[] = [];
      await withService(
        config,
        { adminPassword: ADMIN_PASSWORD, announce: failOnAnnounce, logger: createLogger('info', { write: (line: string) => void secondLog.push(line) }) },
        async (service) => {
          assert.deepEqual(await migrationRows(service), first.applied, 'no migration ran again');
          assert.equal(migratedMessages(secondLog).length, 0, 'the second start applies no migration');

          const ca = readFileSync(service.certPath as string, 'utf8');
          const token = await adminToken(service, ADMIN_PASSWORD, ca);
          const users = JSON.parse((await call(service, { path: '/rbac-api/v1/users', token }, ca)).body) as { id: string; login: string }[];
          assert.ok(users.some((user) => user.id === first.keptId && user.login === 'kept-user'), 'the user created before the restart is still there');
          const admins = users.filter((user) => user.login === 'admin');
          assert.deepEqual(
            admins.map((user) => user.id),
            [first.adminId],
            'admin is the same single user',
          );
          const kept = await call(service, { method: 'POST', path: '/rbac-api/v1/auth/token', json: { login: 'kept-user', password: USER_PASSWORD } }, ca);
          assert.equal(kept.status, 200, 'the kept user still logs in with the password set before the restart');
        },
      );
    });
  });
});

describe('PostgreSQL: services in two schemas of one database', { skip: POSTGRES.skip }, () => {
  test(
    'a second schema gets its own migrations even while another schema of the database has them',
    async () => {
      const first = await freshWorkspace('postgres');
      const second = await freshWorkspace('postgres');
      try {
        await withService(configFor(first, { insecureHttp: true }), { adminPassword: ADMIN_PASSWORD }, async () => {});
        await withService(configFor(second, { insecureHttp: true }), { adminPassword: ADMIN_PASSWORD }, async (service) => {
          await adminToken(service, ADMIN_PASSWORD);
        });
      } finally {
        for (const workspace of [first, second]) await workspace.cleanup();
      }
    },
  );
});

describe('the rbac CLI (subprocess)', () => {
  // Serve would run forever on success; these must exit at once, within a patient bound.
  const runServe = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { env, timeoutMs: 60_000 });

  test('serve with --failed-attempts-lockout abc exits with code 2, names the key and starts nothing', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'rbac-cli-test-'));
    try {
      const result = await runServe(['serve', '--failed-attempts-lockout', 'abc', '--data-dir', dataDir]);
      assert.equal(result.code, 2, `exit code (stderr: ${result.stderr})`);
      assert.match(result.stderr, /failed-attempts-lockout/);
      assert.deepEqual(readdirSync(dataDir), [], 'no database or certificate was created');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('serve with a bad RBAC_* environment variable exits with code 2 and names the key', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'rbac-cli-test-'));
    try {
      const result = await runServe(['serve', '--data-dir', dataDir], { RBAC_TOKEN_AUTH_LIFETIME: 'forever' });
      assert.equal(result.code, 2, `exit code (stderr: ${result.stderr})`);
      assert.match(result.stderr, /token-auth-lifetime/);
      assert.deepEqual(readdirSync(dataDir), []);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
