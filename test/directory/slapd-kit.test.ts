// The throwaway OpenLDAP server of test/kit/slapd.ts, checked with the
// OpenLDAP command-line clients (ldapsearch, ldapwhoami): the fixture
// directory is loaded, the reader and the users can bind, anonymous sees
// nothing, and LDAPS and StartTLS work with the test CA and fail with another.
// Without slapd the suite fails (never skips): CI installs it in .ci/run.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { DIRECTORY_USERS, LDAP_FIXTURES, slapdAvailable, startSlapd, type Slapd } from '../kit/slapd.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs an OpenLDAP client with only the TLS settings given (no ldap.conf or ldaprc from the machine). */
function ldapClient(command: 'ldapsearch' | 'ldapwhoami' | 'ldapmodify', args: string[], env: NodeJS.ProcessEnv = {}, input = ''): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      args,
      { env: { PATH: process.env.PATH, HOME: '/nonexistent', LDAPCONF: '/dev/null', LDAPRC: '/nonexistent', LDAPTLS_REQCERT: 'demand', ...env }, timeout: 15_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
  });
}

test('slapd and the OpenLDAP clients are installed (CI installs them in .ci/run)', () => {
  assert.ok(slapdAvailable, '/usr/sbin/slapd is missing: install slapd and ldap-utils (apt-get install slapd ldap-utils) to run the LDAP tests');
  assert.ok(existsSync('/usr/bin/ldapsearch') && existsSync('/usr/bin/ldapwhoami'), 'ldapsearch/ldapwhoami are missing: install ldap-utils');
});

