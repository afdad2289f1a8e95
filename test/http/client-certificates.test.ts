// Certificate-allowlist authentication (CONTRACT §12) over real TLS: the
// service started as in production with client-ca and certificate-allowlist,
// clients presenting certificates made at test time (test/kit/certificates.ts),
// on SQLite and PostgreSQL.

import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, defaultConfig, loadConfig, type Config } from '../../src/config/config.js';
import { createLogger } from '../../src/http/logging.js';
import { startService, type RunningService } from '../../src/server.js';
import { API_USER_ID } from '../../src/users/api-user.js';
import { API, callPort, tokenOver, type Reply } from '../kit/api.js';
import { testCertificates, type KeyAndCertificate } from '../kit/certificates.js';
import { describeEachDatabase, withWorkspace, type Workspace } from '../kit/databases.js';
import { expectExit } from '../cli/support.js';
import { runCli } from '../kit/processes.js';
import { ADMIN_PASSWORD } from '../kit/service.js';

const certificates = await testCertificates();

interface Running {
  service: RunningService;
  allowlistFile: string;
  /** One request, trusting the service's certificate, presenting `client` when given. */
  call(options: { method?: string; path: string; json?: unknown; token?: string; client?: KeyAndCertificate }): Promise<Reply>;
}

function configFor(workspace: Workspace, overrides: Partial<Config> = {}): Config {
  return defaultConfig({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl, port: 0, metricsPort: 0, logLevel: 'silent', ...overrides });
}

/** The service with client-ca and certificate-allowlist (holding `allowlist`), for `body`; always closed. */
async function withCertificateService(workspace: Workspace, allowlist: string, body: (running: Running) => Promise<void>, settings: { clientCertificates?: boolean } = {}): Promise<void> {
  const caFile = path.join(workspace.dataDir, 'puppet-ca.pem');
  const allowlistFile = path.join(workspace.dataDir, 'certificate-allowlist');
  writeFileSync(caFile, certificates.ca.cert);
  writeFileSync(allowlistFile, allowlist);
  const config = configFor(workspace, settings.clientCertificates === false ? {} : { clientCa: caFile, certificateAllowlist: allowlistFile });
  const service = await startService(config, { logger: createLogger('silent'), adminPassword: ADMIN_PASSWORD });
  try {
    const ca = readFileSync(service.certPath as string, 'utf8');
    const port = (service.app.server.address() as AddressInfo).port;
    await body({
      service,
      allowlistFile,
      call: ({ client, ...options }) => callPort(port, { ...options, ca, clientCertificate: client }),
    });
  } finally {
    await service.close();
  }
}

const kindOf = (reply: Reply) => (JSON.parse(reply.body) as { kind: string }).kind;

