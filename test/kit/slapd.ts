// A real, throwaway OpenLDAP server (Debian's slapd) for the LDAP-login
// tests: each startSlapd() writes a slapd.conf into a fresh temporary
// directory, loads test/fixtures/ldap/directory.ldif with slapadd, and runs
// slapd in the foreground as a child process on two free ports of 127.0.0.1
// (plain LDAP with StartTLS, and LDAPS), with the test CA's server
// certificate. stop() kills it and removes the directory; a process 'exit'
// hook does the same for a test that forgets, and on Linux slapd is also
// killed when the test process dies (setpriv --pdeathsig).
//
// The directory (see test/fixtures/ldap/directory.ldif): users under
// ou=users (DIRECTORY_USERS), groups under ou=groups (groupOfUniqueNames,
// uniqueMember; developers = alice + the group leads, leads = carol,
// operators = bob, empty-ish = the reader only), the read-only service
// account cn=reader,ou=service and cn=limited-reader,ou=service, which may
// not read entryUUID. Anonymous binds may authenticate but see nothing;
// userPassword is readable by no one. asAdmin() binds as the root DN, for
// tests that change the directory.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client } from 'ldapts';

const SLAPD = '/usr/sbin/slapd';
const SLAPADD = '/usr/sbin/slapadd';
const SETPRIV = '/usr/bin/setpriv';
const SCHEMA_DIR = '/etc/ldap/schema';
const MODULE_DIR = '/usr/lib/ldap';
const READY_WITHIN_MS = 20_000;

/** The fixtures folder: directory.ldif and the test-only certificates. */
export const LDAP_FIXTURES = fileURLToPath(new URL('../fixtures/ldap/', import.meta.url));

/** Debian's slapd is installed here (apt-get install slapd ldap-utils). */
export const slapdAvailable: boolean = existsSync(SLAPD);

const BASE_DN = 'dc=example,dc=test';
const READER_DN = 'cn=reader,ou=service,dc=example,dc=test';
const READER_PASSWORD = 'reader-secret';
const LIMITED_READER_DN = 'cn=limited-reader,ou=service,dc=example,dc=test';
const LIMITED_READER_PASSWORD = 'limited-reader-secret';
const ADMIN_DN = `cn=admin,${BASE_DN}`;

/** The users of directory.ldif; each DN is uid=<login>,ou=users,dc=example,dc=test. */
export const DIRECTORY_USERS = {
  /** Group developers (directly). */
  alice: { login: 'alice', password: 'alice-directory-pw-1', email: 'alice@example.test', displayName: 'Alice Liddell', dn: 'uid=alice,ou=users,dc=example,dc=test' },
  /** Group operators. */
  bob: { login: 'bob', password: 'bob-directory-pw-1', email: 'bob@example.test', displayName: 'Bob Builder', dn: 'uid=bob,ou=users,dc=example,dc=test' },
  /** Group leads, and developers only through leads (nesting). */
  carol: { login: 'carol', password: 'carol-directory-pw-1', email: 'carol@example.test', displayName: 'Carol Danvers', dn: 'uid=carol,ou=users,dc=example,dc=test' },
  /** In no group. */
  dave: { login: 'dave', password: 'dave-directory-pw-1', email: 'dave@example.test', displayName: 'Dave Lister', dn: 'uid=dave,ou=users,dc=example,dc=test' },
  /** A uid with the LDAP filter specials * and ( (in a filter: star\2aparen\28); in no group. */
  star: { login: 'star*paren(', password: 'star-directory-pw-1', email: 'star@example.test', displayName: 'Star Paren', dn: 'uid=star*paren(,ou=users,dc=example,dc=test' },
  /** Two uid values, `bob2` listed first and `mallory`; in no group. */
  mallory: { login: 'mallory', otherLogin: 'bob2', password: 'mallory-directory-pw-1', email: 'mallory@example.test', displayName: 'Mallory Multi', dn: 'uid=mallory,ou=users,dc=example,dc=test' },
  /** In no group. */
  erin: { login: 'erin', password: 'erin-directory-pw-1', email: 'erin@example.test', displayName: 'Erin Editor', dn: 'uid=erin,ou=users,dc=example,dc=test' },
  /** In no group. */
  frank: { login: 'frank', password: 'frank-directory-pw-1', email: 'frank@example.test', displayName: 'Frank Admin', dn: 'uid=frank,ou=users,dc=example,dc=test' },
} as const;

/** The groups of directory.ldif: cn, description (display name), DN, direct uniqueMember DNs. */
export const DIRECTORY_GROUPS = {
  developers: { cn: 'developers', description: 'Developers', dn: 'cn=developers,ou=groups,dc=example,dc=test', members: [DIRECTORY_USERS.alice.dn, 'cn=leads,ou=groups,dc=example,dc=test'] },
  leads: { cn: 'leads', description: 'Team Leads', dn: 'cn=leads,ou=groups,dc=example,dc=test', members: [DIRECTORY_USERS.carol.dn] },
  operators: { cn: 'operators', description: 'Operators', dn: 'cn=operators,ou=groups,dc=example,dc=test', members: [DIRECTORY_USERS.bob.dn] },
  'empty-ish': { cn: 'empty-ish', description: 'Empty-ish', dn: 'cn=empty-ish,ou=groups,dc=example,dc=test', members: [READER_DN] },
} as const;

