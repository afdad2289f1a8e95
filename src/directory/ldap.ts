// Talking to an LDAP directory: a connection per test, logins reusing theirs
// (src/directory/connection-pool.ts), TLS that fails closed, and
// search filters built from filter objects, so a login is always a value
// (RFC 4515 escaping) and never filter syntax.

import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { checkServerIdentity, getCiphers, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import { AndFilter, Client, EqualityFilter, type Filter, InvalidCredentialsError, OrFilter, ResultCodeError } from 'ldapts';
import { loginKey } from '../logins.js';
import { readableReason } from './failure-reasons.js';
import type { DirectorySettings } from '../shapes.js';

/** Where talking to the directory failed: the answer names it, never the password. */
export type DirectoryStage = 'connect' | 'tls' | 'lookup-bind' | 'search';

/**
 * The directory could not be asked: unreachable, too slow, TLS refused, or
 * the lookup account refused. The message names the stage in words only: the
 * system's and the library's text (`reason`) tells a closed port from an open
 * one that is not LDAP, so it is for the service log and for those trusted
 * with it (docs/decisions.md, "Connection tests").
 */
export class DirectoryUnavailable extends Error {
  constructor(
    readonly stage: DirectoryStage,
    override readonly cause: unknown,
    /** Whether the connection was to be upgraded with StartTLS (what a failure at TLS then means). */
    private readonly startTls = false,
  ) {
    super(STAGE_DESCRIPTION[stage]);
    this.name = 'DirectoryUnavailable';
  }

  /** What the system, the TLS stack or the directory said, in words with what to check (src/directory/failure-reasons.ts). */
  get reason(): string {
    return readableReason(this.stage, this.cause, this.startTls);
  }
}

const STAGE_DESCRIPTION: Record<DirectoryStage, string> = {
  connect: 'could not connect to the directory (host, port, firewall or connect_timeout)',
  tls: 'could not set up TLS with the directory (its certificate was refused, or it does not speak TLS there)',
  'lookup-bind': 'the directory refused the lookup account (its DN or password)',
  search: 'the directory could not search base_dn (the DN, or the lookup account\'s access to it)',
};

/** A directory's settings and its lookup account's password: what a session needs. */
export interface DirectoryAccess {
  settings: DirectorySettings;
  bindPassword: string | null;
}

export interface DirectoryUser {
  dn: string;
  /** The login as the directory spells it: the user_lookup_attr value the login matched. */
  login: string;
  email: string;
  displayName: string;
  /** The entry's stable id as `<attribute>:<value>`, which survives a move; null when the directory gives none (ENTRY_ID_ATTRIBUTES). */
  entryId: string | null;
}

export interface DirectoryGroup {
  dn: string;
  /** The group's group_lookup_attr value: what an imported group's login matches. */
  lookup: string;
  name: string;
}

/** The most levels of groups inside groups followed, and the most groups collected, for one user. */
const MAX_NESTING = 16;
const MAX_GROUPS = 1000;

function isTlsError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || /CERT|SELF_SIGNED|UNABLE_TO|DEPTH_ZERO/.test(code))) return true;
  // A server that refuses the handshake (no cipher suite or version in common) may just hang up: Node says so in these words.
  return error instanceof Error && error.message.includes('before secure TLS connection was established');
}

// The socket never reached the directory: whatever was asked of it next, this is the connect stage.
const CONNECT_ERROR_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT']);
function isConnectError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (typeof code === 'string' && CONNECT_ERROR_CODES.has(code)) || (error instanceof Error && error.message === 'Connection timeout');
}

/**
 * The server-identity check PE's two switches ask for. Without hostname
 * validation any certificate from a trusted CA is taken (the chain is always
 * checked). Without wildcard validation a certificate that names the host
 * only through a wildcard is refused.
 */
function identityCheck(settings: DirectorySettings) {
  return (host: string, certificate: PeerCertificate): Error | undefined => {
    if (!settings.ssl_hostname_validation) return undefined;
    const mismatch = checkServerIdentity(host, certificate);
    if (mismatch || settings.ssl_wildcard_validation) return mismatch;
    const names = (certificate.subjectaltname ?? '').split(',').map((name) => name.trim());
    const exact = names.some((name) => name.toLowerCase() === `dns:${host.toLowerCase()}` || name === `IP Address:${host}`);
    return exact ? undefined : new Error(`The certificate names ${host} only through a wildcard, and ssl_wildcard_validation is off.`);
  };
}