describe('the throwaway slapd of the test kit', () => {
  let slapd: Slapd;
  before(async () => {
    slapd = await startSlapd();
  });
  after(async () => {
    await slapd?.stop();
  });

  const plain = () => `ldap://127.0.0.1:${slapd.port}`;
  const ldaps = () => `ldaps://127.0.0.1:${slapd.tlsPort}`;
  const search = (bind: string[], filter: string, ...attributes: string[]) =>
    ldapClient('ldapsearch', ['-x', '-LLL', '-H', plain(), ...bind, '-b', slapd.baseDn, filter, ...attributes]);

  test('the reader binds and finds alice by uid, with her name and mail but not her password', async () => {
    const run = await search(['-D', slapd.readerDn, '-w', slapd.readerPassword], '(uid=alice)');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^dn: uid=alice,ou=users,dc=example,dc=test$/m);
    assert.match(run.stdout, /^cn: Alice Liddell$/m);
    assert.match(run.stdout, /^mail: alice@example\.test$/m);
    assert.doesNotMatch(run.stdout, /userPassword/i);
  });

  test('the reader finds the user whose uid holds filter specials, by an escaped filter', async () => {
    const run = await search(['-D', slapd.readerDn, '-w', slapd.readerPassword], '(uid=star\\2aparen\\28)', 'mail');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^dn: uid=star\*paren\(,ou=users,dc=example,dc=test$/m);
    assert.match(run.stdout, /^mail: star@example\.test$/m);
  });

  test('the groups: developers holds alice and leads, leads holds carol', async () => {
    const run = await search(['-D', slapd.readerDn, '-w', slapd.readerPassword], '(cn=developers)', 'uniqueMember', 'description');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^description: Developers$/m);
    assert.match(run.stdout, /^uniqueMember: uid=alice,ou=users,dc=example,dc=test$/m);
    assert.match(run.stdout, /^uniqueMember: cn=leads,ou=groups,dc=example,dc=test$/m);
    const leads = await search(['-D', slapd.readerDn, '-w', slapd.readerPassword], `(uniqueMember=${DIRECTORY_USERS.carol.dn})`, 'cn');
    assert.deepEqual(leads.stdout.match(/^cn: .*$/gm), ['cn: leads']);
  });

  test('the reader may not modify', async () => {
    const change = `dn: ${DIRECTORY_USERS.alice.dn}\nchangetype: modify\nreplace: mail\nmail: mallory@example.test\n`;
    const run = await ldapClient('ldapmodify', ['-x', '-H', plain(), '-D', slapd.readerDn, '-w', slapd.readerPassword], {}, change);
    assert.equal(run.code, 50, run.stderr); // insufficientAccessRights
  });

  test('alice binds with her password and not with a wrong one', async () => {
    const alice = DIRECTORY_USERS.alice;
    const ok = await ldapClient('ldapwhoami', ['-x', '-H', plain(), '-D', alice.dn, '-w', alice.password]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), `dn:${alice.dn}`);
    const wrong = await ldapClient('ldapwhoami', ['-x', '-H', plain(), '-D', alice.dn, '-w', 'not-her-password']);
    assert.equal(wrong.code, 49, wrong.stderr); // invalidCredentials
  });

  test('every fixture user binds with the password the kit lists', async () => {
    for (const user of Object.values(DIRECTORY_USERS)) {
      const run = await ldapClient('ldapwhoami', ['-x', '-H', plain(), '-D', user.dn, '-w', user.password]);
      assert.equal(run.code, 0, `${user.login}: ${run.stderr}`);
    }
  });

  test('an anonymous search finds nothing', async () => {
    const run = await search([], '(objectClass=*)');
    assert.equal(run.stdout.trim(), '', run.stdout);
    const users = await search([], '(uid=alice)');
    assert.doesNotMatch(users.stdout, /alice/);
  });

  test('LDAPS works when trusting the test CA, and fails closed with another CA', async () => {
    const args = ['-x', '-H', ldaps(), '-D', slapd.readerDn, '-w', slapd.readerPassword];
    const ok = await ldapClient('ldapwhoami', args, { LDAPTLS_CACERT: path.join(LDAP_FIXTURES, 'ca.pem') });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), `dn:${slapd.readerDn}`);
    const other = await ldapClient('ldapwhoami', args, { LDAPTLS_CACERT: path.join(LDAP_FIXTURES, 'other-ca.pem') });
    assert.notEqual(other.code, 0, other.stdout);
    assert.equal(other.stdout.trim(), '');
  });

  test('StartTLS (-ZZ) on the plain port works with the test CA, and fails closed with another CA', async () => {
    const args = ['-x', '-ZZ', '-H', plain(), '-D', slapd.readerDn, '-w', slapd.readerPassword];
    const ok = await ldapClient('ldapwhoami', args, { LDAPTLS_CACERT: path.join(LDAP_FIXTURES, 'ca.pem') });
    assert.equal(ok.code, 0, ok.stderr);
    const other = await ldapClient('ldapwhoami', args, { LDAPTLS_CACERT: path.join(LDAP_FIXTURES, 'other-ca.pem') });
    assert.notEqual(other.code, 0, other.stdout);
    assert.equal(other.stdout.trim(), '');
  });

  test('pause() leaves a bind unanswered; resume() answers it', async () => {
    slapd.pause();
    const pending = ldapClient('ldapwhoami', ['-x', '-H', plain(), '-D', slapd.readerDn, '-w', slapd.readerPassword]);
    const first = await Promise.race([pending.then(() => 'answered'), new Promise((resolve) => setTimeout(() => resolve('waiting'), 500))]);
    slapd.resume();
    assert.equal(first, 'waiting');
    const run = await pending;
    assert.equal(run.code, 0, run.stderr);
  });
});

test('a wildcard-certificate slapd serves *.localtest.me over LDAPS, which 127.0.0.1 does not match', async () => {
  const slapd = await startSlapd({ certificate: 'wildcard' });
  try {
    const args = (host: string) => ['-x', '-H', `ldaps://${host}:${slapd.tlsPort}`, '-D', slapd.readerDn, '-w', slapd.readerPassword];
    const env = { LDAPTLS_CACERT: path.join(LDAP_FIXTURES, 'ca.pem') };
    const byAddress = await ldapClient('ldapwhoami', args('127.0.0.1'), env);
    assert.notEqual(byAddress.code, 0, 'the wildcard certificate has no IP name');
    // the certificate it serves, with the name the LDAP-login tests use (no DNS needed: connect to the address)
    const certificate = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: slapd.tlsPort, servername: 'ldap.localtest.me', ca: slapd.caPem }, () => {
        const names = socket.getPeerCertificate().subjectaltname ?? '';
        socket.destroy();
        resolve(names);
      });
      socket.on('error', reject);
    });
    assert.equal(certificate, 'DNS:*.localtest.me');
  } finally {
    await slapd.stop();
  }
});
