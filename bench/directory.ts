// What a directory user's login costs beside a local user's: POST /auth/token
// for directory users over LDAPS (a real slapd from test/kit/slapd.ts, on
// this machine) against local users, on one service per database, under
// the same load; and what one connection to the directory costs (connect,
// TLS, bind as the lookup account, one read: GET /ds/test's `elapsed`) —
// what a connection pool could save a login at most.

import { randomBytes } from 'node:crypto';
import { mapLimit } from '../test/kit/concurrency.js';
import { ADMIN_PASSWORD } from '../test/kit/passwords.js';
import { DIRECTORY_USERS, directorySettingsFor, startSlapd } from '../test/kit/slapd.js';
import { type Connection, type LoadResult, expectClean, load, perConnection } from './lib/load.js';
import { type Dialect, type Settings, createUser, login, PASSWORD_A, startService } from './ours.js';

export interface DirectoryLoginResults {
  local: LoadResult;
  directory: LoadResult;
  /** Median milliseconds of one connection test (connect, TLS, lookup bind, one read), measured alone. */
  connectionMs: number;
}

export type DirectoryLoginSettings = Pick<Settings, 'hashConnections' | 'seconds' | 'warmupSeconds'>;

const json = { 'content-type': 'application/json' };
const DIRECTORY_LOGINS = Object.values(DIRECTORY_USERS);

export async function runDirectoryLogins(dialect: Dialect, settings: DirectoryLoginSettings, log: (line: string) => void): Promise<DirectoryLoginResults> {
  const { hashConnections: hc, seconds, warmupSeconds } = settings;
  const slapd = await startSlapd();
  const service = await startService(dialect, ['--failed-attempts-lockout', '1000000']);
  try {
    const url = service.url;
    const adminToken = await login(service, 'admin', ADMIN_PASSWORD);
    const created = await fetch(`${url}/rbac-api/v1/command/ldap/create`, {
      method: 'POST',
      headers: { ...json, 'x-authentication': adminToken },
      body: JSON.stringify(directorySettingsFor(slapd, { port: slapd.tlsPort, ssl: true, start_tls: undefined, cert_chain: slapd.caPem, search_nested_groups: true })),
    });
    if (!created.ok) throw new Error(`directory settings refused: ${created.status} ${await created.text()}`);

    const tests: number[] = [];
    for (let i = 0; i < 41; i++) {
      const tested = await fetch(`${url}/rbac-api/v1/ds/test`, { headers: { 'x-authentication': adminToken } });
      tests.push(((await tested.json()) as { elapsed: number }).elapsed);
    }
    const connectionMs = [...tests].sort((a, b) => a - b)[Math.floor(tests.length / 2)] as number;

    const tag = randomBytes(3).toString('hex');
    const locals = await mapLimit(Array.from({ length: hc }, (_, i) => `bench-${tag}-d${i}`), 4, async (name) => {
      await createUser(service, adminToken, name, PASSWORD_A);
      return name;
    });
    const run = async (name: string, connection: (i: number) => Connection) => {
      log(`  ${dialect}: ${name}`);
      const options = { url, connections: hc, ...perConnection(connection) };
      await load({ ...options, duration: warmupSeconds });
      return expectClean(name, await load({ ...options, duration: seconds }));
    };
    const loggingIn = (credentials: (i: number) => { login: string; password: string }) => (i: number): Connection => {
      const body = JSON.stringify(credentials(i));
      return { next: () => ({ method: 'POST', path: '/rbac-api/v1/auth/token', headers: json, body }) };
    };
    const local = await run('POST /auth/token, local users', loggingIn((i) => ({ login: locals[i % hc]!, password: PASSWORD_A })));
    const directory = await run(
      'POST /auth/token, directory users over LDAPS',
      loggingIn((i) => {
        const user = DIRECTORY_LOGINS[i % DIRECTORY_LOGINS.length]!;
        return { login: user.login, password: user.password };
      }),
    );
    return { local, directory, connectionMs };
  } finally {
    await service.stop();
    await slapd.stop();
  }
}

export function renderDirectoryLogins(results: Record<Dialect, DirectoryLoginResults>, settings: DirectoryLoginSettings): string[] {
  const lines = [
    '## Directory logins',
    '',
    `POST /auth/token for directory users (LDAPS to a slapd on this machine, on pooled connections already bound as the lookup account: search, the user's bind, the lookup bind again, the group searches with nesting) beside local users, ${settings.hashConnections} connections, ` +
      `${settings.warmupSeconds} s warm-up, then ${settings.seconds} s each. A successful directory login spends no hash here (the directory checks the password); only a failed one spends a decoy hash, so that its timing matches a local wrong password's. ` +
      '"one connection" is the median of GET /ds/test (a new connection: connect, TLS, lookup bind, one read) measured alone: what the pool saves a login.',
    '',
    '| DB | local logins/s | directory logins/s | directory / local | p99 ms (local, directory) | one connection, ms |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const [dialect, result] of Object.entries(results) as [Dialect, DirectoryLoginResults][]) {
    lines.push(
      `| ${dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'} | ${result.local.rps.toFixed(1)} | ${result.directory.rps.toFixed(1)} | ${(result.directory.rps / result.local.rps).toFixed(2)} | ${result.local.p99.toFixed(0)}, ${result.directory.p99.toFixed(0)} | ${result.connectionMs} |`,
    );
  }
  lines.push('');
  return lines;
}