export function tlsOptionsFor(settings: DirectorySettings): ConnectionOptions {
  // PE's ssl-protocols (TLSv1.2, TLSv1.3): the range they span; unset, TLS 1.2 and up.
  const protocols = [...(settings['ssl-protocols'] ?? [])].sort();
  const suites = settings['cipher-suites'];
  return {
    // null: Node's bundled CAs.
    ...(settings.cert_chain ? { ca: settings.cert_chain } : {}),
    ...(isIP(settings.hostname) ? {} : { servername: settings.hostname }),
    rejectUnauthorized: true,
    minVersion: protocols[0] ?? 'TLSv1.2',
    ...(protocols.length > 0 ? { maxVersion: protocols[protocols.length - 1] } : {}),
    ...(suites ? { ciphers: suites.map((suite) => opensslCipherName(suite) ?? suite).join(':') } : {}),
    checkServerIdentity: identityCheck(settings),
  };
}

/** The suites Node's OpenSSL offers, by their OpenSSL names (TLS 1.3's are IANA's too), upper case. */
const OPENSSL_SUITES = new Set(getCiphers().map((name) => name.toUpperCase()));

// IANA's name of a TLS 1.2 suite (what PE, a Java service, lists) in
// OpenSSL's spelling: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 is
// ECDHE-RSA-AES128-GCM-SHA256; a CBC suite names its MAC alone, ChaCha20 none.
const IANA_TLS12 = /^TLS_(?:(ECDHE_ECDSA|ECDHE_RSA|DHE_RSA)|RSA)_WITH_(AES_128|AES_256|CHACHA20)_(GCM|CBC|POLY1305)_(SHA|SHA256|SHA384)$/;

/** A cipher suite, given by its OpenSSL or its IANA name, in OpenSSL's name; undefined when OpenSSL has no such suite. */
export function opensslCipherName(name: string): string | undefined {
  const upper = name.toUpperCase();
  if (OPENSSL_SUITES.has(upper)) return upper;
  const parts = IANA_TLS12.exec(upper);
  if (!parts) return undefined;
  const [, exchange, cipher, mode, mac] = parts as unknown as [string, string | undefined, string, string, string];
  const body = [exchange?.replace('_', '-'), cipher.replace('_', ''), mode === 'GCM' ? `GCM-${mac}` : mode === 'CBC' ? mac : 'POLY1305'];
  const converted = body.filter((part) => part !== undefined).join('-');
  return OPENSSL_SUITES.has(converted) ? converted : undefined;
}

/** The certificates of a PEM chain, or a message saying why it is not one. */
export function parseCertificateChain(pem: string): { count: number } | { error: string } {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return { error: 'cert_chain holds no PEM certificate (-----BEGIN CERTIFICATE-----).' };
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch {
      return { error: 'cert_chain holds a certificate that cannot be read.' };
    }
  }
  return { count: blocks.length };
}

function valuesOf(entry: Record<string, unknown>, attribute: string): (string | Buffer)[] {
  // Attribute names compare without case; servers may answer in their own spelling.
  const key = Object.keys(entry).find((name) => name.toLowerCase() === attribute.toLowerCase());
  const value = key === undefined ? undefined : entry[key];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]) as (string | Buffer)[];
}

const text = (value: string | Buffer) => (Buffer.isBuffer(value) ? value.toString('utf8') : String(value));

function firstValue(entry: Record<string, unknown>, attribute: string): string | undefined {
  const [first] = valuesOf(entry, attribute);
  return first === undefined ? undefined : text(first);
}

/**
 * Attributes that name an entry for good, whatever its DN: RFC 4530's
 * entryUUID (OpenLDAP, 389 Directory Server, OpenDJ), Active Directory's
 * objectGUID (binary), 389 Directory Server's older nsUniqueId. The first one
 * the directory answers is the entry's id.
 */
const ENTRY_ID_ATTRIBUTES = ['entryUUID', 'objectGUID', 'nsUniqueId'];
const BINARY_ATTRIBUTES = ['objectGUID'];

function entryIdOf(entry: Record<string, unknown>): string | null {
  for (const attribute of ENTRY_ID_ATTRIBUTES) {
    const [value] = valuesOf(entry, attribute);
    const id = value === undefined ? '' : Buffer.isBuffer(value) ? value.toString('hex') : String(value).toLowerCase();
    if (id !== '') return `${attribute}:${id}`;
  }
  return null;
}

/** A value as LDAP's caseIgnoreMatch compares it, near enough: NFKC, no case, spaces insignificant at the ends and in runs. */
const matchKey = (value: string) => value.normalize('NFKC').toLowerCase().trim().replace(/\s+/g, ' ');

/**
 * The value of a (possibly multi-valued) lookup attribute that `login`
 * matched: the one spelled as the login (case aside), else the one equal to
 * it the way the directory compares. Undefined when none is: the entry is
 * not tied to this login by any value, so it does not log in as anyone.
 */
function matchedValue(entry: Record<string, unknown>, attribute: string, login: string): string | undefined {
  const values = valuesOf(entry, attribute).map(text);
  const key = loginKey(login);
  return values.find((value) => loginKey(value) === key) ?? values.find((value) => matchKey(value) === matchKey(login));
}