describeEachDatabase('client certificates on the allowlist', (target) => {
  test('an allowlisted certificate acts as api_user: who it is, a superuser write, the status and activity routes', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      await withCertificateService(workspace, '# PE services\nnode1.example.com\n', async ({ call }) => {
        const current = await call({ path: `${API}/users/current`, client: certificates.allowlisted });
        assert.equal(current.status, 200, current.body);
        const me = JSON.parse(current.body) as { id: string; login: string; is_superuser: boolean; display_name: string };
        assert.deepEqual([me.id, me.login, me.is_superuser, me.display_name], [API_USER_ID, 'api_user', true, 'API User']);

        const role = await call({ method: 'POST', path: `${API}/roles`, client: certificates.allowlisted, json: { display_name: 'Made by a node', description: '', permissions: [{ object_type: 'nodes', action: 'view_data', instance: '*' }], user_ids: [], group_ids: [] } });
        assert.ok([200, 201, 303].includes(role.status), `POST /roles: ${role.status} ${role.body}`);

        const roles = await call({ path: `${API}/roles`, client: certificates.allowlisted });
        assert.ok((JSON.parse(roles.body) as { display_name: string }[]).some((listed) => listed.display_name === 'Made by a node'), 'the role was made');

        const services = await call({ path: '/status/v1/services', client: certificates.allowlisted });
        assert.equal(services.status, 200, `status: ${services.body}`);
        const activity = await call({ path: '/activity-api/v1/events?service_id=classifier', client: certificates.allowlisted });
        assert.equal(activity.status, 200, `activity: ${activity.body}`);
      });
    });
  });

  test('a certificate not on the allowlist, signed by another CA, or expired authenticates nobody (401), and a token sent with it is used as usual', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      await withCertificateService(workspace, 'node1.example.com\n', async ({ call, service }) => {
        for (const [name, client] of [
          ['unlisted', certificates.unlisted],
          ['signed by another CA', certificates.otherCa],
          ['expired', certificates.expired],
          ['none', undefined],
        ] as const) {
          const reply = await call({ path: `${API}/users/current`, client });
          assert.equal(reply.status, 401, `${name}: ${reply.body}`);
          assert.equal(kindOf(reply), 'user-unauthenticated', name);
        }
        const port = (service.app.server.address() as AddressInfo).port;
        const token = await tokenOver(port, 'admin', ADMIN_PASSWORD, readFileSync(service.certPath as string, 'utf8'));
        for (const client of [certificates.unlisted, certificates.otherCa, certificates.expired]) {
          const reply = await call({ path: `${API}/users/current`, client, token });
          assert.equal(reply.status, 200, reply.body);
          assert.equal((JSON.parse(reply.body) as { login: string }).login, 'admin');
        }
        // A token decides even beside an allowlisted certificate: a service may forward its user's token.
        const forwarded = await call({ path: `${API}/users/current`, client: certificates.allowlisted, token });
        assert.equal((JSON.parse(forwarded.body) as { login: string }).login, 'admin');
      });
    });
  });

  test('a DNS name in the subjectAltName counts as the certname', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      await withCertificateService(workspace, 'console.example.com  # the console\n', async ({ call }) => {
        const reply = await call({ path: `${API}/users/current`, client: certificates.dnsName });
        assert.equal(reply.status, 200, reply.body);
        assert.equal((JSON.parse(reply.body) as { login: string }).login, 'api_user');
      });
    });
  });

  test('the allowlist is re-read when it changes, without a restart: a name added by renaming a new file over it works, one removed stops', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      await withCertificateService(workspace, '# nobody yet\n', async ({ call, allowlistFile }) => {
        const before = await call({ path: `${API}/users/current`, client: certificates.allowlisted });
        assert.equal(before.status, 401, 'not on the list yet');

        writeFileSync(`${allowlistFile}.new`, 'Node1.Example.com\n');
        renameSync(`${allowlistFile}.new`, allowlistFile);
        const added = await call({ path: `${API}/users/current`, client: certificates.allowlisted });
        assert.equal(added.status, 200, `added (certnames ignore case): ${added.body}`);

        writeFileSync(allowlistFile, '# node1.example.com was here\nstranger.example.com\n');
        const removed = await call({ path: `${API}/users/current`, client: certificates.allowlisted });
        assert.equal(removed.status, 401, 'removed in place');
        const other = await call({ path: `${API}/users/current`, client: certificates.unlisted });
        assert.equal(other.status, 200, 'the name added in the same edit works');
      });
    });
  });

  test('POST /tokens refuses a certificate (401): api_user gets no login tokens; a token still gets one', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      await withCertificateService(workspace, 'node1.example.com\n', async ({ call, service }) => {
        const refused = await call({ method: 'POST', path: `${API}/tokens`, client: certificates.allowlisted, json: {} });
        assert.equal(refused.status, 401, refused.body);
        assert.equal(kindOf(refused), 'user-unauthenticated');
        const live = await service.store.db.selectFrom('login_tokens').select('token_hash').where('user_id', '=', API_USER_ID).execute();
        assert.deepEqual(live, [], 'no token was made for api_user');

        const port = (service.app.server.address() as AddressInfo).port;
        const token = await tokenOver(port, 'admin', ADMIN_PASSWORD, readFileSync(service.certPath as string, 'utf8'));
        const issued = await call({ method: 'POST', path: `${API}/tokens`, client: certificates.allowlisted, token, json: {} });
        assert.equal(issued.status, 200, issued.body);
      });
    });
  });

  test('audit events name the certname: a user created with a certificate is recorded as made by api_user through node1.example.com', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      await withCertificateService(workspace, 'node1.example.com\n', async ({ call }) => {
        const created = await call({ method: 'POST', path: `${API}/users`, client: certificates.allowlisted, json: { login: 'made-by-node', email: '', display_name: 'Made by node', role_ids: [], password: null } });
        assert.ok([200, 201, 303].includes(created.status), `${created.status} ${created.body}`);
        const events = await call({ path: `${API}/events`, client: certificates.allowlisted });
        assert.equal(events.status, 200, events.body);
        const listed = (JSON.parse(events.body) as { events: { type: string; actor: unknown; subject: { login: string } | null }[] }).events;
        const event = listed.find((candidate) => candidate.type === 'user-created' && candidate.subject?.login === 'made-by-node');
        assert.deepEqual(event?.actor, { id: API_USER_ID, login: 'api_user', certname: 'node1.example.com' });
      });
    });
  });

  test('without client-ca and certificate-allowlist no certificate is asked for: an allowlisted one authenticates nobody, tokens work', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      await withCertificateService(
        workspace,
        'node1.example.com\n',
        async ({ call, service }) => {
          const reply = await call({ path: `${API}/users/current`, client: certificates.allowlisted });
          assert.equal(reply.status, 401, reply.body);
          const port = (service.app.server.address() as AddressInfo).port;
          const token = await tokenOver(port, 'admin', ADMIN_PASSWORD, readFileSync(service.certPath as string, 'utf8'));
          assert.equal((await call({ path: `${API}/users/current`, token })).status, 200);
        },
        { clientCertificates: false },
      );
    });
  });
});