export interface Slapd {
  host: '127.0.0.1';
  /** Plain LDAP; StartTLS is available on it. */
  port: number;
  /** LDAPS. */
  tlsPort: number;
  baseDn: 'dc=example,dc=test';
  readerDn: string;
  readerPassword: string;
  /** A lookup account that may read all the reader may except entryUUID (a directory without stable entry ids). */
  limitedReaderDn: string;
  limitedReaderPassword: string;
  /** The test CA that signed the server certificate (PEM). */
  caPem: string;
  /** An unrelated CA (PEM): trusting only it must fail. */
  otherCaPem: string;
  /** Kills slapd and removes its directory. */
  stop(): Promise<void>;
  /** SIGSTOP to slapd: connections are accepted by the kernel but never answered. */
  pause(): void;
  /** SIGCONT to slapd. */
  resume(): void;
  /** Runs `work` with a client bound as the directory's root (rootdn): for tests that change the directory (move, delete, add entries). */
  asAdmin<T>(work: (client: Client) => Promise<T>): Promise<T>;
}

/** PE's attribute settings for a directory of people by uid and groupOfUniqueNames groups by cn: for settings of directories the tests never reach. */
export const PE_DIRECTORY_ATTRIBUTES = {
  user_lookup_attr: 'uid',
  user_email_attr: 'mail',
  user_display_name_attr: 'cn',
  group_object_class: 'groupOfUniqueNames',
  group_name_attr: 'cn',
  group_member_attr: 'uniqueMember',
  group_lookup_attr: 'cn',
};

/**
 * PE's directory settings for this server as the tests use it: plain LDAP
 * (StartTLS available), the reader as lookup account, users under ou=users
 * by uid, groups groupOfUniqueNames under ou=groups by cn, named by their
 * description. `overrides` replace or add fields (undefined leaves one out).
 */
export function directorySettingsFor(slapd: Slapd, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    display_name: 'Test directory',
    help_link: null,
    hostname: slapd.host,
    port: slapd.port,
    ssl: false,
    start_tls: false,
    login: slapd.readerDn,
    password: slapd.readerPassword,
    connect_timeout: 5,
    base_dn: slapd.baseDn,
    user_rdn: 'ou=users',
    user_lookup_attr: 'uid',
    user_email_attr: 'mail',
    user_display_name_attr: 'cn',
    group_rdn: 'ou=groups',
    group_object_class: 'groupOfUniqueNames',
    group_name_attr: 'description',
    group_member_attr: 'uniqueMember',
    group_lookup_attr: 'cn',
    search_nested_groups: false,
    ...overrides,
  };
}

export interface SlapdOptions {
  /** 'default': server.pem (localhost, 127.0.0.1); 'wildcard': wildcard-server.pem (only *.localtest.me). */
  certificate?: 'default' | 'wildcard';
}

const running = new Set<{ child: ChildProcess; dir: string }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const entry of running) {
      try {
        entry.child.kill('SIGKILL');
      } catch {
        // already gone
      }
      rmSync(entry.dir, { recursive: true, force: true });
    }
  });
}