const under = (rdn: string | null, baseDn: string) => (rdn ? `${rdn},${baseDn}` : baseDn);

/** One conversation with a directory: connected, upgraded to TLS where asked, bound as the lookup account. */
export class DirectorySession {
  /** False once a user's password was tried on this connection: it is bound as that user, or as no one. */
  private boundAsLookupAccount = true;

  private constructor(
    private readonly client: Client,
    private readonly access: DirectoryAccess,
  ) {}

  static async open(access: DirectoryAccess): Promise<DirectorySession> {
    const { settings } = access;
    const timeoutMs = settings.connect_timeout * 1000;
    const host = isIP(settings.hostname) === 6 ? `[${settings.hostname}]` : settings.hostname;
    let client: Client;
    try {
      client = new Client({
        url: `${settings.ssl ? 'ldaps' : 'ldap'}://${host}:${settings.port}`,
        timeout: timeoutMs,
        connectTimeout: timeoutMs,
        ...(settings.ssl ? { tlsOptions: tlsOptionsFor(settings) } : {}),
      });
    } catch (error) {
      // A host name the URL parser refuses: the directory cannot be asked, as with one that does not answer.
      throw new DirectoryUnavailable('connect', error);
    }
    const session = new DirectorySession(client, access);
    try {
      if (settings.start_tls) await session.startTls();
      await session.bindLookupAccount();
      return session;
    } catch (error) {
      await session.close();
      if (error instanceof DirectoryUnavailable) throw error;
      throw new DirectoryUnavailable(isTlsError(error) ? 'tls' : 'connect', error);
    }
  }

  /**
   * The StartTLS upgrade (ldapts connects first). Once connected, any failure
   * is a TLS problem: the directory refused StartTLS (a plain port that does
   * not offer it), hung up (an LDAPS port spoken to in plain), or the
   * handshake failed.
   */
  private async startTls(): Promise<void> {
    try {
      await this.client.startTLS(tlsOptionsFor(this.access.settings));
    } catch (error) {
      throw new DirectoryUnavailable(isConnectError(error) ? 'connect' : 'tls', error, true);
    }
  }

  private async bindLookupAccount(): Promise<void> {
    const { settings, bindPassword } = this.access;
    // No lookup account: searches run anonymously.
    if (!settings.login) return;
    this.refuseReconnect();
    try {
      await this.client.bind(settings.login, bindPassword ?? '');
      this.boundAsLookupAccount = true;
    } catch (error) {
      // Any failure is the directory's, wherever the bind runs (a new
      // connection, after a password check, a pooled connection taken again):
      // never an error the login would answer with a 500.
      if (error instanceof ResultCodeError) throw new DirectoryUnavailable('lookup-bind', error);
      throw new DirectoryUnavailable(isTlsError(error) ? 'tls' : 'connect', error);
    }
  }

  /**
   * Whether another login may use this connection (src/directory/connection-pool.ts):
   * still open — the client would otherwise reconnect by itself, unbound and
   * without StartTLS — and bound as the lookup account, or able to bind as it
   * again. A connection without a lookup account that bound as a user stays
   * that user's: it is not reused.
   */
  get reusable(): boolean {
    if (!this.access.settings.login) return this.boundAsLookupAccount && this.client.isConnected;
    return this.client.isConnected && (this.boundAsLookupAccount ? this.client.isBound : true);
  }

  /** Binds as the lookup account again where a password check left the connection bound otherwise. */
  async restoreLookupBinding(): Promise<void> {
    if (!this.boundAsLookupAccount) await this.bindLookupAccount();
  }

  /** Whether this session's connection has been open (ldapts connects at the first operation). */
  private hasConnected = false;

  /**
   * A connection the directory closed is never used again: ldapts would open
   * a new one by itself at the next operation, unbound and without StartTLS,
   * and send a user's password over it in the clear. Checked synchronously
   * right before each operation on an established session, so no close can
   * land between the check and the write.
   */
  private refuseReconnect(): void {
    if (this.client.isConnected) this.hasConnected = true;
    const upgraded = (this.client as unknown as { startTLSUpgraded?: boolean }).startTLSUpgraded === true;
    if ((this.hasConnected && !this.client.isConnected) || (this.hasConnected && this.access.settings.start_tls && !upgraded)) {
      throw new DirectoryUnavailable('connect', new Error('the directory closed the connection'));
    }
  }

  private async search(base: string, filter: Filter, attributes: string[], sizeLimit: number) {
    this.refuseReconnect();
    try {
      return (await this.client.search(base, { scope: 'sub', filter, attributes, sizeLimit, explicitBufferAttributes: BINARY_ATTRIBUTES })).searchEntries;
    } catch (error) {
      throw new DirectoryUnavailable(isTlsError(error) ? 'tls' : 'search', error);
    }
  }

