// The TLS identity rules of src/directory/ldap.ts, on the test certificates:
// ssl_hostname_validation and ssl_wildcard_validation as PE names them, and
// cert_chain parsing. (Connections with a right and a wrong CA run against a
// real slapd in directory-login.test.ts.)

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { PeerCertificate } from 'node:tls';
import { test } from 'node:test';
import { parseCertificateChain, tlsOptionsFor } from '../../src/directory/ldap.js';
import { settingsFrom } from '../../src/directory/directories.js';
import { LDAP_FIXTURES, PE_DIRECTORY_ATTRIBUTES } from '../kit/slapd.js';

const pem = (name: string) => readFileSync(path.join(LDAP_FIXTURES, name), 'utf8');
const peer = (name: string) => new X509Certificate(pem(name)).toLegacyObject() as PeerCertificate;

const settings = (overrides: Record<string, unknown>) =>
  settingsFrom(
    {
      display_name: 'd',
      hostname: 'ldap.localtest.me',
      port: 636,
      ssl: true,
      base_dn: 'dc=example,dc=test',
      ...PE_DIRECTORY_ATTRIBUTES,
      ...overrides,
    },
    '00000000-0000-4000-8000-000000000001',
  );
const check = (overrides: Record<string, unknown>, host: string, certificate: string) => tlsOptionsFor(settings(overrides)).checkServerIdentity?.(host, peer(certificate));

test('a certificate that names the host only through a wildcard: refused by default, taken with ssl_wildcard_validation', () => {
  assert.match(String(check({}, 'ldap.localtest.me', 'wildcard-server.pem')), /only through a wildcard/);
  assert.equal(check({ ssl_wildcard_validation: true }, 'ldap.localtest.me', 'wildcard-server.pem'), undefined);
});

test('a certificate for another host is refused, wildcard or not; with ssl_hostname_validation off the name is not checked', () => {
  assert.ok(check({ ssl_wildcard_validation: true }, 'ldap.example.org', 'wildcard-server.pem') instanceof Error);
  assert.ok(check({}, 'ldap.example.org', 'server.pem') instanceof Error);
  assert.equal(check({ ssl_hostname_validation: false }, 'ldap.example.org', 'server.pem'), undefined);
});

test('a certificate that names the host exactly is taken: a DNS name and an IP address', () => {
  assert.equal(check({}, 'localhost', 'server.pem'), undefined);
  assert.equal(check({}, '127.0.0.1', 'server.pem'), undefined);
});

test('the CA chain: the given PEM is trusted instead of the system CAs; a host name is sent as SNI, an address is not', () => {
  const options = tlsOptionsFor(settings({ cert_chain: pem('ca.pem') }));
  assert.equal(options.ca, pem('ca.pem'));
  assert.equal(options.rejectUnauthorized, true);
  assert.equal(options.servername, 'ldap.localtest.me');
  assert.equal(tlsOptionsFor(settings({ hostname: '127.0.0.1' })).servername, undefined);
  assert.equal(tlsOptionsFor(settings({})).ca, undefined);
});

test('cert_chain parsing: certificates count, anything else is refused with a reason', () => {
  assert.deepEqual(parseCertificateChain(pem('ca.pem') + pem('other-ca.pem')), { count: 2 });
  assert.match((parseCertificateChain('hello') as { error: string }).error, /no PEM certificate/);
  assert.match((parseCertificateChain('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----') as { error: string }).error, /cannot be read/);
});

test("PE's cipher-suites and ssl-protocols: applied to the TLS options, in OpenSSL's names or IANA's (PE's Java spelling); unset keeps TLS 1.2 and up with Node's ciphers", () => {
  const options = tlsOptionsFor(settings({ 'cipher-suites': ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'TLS_AES_256_GCM_SHA384'], 'ssl-protocols': ['TLSv1.2'] }));
  assert.equal(options.ciphers, 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:TLS_AES_256_GCM_SHA384');
  assert.deepEqual([options.minVersion, options.maxVersion], ['TLSv1.2', 'TLSv1.2']);
  const only13 = tlsOptionsFor(settings({ 'ssl-protocols': ['TLSv1.3'] }));
  assert.deepEqual([only13.minVersion, only13.maxVersion, only13.ciphers], ['TLSv1.3', 'TLSv1.3', undefined]);
  const unset = tlsOptionsFor(settings({}));
  assert.deepEqual([unset.minVersion, unset.maxVersion, unset.ciphers], ['TLSv1.2', undefined, undefined]);
  const given = settings({});
  assert.deepEqual([given['cipher-suites'], given['ssl-protocols']], [null, null]);
});

test('a cipher suite OpenSSL does not know is refused with its name; TLS below 1.2 is not offered', () => {
  assert.throws(() => settings({ 'cipher-suites': ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'NOT_A_SUITE'] }), (error: unknown) => {
    assert.match((error as Error).message, /NOT_A_SUITE/);
    assert.deepEqual((error as { details?: unknown }).details, { field: 'cipher-suites' });
    return true;
  });
  assert.throws(() => settings({ 'cipher-suites': ['TLS_ECDHE_RSA_WITH_RC4_128_SHA'] }), /TLS_ECDHE_RSA_WITH_RC4_128_SHA/);
});
