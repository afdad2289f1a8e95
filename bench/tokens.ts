// What checking a login token costs: an authenticated GET /users/current
// (the token looked up with its user, then the roles read) beside POST
// /rbac-api/v2/auth/token/authenticate, PE's introspection route (one
// statement: the token joined to its user, the role ids in a subquery), both
// without and with `update_last_activity?` (a conditional UPDATE on every
// call), on one service per database, under the same load.

import { randomBytes } from 'node:crypto';
import { mapLimit } from '../test/kit/concurrency.js';
import { ADMIN_PASSWORD } from '../test/kit/passwords.js';
import { type Connection, type LoadResult, expectClean, load, perConnection } from './lib/load.js';
import { type Dialect, type Settings, createUser, login, PASSWORD_A, startService } from './ours.js';

export interface TokenCheckResults {
  current: LoadResult;
  introspect: LoadResult;
  introspectUpdating: LoadResult;
}

export type TokenCheckSettings = Pick<Settings, 'fastConnections' | 'seconds' | 'warmupSeconds'>;

const json = { 'content-type': 'application/json' };

export async function runTokenChecks(dialect: Dialect, settings: TokenCheckSettings, log: (line: string) => void): Promise<TokenCheckResults> {
  const { fastConnections: fc, seconds, warmupSeconds } = settings;
  const service = await startService(dialect, ['--failed-attempts-lockout', '1000000']);
  try {
    const url = service.url;
    const adminToken = await login(service, 'admin', ADMIN_PASSWORD);
    const tag = randomBytes(3).toString('hex');
    const users = await mapLimit(Array.from({ length: fc }, (_, i) => `bench-${tag}-t${i}`), 4, async (name) => {
      await createUser(service, adminToken, name, PASSWORD_A);
      return name;
    });
    const tokens = await mapLimit(users, 4, (name) => login(service, name, PASSWORD_A));

    const run = async (name: string, connection: (i: number) => Connection) => {
      log(`  ${dialect}: ${name}`);
      const options = { url, connections: fc, ...perConnection(connection) };
      await load({ ...options, duration: warmupSeconds });
      return expectClean(name, await load({ ...options, duration: seconds }));
    };
    const current = await run('GET /users/current', (i) => {
      const headers = { 'x-authentication': tokens[i % fc]! };
      return { next: () => ({ method: 'GET', path: '/rbac-api/v1/users/current', headers }) };
    });
    const introspecting = (update: boolean) => (i: number): Connection => {
      const body = JSON.stringify({ token: tokens[i % fc], 'update_last_activity?': update });
      return { next: () => ({ method: 'POST', path: '/rbac-api/v2/auth/token/authenticate', headers: json, body }) };
    };
    const introspect = await run('POST /rbac-api/v2/auth/token/authenticate', introspecting(false));
    const introspectUpdating = await run('POST /rbac-api/v2/auth/token/authenticate (update_last_activity? true)', introspecting(true));
    return { current, introspect, introspectUpdating };
  } finally {
    await service.stop();
  }
}