  /** Checks that the base DN can be read: what a connection test does after connecting and binding. */
  async readBase(): Promise<void> {
    try {
      await this.client.search(this.access.settings.base_dn, { scope: 'base', attributes: ['1.1'], sizeLimit: 1 });
    } catch (error) {
      throw new DirectoryUnavailable('search', error);
    }
  }

  /**
   * The one user whose lookup attribute is `login`; undefined when none is,
   * or more than one is. Its login is the value the login matched: an entry
   * with several values (uid: bob2, uid: mallory) logs in as the one asked
   * for, never simply the first.
   */
  async findUser(login: string): Promise<DirectoryUser | undefined> {
    const { settings } = this.access;
    const entries = await this.search(
      under(settings.user_rdn, settings.base_dn),
      new EqualityFilter({ attribute: settings.user_lookup_attr, value: login }),
      [settings.user_lookup_attr, settings.user_email_attr, settings.user_display_name_attr, ...ENTRY_ID_ATTRIBUTES],
      2,
    );
    // Two entries for one login: no way to tell which is meant, so neither logs in.
    if (entries.length !== 1) return undefined;
    const [entry] = entries as [Record<string, unknown> & { dn: string }];
    const matched = matchedValue(entry, settings.user_lookup_attr, login);
    if (matched === undefined) return undefined;
    return {
      dn: entry.dn,
      login: matched,
      email: firstValue(entry, settings.user_email_attr) ?? '',
      displayName: firstValue(entry, settings.user_display_name_attr) ?? '',
      entryId: entryIdOf(entry),
    };
  }

  /**
   * Whether `password` is the password of the entry `dn`: a bind as it. The
   * session binds back as the lookup account afterwards. An empty password
   * is never tried: to LDAP it is an unauthenticated bind, which succeeds.
   */
  async checkPassword(dn: string, password: string): Promise<boolean> {
    if (password.length === 0) return false;
    this.refuseReconnect();
    this.boundAsLookupAccount = false;
    try {
      await this.client.bind(dn, password);
    } catch (error) {
      if (error instanceof InvalidCredentialsError) return false;
      throw new DirectoryUnavailable(isTlsError(error) ? 'tls' : 'connect', error);
    }
    await this.bindLookupAccount();
    return true;
  }

  /** The groups `dn` is a member of, and with search_nested_groups the groups those are members of, and so on. */
  async groupsOf(dn: string): Promise<DirectoryGroup[]> {
    const { settings } = this.access;
    const found = new Map<string, DirectoryGroup>();
    let members = [dn];
    for (let level = 0; level < MAX_NESTING && members.length > 0 && found.size < MAX_GROUPS; level++) {
      const filter = new AndFilter({
        filters: [
          new EqualityFilter({ attribute: 'objectClass', value: settings.group_object_class }),
          new OrFilter({ filters: members.map((member) => new EqualityFilter({ attribute: settings.group_member_attr, value: member })) }),
        ],
      });
      const entries = await this.search(under(settings.group_rdn, settings.base_dn), filter, [settings.group_lookup_attr, settings.group_name_attr], MAX_GROUPS);
      members = [];
      for (const entry of entries as (Record<string, unknown> & { dn: string })[]) {
        const key = entry.dn.toLowerCase();
        if (found.has(key)) continue;
        const lookup = firstValue(entry, settings.group_lookup_attr);
        if (lookup === undefined) continue;
        found.set(key, { dn: entry.dn, lookup, name: firstValue(entry, settings.group_name_attr) ?? lookup });
        members.push(entry.dn);
      }
      if (!settings.search_nested_groups) break;
    }
    return [...found.values()];
  }

  /** The group whose lookup attribute is `lookup`, if the directory has exactly one. */
  async findGroup(lookup: string): Promise<DirectoryGroup | undefined> {
    const { settings } = this.access;
    const filter = new AndFilter({
      filters: [new EqualityFilter({ attribute: 'objectClass', value: settings.group_object_class }), new EqualityFilter({ attribute: settings.group_lookup_attr, value: lookup })],
    });
    const entries = await this.search(under(settings.group_rdn, settings.base_dn), filter, [settings.group_lookup_attr, settings.group_name_attr], 2);
    if (entries.length !== 1) return undefined;
    const [entry] = entries as [Record<string, unknown> & { dn: string }];
    return { dn: entry.dn, lookup: firstValue(entry, settings.group_lookup_attr) ?? lookup, name: firstValue(entry, settings.group_name_attr) ?? lookup };
  }

  async close(): Promise<void> {
    await this.client.unbind().catch(() => {});
  }
}

/** Runs `work` in a session that is closed afterwards, however `work` ends. */
export async function withDirectory<T>(access: DirectoryAccess, work: (session: DirectorySession) => Promise<T>): Promise<T> {
  const session = await DirectorySession.open(access);
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}