/** Two distinct free ports of 127.0.0.1 (both held open while the second is chosen). */
async function twoFreePorts(): Promise<[number, number]> {
  const listen = () =>
    new Promise<Server>((resolve, reject) => {
      const server = createServer();
      server.on('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    });
  const servers = [await listen(), await listen()];
  const ports = servers.map((server) => {
    const address = server.address();
    return typeof address === 'object' && address ? address.port : 0;
  });
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  return [ports[0] ?? 0, ports[1] ?? 0];
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(1000, () => done(false));
  });
}

function slapdConf(dir: string, certificate: 'default' | 'wildcard', rootPassword: string): string {
  const cert = certificate === 'wildcard' ? 'wildcard-server' : 'server';
  const fixture = (name: string) => path.join(LDAP_FIXTURES, name);
  return [
    '# Generated by test/kit/slapd.ts for one throwaway test server.',
    ...['core', 'cosine', 'inetorgperson', 'nis'].map((schema) => `include ${SCHEMA_DIR}/${schema}.schema`),
    `modulepath ${MODULE_DIR}`,
    'moduleload back_mdb',
    `pidfile ${path.join(dir, 'slapd.pid')}`,
    `argsfile ${path.join(dir, 'slapd.args')}`,
    'loglevel none',
    `TLSCACertificateFile ${fixture('ca.pem')}`,
    `TLSCertificateFile ${fixture(`${cert}.pem`)}`,
    `TLSCertificateKeyFile ${fixture(`${cert}-key.pem`)}`,
    'TLSVerifyClient never',
    '',
    'database mdb',
    `suffix "${BASE_DN}"`,
    `rootdn "${ADMIN_DN}"`,
    `rootpw ${rootPassword}`,
    `directory ${path.join(dir, 'db')}`,
    'maxsize 16777216',
    'index objectClass eq',
    'index uid,cn,mail,uniqueMember eq',
    'access to attrs=userPassword',
    '  by self write',
    '  by anonymous auth',
    '  by * none',
    // The limited reader sees no stable entry id: a directory that gives none.
    'access to attrs=entryUUID',
    `  by dn.exact="${LIMITED_READER_DN}" none`,
    '  by users read',
    '  by * none',
    'access to *',
    `  by dn.exact="${READER_DN}" read`,
    '  by users read',
    '  by * none',
    '',
  ].join('\n');
}

/** Spawns slapd on the two ports and waits until both accept; rejects (with slapd's stderr) if it exits first or is too slow. */
async function launch(conf: string, port: number, tlsPort: number): Promise<{ child: ChildProcess; stderr: () => string }> {
  const slapdArgs = ['-f', conf, '-h', `ldap://127.0.0.1:${port}/ ldaps://127.0.0.1:${tlsPort}/`, '-d', '0'];
  // setpriv execs slapd (same pid), which the kernel then kills if this process dies.
  const [command, args] = process.platform === 'linux' && existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', SLAPD, ...slapdArgs]] : [SLAPD, slapdArgs];
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
    if (stderr.length > 100_000) stderr = stderr.slice(-50_000);
  });
  // Neither keeps the test process alive: one that forgets stop() still ends, and its exit hook kills slapd.
  child.unref();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  let spawnError: Error | undefined;
  child.on('error', (error) => (spawnError = error));
  const deadline = Date.now() + READY_WITHIN_MS;
  for (;;) {
    if (spawnError) throw new Error(`could not run ${SLAPD}: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`slapd exited (${child.exitCode ?? child.signalCode}) before listening on ${port} and ${tlsPort}; its stderr:\n${stderr}`);
    }
    if ((await accepts(port)) && (await accepts(tlsPort))) return { child, stderr: () => stderr };
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`slapd did not listen on 127.0.0.1:${port} and :${tlsPort} within ${READY_WITHIN_MS} ms; its stderr:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts a fresh slapd with the fixture directory. Throws, saying how to install it, when slapd is missing. */
export async function startSlapd(options: SlapdOptions = {}): Promise<Slapd> {
  if (!slapdAvailable) throw new Error(`${SLAPD} is missing: install it (apt-get install slapd ldap-utils); CI installs it in .ci/run.`);
  installExitHook();
  const dir = mkdtempSync(path.join(tmpdir(), 'rbac-slapd-'));
  const conf = path.join(dir, 'slapd.conf');
  try {
    mkdirSync(path.join(dir, 'db'));
    const rootPassword = randomBytes(18).toString('base64url');
    writeFileSync(conf, slapdConf(dir, options.certificate ?? 'default', rootPassword), { mode: 0o600 });
    const load = spawnSync(SLAPADD, ['-q', '-f', conf, '-l', path.join(LDAP_FIXTURES, 'directory.ldif')], { encoding: 'utf8', timeout: 30_000 });
    if (load.status !== 0) throw new Error(`slapadd failed (${load.status ?? load.signal ?? load.error?.message}):\n${load.stderr}`);

    // A port can be taken between choosing and binding it: a few tries with new ports.
    let started: Awaited<ReturnType<typeof launch>> | undefined;
    let ports: [number, number] = [0, 0];
    for (let attempt = 1; !started; attempt++) {
      ports = await twoFreePorts();
      try {
        started = await launch(conf, ...ports);
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
    const { child } = started;
    const entry = { child, dir };
    running.add(entry);
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    const signal = (name: NodeJS.Signals) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(name);
    };
    return {
      host: '127.0.0.1',
      port: ports[0],
      tlsPort: ports[1],
      baseDn: BASE_DN,
      readerDn: READER_DN,
      readerPassword: READER_PASSWORD,
      limitedReaderDn: LIMITED_READER_DN,
      limitedReaderPassword: LIMITED_READER_PASSWORD,
      caPem: readFileSync(path.join(LDAP_FIXTURES, 'ca.pem'), 'utf8'),
      otherCaPem: readFileSync(path.join(LDAP_FIXTURES, 'other-ca.pem'), 'utf8'),
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          signal('SIGCONT'); // a paused slapd cannot act on SIGTERM
          signal('SIGTERM');
          const timer = setTimeout(() => signal('SIGKILL'), 5_000);
          await exited;
          clearTimeout(timer);
        }
        running.delete(entry);
        rmSync(dir, { recursive: true, force: true });
      },
      pause: () => signal('SIGSTOP'),
      resume: () => signal('SIGCONT'),
      async asAdmin(work) {
        const client = new Client({ url: `ldap://127.0.0.1:${ports[0]}`, timeout: 10_000, connectTimeout: 10_000 });
        try {
          await client.bind(ADMIN_DN, rootPassword);
          return await work(client);
        } finally {
          await client.unbind().catch(() => {});
        }
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
