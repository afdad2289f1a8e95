// A second instance of the service standing in for a running PE (CONTRACT
// §16's tests): PE's kinds of data — local, remote and revoked users, roles
// with PE's permission types (ids with a gap, as a long-lived PE has), a
// directory group, directory settings with a bind password, a disclaimer —
// served over HTTPS with the instance's self-signed certificate.

import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { listDirectories } from '../../src/directory/directories.js';
import { currentDisclaimer } from '../../src/disclaimer/disclaimer.js';
import { listGroups } from '../../src/groups/groups.js';
import { buildApp } from '../../src/http/app.js';
import { createLogger } from '../../src/http/logging.js';
import { listRoles } from '../../src/roles/roles.js';
import { loadOrCreateCertificate } from '../../src/tls/certificate.js';
import { listUsers } from '../../src/users/users.js';
import { startTestService, type TestService } from './service.js';
import { suiteLogStream } from './suite-log.js';
import { PE_DIRECTORY_ATTRIBUTES } from './slapd.js';

const V1 = '/rbac-api/v1';
export const BIND_PASSWORD = 'the-bind-password-pe-never-gives-out';
export const DIRECTORY = {
  display_name: 'Corporate LDAP',
  hostname: 'ldap.example.test',
  port: 636,
  ssl: true,
  login: 'cn=reader,dc=example,dc=test',
  password: BIND_PASSWORD,
  base_dn: 'dc=example,dc=test',
  user_rdn: 'ou=people',
  ...PE_DIRECTORY_ATTRIBUTES,
};
export const HELPDESK_PERMISSIONS = [{ object_type: 'users', action: 'reset_password', instance: '*' }];
export const DEPLOYER_PERMISSIONS = [
  { object_type: 'environment', action: 'deploy_code', instance: 'production' },
  { object_type: 'node_groups', action: 'view', instance: '*' },
  { object_type: 'console_page', action: 'view', instance: '*' },
];

/** The stand-in for PE: an instance with PE's kinds of data, listening on HTTPS with its self-signed certificate. */
export interface PeStandIn {
  service: TestService;
  https: FastifyInstance;
  url: string;
  ca: string;
  certPath: string;
  token: string;
  ids: { alice: string; carol: string; dave: string; helpdesk: number; deployers: number; group: string; directory: string };
  close(): Promise<void>;
}

export async function startPeStandIn(): Promise<PeStandIn> {
  const service = await startTestService('sqlite');
  const token = await service.adminToken();
  const ok = async (method: 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) => {
    const response = await service.request({ method, url, token, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
    assert.ok(response.statusCode < 300, `${method} ${url}: ${response.statusCode} ${response.body}`);
    return response.statusCode === 204 ? undefined : (response.json() as Record<string, unknown>);
  };
  // Ids with gaps, as a long-lived PE has: a role made and deleted first, so the roles' ids are not the ones a fresh target would give.
  const gap = (await ok('POST', `${V1}/roles`, { display_name: 'Made and deleted', permissions: [] })) as { id: number };
  await ok('DELETE', `${V1}/roles/${gap.id}`);
  const helpdesk = ((await ok('POST', `${V1}/roles`, { display_name: 'Helpdesk', description: 'Resets passwords', permissions: HELPDESK_PERMISSIONS })) as { id: number }).id;
  const deployers = ((await ok('POST', `${V1}/roles`, { display_name: 'Deployers', description: 'Ships code', permissions: DEPLOYER_PERMISSIONS })) as { id: number }).id;
  const alice = await service.createUser('alice', { email: 'alice@example.test', display_name: 'Alice Liddell', role_ids: [helpdesk] });
  const carol = await service.createUser('carol', { email: 'carol@example.test', display_name: 'Carol', role_ids: [helpdesk, 3] });
  await ok('POST', `${V1}/command/users/revoke`, { user_id: carol });
  const dave = ((await ok('POST', `${V1}/users`, { login: 'dave', email: 'dave@example.test', display_name: 'Dave', is_remote: true, role_ids: [deployers], password: null })) as { id: string }).id;
  const directory = ((await ok('POST', `${V1}/command/ldap/create`, DIRECTORY)) as { id: string }).id;
  const group = ((await ok('POST', `${V1}/command/groups/create`, { login: 'operations', display_name: 'Operations', identity_provider_id: directory, role_ids: [deployers] })) as { id: string }).id;
  await ok('POST', `${V1}/command/config/set-disclaimer`, { disclaimer: 'Authorized use only.' });

  const tls = await loadOrCreateCertificate({ dataDir: service.workspace.dataDir });
  const https = await buildApp({ store: service.store, config: service.config, hasher: service.hasher, keys: service.keys, metrics: undefined, now: Date.now }, {
    // Its log goes with the suite's, searched for secrets at the end (the importer's token among them).
    logger: createLogger('debug', suiteLogStream()),
    https: { key: tls.key, cert: tls.cert },
  });
  await https.listen({ port: 0, host: '127.0.0.1' });
  const port = (https.server.address() as AddressInfo).port;
  return {
    service,
    https,
    url: `https://localhost:${port}`,
    ca: tls.cert,
    certPath: tls.certPath,
    token,
    ids: { alice, carol, dave, helpdesk, deployers, group, directory },
    async close() {
      await https.close();
      await service.close();
    },
  };
}

/** What an import could change in the target, read as the API reads it. */
export async function snapshot(service: TestService) {
  const db = service.store.db;
  const count = async (table: 'audit_events' | 'reset_tokens') => Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow()).n);
  return {
    users: await listUsers(db, null, {}),
    roles: await listRoles(db),
    groups: await listGroups(db),
    directories: await listDirectories(db, null),
    disclaimer: await currentDisclaimer(db),
    events: await count('audit_events'),
    resetTokens: await count('reset_tokens'),
  };
}