describeEachDatabase('rbac allowlist with the service running', (target) => {
  test('`rbac allowlist add` lets the certificate in on the next request, `remove` shuts it out, without a restart', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      await withCertificateService(workspace, '# nobody yet\n', async ({ call, allowlistFile }) => {
        const settings = ['--certificate-allowlist', allowlistFile, '--client-ca', path.join(workspace.dataDir, 'puppet-ca.pem')];
        assert.equal((await call({ path: `${API}/users/current`, client: certificates.allowlisted })).status, 401);
        expectExit(await runCli(['allowlist', 'add', 'node1.example.com', ...settings]), 0, 'allowlist add');
        assert.equal((await call({ path: `${API}/users/current`, client: certificates.allowlisted })).status, 200, 'added');
        expectExit(await runCli(['allowlist', 'remove', 'node1.example.com', ...settings]), 0, 'allowlist remove');
        assert.equal((await call({ path: `${API}/users/current`, client: certificates.allowlisted })).status, 401, 'removed');
      });
    });
  });
});

describe('client-ca and certificate-allowlist settings', () => {
  const refusal = (run: () => unknown, key: string) =>
    assert.throws(run, (error: unknown) => error instanceof ConfigError && error.key === key && error.message.includes(`"${key}"`), key);

  test('they are set together, and only with HTTPS; a bad value names its key', () => {
    refusal(() => loadConfig({ env: { RBAC_CLIENT_CA: '/etc/puppetlabs/puppet/ssl/certs/ca.pem' } }), 'certificate-allowlist');
    refusal(() => loadConfig({ env: { RBAC_CERTIFICATE_ALLOWLIST: '/etc/rbac/allowlist' } }), 'client-ca');
    refusal(() => loadConfig({ flags: { 'client-ca': 'ca.pem', 'certificate-allowlist': 'allowlist', 'insecure-http': true }, env: {} }), 'client-ca');
    const config = loadConfig({ flags: { 'client-ca': 'ca.pem', 'certificate-allowlist': 'allowlist' }, env: {} });
    assert.deepEqual([config.clientCa, config.certificateAllowlist], ['ca.pem', 'allowlist']);
  });

  test('a client-ca file with no certificate, or an allowlist that cannot be read, stops the start naming the setting', async () => {
    await withWorkspace('sqlite', async (workspace) => {
      const notCertificates = path.join(workspace.dataDir, 'not-a-ca.pem');
      const allowlist = path.join(workspace.dataDir, 'allowlist');
      writeFileSync(notCertificates, 'hello\n');
      writeFileSync(allowlist, 'node1.example.com\n');
      const start = (overrides: Partial<Config>) => startService(configFor(workspace, overrides), { logger: createLogger('silent'), adminPassword: ADMIN_PASSWORD });
      await assert.rejects(start({ clientCa: notCertificates, certificateAllowlist: allowlist }), (error: unknown) => error instanceof ConfigError && error.key === 'client-ca');
      const ca = path.join(workspace.dataDir, 'ca.pem');
      writeFileSync(ca, certificates.ca.cert);
      await assert.rejects(start({ clientCa: ca, certificateAllowlist: path.join(workspace.dataDir, 'missing') }), (error: unknown) => error instanceof ConfigError && error.key === 'certificate-allowlist');
    });
  });
});
