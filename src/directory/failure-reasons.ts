// Why talking to a directory failed, in words an operator can act on:
// ldapts says `Code: 0x31` for a refused bind and Node says `Client network
// socket disconnected before secure TLS connection was established` for
// LDAPS against a plain LDAP port. The reason keeps the directory's or the
// system's own code (49, ECONNREFUSED), so it can still be looked up, and
// adds what to check. Only superusers and the operator at the server read it
// (src/directory/directories.ts); others get the stage in words.

import { ResultCodeError } from 'ldapts';
import type { DirectoryStage } from './ldap.js';

/** The stage as people say it: connect, TLS, bind, search. */
export const STAGE_NAME: Record<DirectoryStage, string> = {
  connect: 'connect',
  tls: 'TLS',
  'lookup-bind': 'bind',
  search: 'search',
};

/** What to check for the LDAP result codes a connection test meets; others get their name alone. */
const RESULT_CODE_HINTS: Record<number, { words: string; check?: Partial<Record<DirectoryStage, string>> }> = {
  2: { words: 'protocol error', check: { tls: 'the directory does not offer StartTLS on this port: use its LDAPS port with ssl instead, or turn start_tls off' } },
  8: { words: 'stronger authentication required', check: { 'lookup-bind': 'the directory wants TLS before a bind: set ssl or start_tls' } },
  13: { words: 'confidentiality required', check: { 'lookup-bind': 'the directory wants TLS before a bind: set ssl or start_tls' } },
  32: { words: 'no such object', check: { search: 'check base_dn: the directory has no entry with that DN' } },
  34: { words: 'invalid DN syntax', check: { 'lookup-bind': "check the lookup account's login: it must be a DN such as cn=reader,dc=example,dc=com", search: 'check base_dn' } },
  48: { words: 'inappropriate authentication', check: { 'lookup-bind': "check the lookup account's login and password (an empty password is not allowed here)" } },
  49: { words: 'invalid credentials', check: { 'lookup-bind': "check the lookup account's login and password" } },
  50: { words: 'insufficient access rights', check: { search: 'the lookup account may not read base_dn: check its access in the directory' } },
  51: { words: 'busy' },
  52: { words: 'unavailable', check: { tls: 'the directory does not offer StartTLS here (no TLS certificate configured?): use its LDAPS port with ssl, or turn start_tls off' } },
  53: { words: 'unwilling to perform', check: { 'lookup-bind': 'the directory refuses this bind (an anonymous or unauthenticated bind, or a disabled account)' } },
};

/** `InvalidCredentialsError` → `invalid credentials`. */
function wordsOfClass(name: string): string {
  return name
    .replace(/Error$/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
}

/** What the system said, by its error code, with what to check. */
const SYSTEM_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused: nothing listens at that host and port; check hostname and port',
  ENOTFOUND: 'the host name is not known: check hostname',
  EAI_AGAIN: 'the host name could not be looked up now: check hostname and DNS',
  EHOSTUNREACH: 'the host cannot be reached: check hostname, the network and firewalls',
  ENETUNREACH: 'the network cannot be reached: check hostname, the network and firewalls',
  ETIMEDOUT: 'no answer in time: check hostname, port, firewalls and connect_timeout',
  ECONNRESET: 'the directory closed the connection',
  EPIPE: 'the directory closed the connection',
};

// Node's codes for a certificate the TLS check refused.
const CERTIFICATE_CODES = /^(UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|CERT_|ERR_TLS_CERT)/;

const USE_THE_LDAPS_PORT = 'ssl needs the LDAPS port, usually 636; on a plain port use start_tls instead';
const TLS_ON_PLAIN_PORT = `the directory hung up during the TLS handshake: this is probably a plain LDAP port (${USE_THE_LDAPS_PORT}), or no TLS version or cipher suite is in common (ssl-protocols, cipher-suites)`;
const PLAIN_ON_TLS_PORT = 'the directory hung up at StartTLS: this is probably an LDAPS port, which expects TLS from the first byte: set ssl instead of start_tls, or use the plain LDAP port (usually 389)';

/** The reason a stage failed, in words, ending with the system's or the directory's own text. */
export function readableReason(stage: DirectoryStage, cause: unknown, startTls: boolean): string {
  if (cause instanceof ResultCodeError) {
    const known = RESULT_CODE_HINTS[cause.code];
    const words = known?.words ?? wordsOfClass(cause.constructor.name);
    const check = known?.check?.[stage];
    // ldapts's message is the directory's diagnostic text followed by ` Code: 0x31`.
    const said = cause.message.replace(/\s*Code: 0x[0-9a-f]+\s*$/i, '').trim();
    return `${words} (${cause.code})${check ? `: ${check}` : ''}${said ? `; the directory said: ${said}` : ''}`;
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  const code = (cause as { code?: unknown } | null)?.code;
  if (stage === 'tls') {
    if (typeof code === 'string' && CERTIFICATE_CODES.test(code)) {
      return `the directory's certificate was refused: check cert_chain (the CA that signed it) and that the certificate names hostname (${message})`;
    }
    if (/wrong version number|packet length too long|unknown protocol/i.test(message)) return `the directory does not speak TLS on this port: it is a plain LDAP port (${USE_THE_LDAPS_PORT}) (${message})`;
    if (/before secure TLS connection was established/.test(message)) return `${TLS_ON_PLAIN_PORT} (${message})`;
    if (startTls && /closed/i.test(message)) return `${PLAIN_ON_TLS_PORT} (${message})`;
  }
  if (/^Connection timeout$/i.test(message)) return `no connection within connect_timeout: check hostname, port and firewalls (${message})`;
  const system = typeof code === 'string' ? SYSTEM_ERRORS[code] : undefined;
  return system ? `${system} (${message})` : message;
}
