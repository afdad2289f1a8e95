// The stored bind password goes only where it was saved for (CONTRACT §11),
// on SQLite and PostgreSQL, against a real directory (test/kit/slapd.ts) and
// listeners of the test's own that record every connection and byte:
// - a test, update or PUT /ds that moves the directory (host, port, TLS mode,
//   CA chain, certificate checks, lookup account) without the password again
//   is 400, changes nothing and sends nothing; with the password it goes,
//   and the stored one never does;
// - every connection test is audited (actor, directory, host, port, outcome,
//   stage; never the password);
// - a failed test tells a non-superuser the stage in words only (a closed
//   port and an open port that is not LDAP answer alike), a superuser also
//   the reason, and the service log the reason with the directory's place.

import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import * as directories from '../../src/store/directories.js';
import { inTransaction } from '../../src/store/transaction.js';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { freePort } from '../kit/processes.js';
import { USER_PASSWORD, startTestService, type TestService } from '../kit/service.js';
import { DIRECTORY_USERS, directorySettingsFor, startSlapd, type Slapd } from '../kit/slapd.js';

const v1 = (path: string) => `/rbac-api/v1${path}`;
const v2 = (path: string) => `/rbac-api/v2${path}`;
const { alice } = DIRECTORY_USERS;

let slapd: Slapd;
before(async () => {
  slapd = await startSlapd();
});
after(() => slapd?.stop());

/** A TCP listener that records every connection and every byte sent to it; `reply` is what it answers to the first bytes before closing. */
interface Listener {
  port: number;
  connections: number;
  received(): string;
  close(): Promise<void>;
}

async function recordingListener(reply?: string): Promise<Listener> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const listener = { port: 0, connections: 0, received: () => Buffer.concat(chunks).toString('latin1'), close: () => closeServer(server, sockets) };
  const server: Server = createServer((socket) => {
    listener.connections++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      // Whatever arrived is recorded; the client is then cut off (no LDAP answer), so it does not wait for its timeout.
      if (reply) socket.end(reply);
      else socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  listener.port = typeof address === 'object' && address ? address.port : 0;
  return listener;
}

function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * A plain LDAP server that offers no StartTLS: it answers the first request
 * (the StartTLS extended request) with an ExtendedResponse carrying
 * protocolError (2), as a directory without TLS set up does.
 */
async function ldapWithoutStartTls(): Promise<Listener> {
  const sockets = new Set<Socket>();
  const listener = { port: 0, connections: 0, received: () => '', close: () => closeServer(server, sockets) };
  const der = (tag: number, body: Buffer) => Buffer.concat([Buffer.from([tag, body.length]), body]);
  const server: Server = createServer((socket) => {
    listener.connections++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.once('data', (request) => {
      // LDAPMessage ::= SEQUENCE { messageID INTEGER, protocolOp … }: short lengths, so the id is at a fixed place.
      const messageId = request.subarray(2, 2 + 2 + (request[3] ?? 1));
      const result = Buffer.concat([der(0x0a, Buffer.from([2])), der(0x04, Buffer.alloc(0)), der(0x04, Buffer.from('unsupported extended operation'))]);
      socket.write(der(0x30, Buffer.concat([messageId, der(0x78, result)])));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  listener.port = typeof address === 'object' && address ? address.port : 0;
  return listener;
}

interface TestedEvent {
  actor_login: string | null;
  details: { directory_id: string | null; hostname: string; port: number; outcome: string; stage: string | null };
}

describeEachDatabase('directory connection tests and the stored bind password', (target) => {
  let service: TestService;
  let admin: string;
  let editor: string;
  let directoryId: string;
  let listener: Listener;
  const logLines: string[] = [];

  before(async () => {
    const logStream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    });
    service = await startTestService(target.dialect, {}, { logStream });
    admin = await service.adminToken();
    // A directory administrator who is not a superuser: directory_service:edit only.
    const editorId = await service.createUser('ds-editor');
    const role = await call('POST', v1('/roles'), {
      display_name: 'Directory editors',
      permissions: [{ object_type: 'directory_service', action: 'edit', instance: '*' }],
      user_ids: [editorId],
      group_ids: [],
    });
    assert.equal(role.statusCode, 201, role.body);
    editor = await service.login('ds-editor', USER_PASSWORD);
    const created = await call('POST', v1('/command/ldap/create'), settings());
    assert.equal(created.statusCode, 200, created.body);
    directoryId = (created.json() as { id: string }).id;
    listener = await recordingListener();
  });
  after(async () => {
    await listener?.close();
    await service?.close();
  });

  function call(method: string, url: string, payload?: unknown, token: string = admin) {
    return service.request({ method: method as 'GET', url, token, ...(payload === undefined ? {} : { payload: payload as object }) });
  }
  /** The directory's settings as the tests store them (with the reader's password unless overridden). */
  const settings = (overrides: Record<string, unknown> = {}) => directorySettingsFor(slapd, overrides);
  /** The stored directory as a client sends it back: its id, no password. */
  const storedWith = (overrides: Record<string, unknown>) => ({ ...settings({ password: undefined }), id: directoryId, ...overrides });
  const stored = async () => (await call('GET', v2(`/ldap/${directoryId}`))).json() as Record<string, unknown>;
  const testedEvents = async (): Promise<TestedEvent[]> => {
    const rows = await service.store.db.selectFrom('audit_events').select(['actor_login', 'details']).where('type', '=', 'directory-tested').orderBy('id').execute();
    return rows.map((row) => ({ actor_login: row.actor_login, details: JSON.parse(row.details) as TestedEvent['details'] }));
  };

  describe('the stored password goes only where it was saved for', () => {
    test('a test with the stored directory id, another port and no password: 400 naming the password, and nothing reaches the other port', async () => {
      const connectionsBefore = listener.connections;
      for (const [token, who] of [
        [editor, 'a directory_service:edit holder'],
        [admin, 'a superuser'],
      ] as const) {
        const response = await call('POST', v1('/command/ldap/test'), storedWith({ port: listener.port }), token);
        const body = assertError(response, 400, 'schema-violation');
        assert.equal((body.details as { field: string }).field, 'password', who);
        assert.match(body.msg, /port/, who);
        assert.match(body.msg, /password/, who);
      }
      assert.equal(listener.connections, connectionsBefore, 'no connection to the other port');
      assert.doesNotMatch(listener.received(), new RegExp(slapd.readerPassword));
    });

    test('a test that changes only the host name (same machine, another name) without the password: 400, nothing sent', async () => {
      // A second directory whose saved place is the listener at 127.0.0.1; ::ffff:127.0.0.1 reaches the same port under another name.
      const created = await call('POST', v1('/command/ldap/create'), settings({ display_name: 'At the listener', port: listener.port, password: 'listener-directory-secret' }));
      assert.equal(created.statusCode, 200, created.body);
      const atListener = (created.json() as { id: string }).id;
      try {
        const connectionsBefore = listener.connections;
        const response = await call('PUT', v1('/ds/test'), { ...settings({ password: undefined, port: listener.port, hostname: '::ffff:127.0.0.1' }), id: atListener }, editor);
        assert.equal((assertError(response, 400, 'schema-violation').details as { field: string }).field, 'password');
        assert.equal(listener.connections, connectionsBefore);
        assert.doesNotMatch(listener.received(), /listener-directory-secret/);
      } finally {
        assert.equal((await call('POST', v1('/command/ldap/delete'), { id: atListener })).statusCode, 204);
      }
    });

    test('every setting that decides where the password goes and who can read it on the way needs it again, on test, update and PUT /ds', async () => {
      const unchanged = await stored();
      const moves: Record<string, unknown>[] = [
        { port: slapd.tlsPort },
        { hostname: 'localhost' },
        { ssl: true, port: slapd.tlsPort, cert_chain: slapd.caPem },
        { start_tls: true },
        { start_tls: true, cert_chain: slapd.caPem },
        { cert_chain: slapd.otherCaPem },
        { ssl_hostname_validation: false },
        { ssl_wildcard_validation: true },
        { login: 'cn=someone-else,ou=service,dc=example,dc=test' },
      ];
      for (const move of moves) {
        const what = JSON.stringify(move);
        for (const [method, url] of [
          ['POST', v1('/command/ldap/test')],
          ['PUT', v1('/ds/test')],
          ['POST', v1('/command/ldap/update')],
          ['PUT', v1('/ds')],
        ] as const) {
          const response = await call(method, url, storedWith(move), editor);
          assert.equal((assertError(response, 400, 'schema-violation').details as { field: string }).field, 'password', `${method} ${url} ${what}`);
        }
      }
      assert.deepEqual(await stored(), unchanged, 'nothing changed');
      // The stored settings and password still work: a directory user logs in.
      await service.login(alice.login, alice.password);
    });

    test('an update or PUT /ds that moves the directory without the password changes nothing: the next login goes where the password was saved for', async () => {
      const unchanged = await stored();
      const connections = listener.connections;
      assertError(await call('POST', v1('/command/ldap/update'), storedWith({ port: listener.port }), editor), 400, 'schema-violation');
      assertError(await call('PUT', v1('/ds'), { ...settings({ password: undefined }), port: listener.port }, editor), 400, 'schema-violation');
      assert.deepEqual(await stored(), unchanged);
      await service.login(alice.login, alice.password);
      assert.equal(listener.connections, connections, 'the login did not go to the other port');
    });

    test('changes that keep the directory where it is need no password, and keep the stored one', async () => {
      const updated = await call('POST', v1('/command/ldap/update'), storedWith({ display_name: 'Renamed', connect_timeout: 7, search_nested_groups: true }), editor);
      assert.equal(updated.statusCode, 200, updated.body);
      const put = await call('PUT', v1('/ds'), { ...settings({ password: undefined }), display_name: 'Test directory' }, editor);
      assert.equal(put.statusCode, 200, put.body);
      const tested = await call('POST', v1('/command/ldap/test'), storedWith({ base_dn: slapd.baseDn }), editor);
      assert.equal(tested.statusCode, 200, tested.body);
      await service.login(alice.login, alice.password);
    });

    test('with the password sent again, a test goes to the new place with that password, never the stored one', async () => {
      const connectionsBefore = listener.connections;
      const response = await call('POST', v1('/command/ldap/test'), storedWith({ port: listener.port, password: 'typed-in-again' }), editor);
      assertError(response, 400, 'directory-test-failed');
      assert.equal(listener.connections, connectionsBefore + 1);
      assert.match(listener.received(), /typed-in-again/);
      assert.doesNotMatch(listener.received(), new RegExp(slapd.readerPassword));
      // password: null is sent too: an anonymous bind, nothing stored goes along.
      const anonymous = await call('POST', v1('/command/ldap/test'), storedWith({ port: listener.port, password: null }), editor);
      assertError(anonymous, 400, 'directory-test-failed');
      assert.doesNotMatch(listener.received(), new RegExp(slapd.readerPassword));
    });

    test('an update that moves the directory with the password again is taken', async () => {
      const moved = await call('POST', v1('/command/ldap/update'), { ...settings({ start_tls: true, cert_chain: slapd.caPem }), id: directoryId }, editor);
      assert.equal(moved.statusCode, 200, moved.body);
      await service.login(alice.login, alice.password);
      const back = await call('POST', v1('/command/ldap/update'), { ...settings(), id: directoryId }, editor);
      assert.equal(back.statusCode, 200, back.body);
    });
    test('the check and the write it allows see one directory: no concurrent update moves it or changes the password in between', async () => {
      const { db } = service.store;
      const order: string[] = [];
      let concurrent: Promise<unknown> | undefined;
      await inTransaction(db, async (trx) => {
        const row = await directories.withBindPassword(trx, directoryId);
        assert.equal(row?.bind_password, slapd.readerPassword);
        if (target.dialect === 'postgres') {
          // Another connection cannot take the row while the check's transaction holds it.
          await assert.rejects(sql`select id from directories where id = ${directoryId} for update nowait`.execute(db), (error: { code?: string }) => error.code === '55P03');
        }
        // A write from outside (on SQLite, write transactions run one at a time) lands only after this transaction.
        concurrent = directories.update(db, directoryId, row?.settings ?? '', 'changed-meanwhile', Date.now()).then(() => order.push('concurrent update'));
        await trx.selectFrom('directories').select('id').execute();
        order.push('checked transaction ends');
      });
      await concurrent;
      assert.deepEqual(order, ['checked transaction ends', 'concurrent update']);
      const restored = await call('POST', v1('/command/ldap/update'), { ...settings(), id: directoryId });
      assert.equal(restored.statusCode, 200, restored.body);
    });
  });

  describe('every test is audited', () => {
    test('directory-tested names the actor, the directory, host, port, outcome and stage, never a password', async () => {
      const earlier = (await testedEvents()).length;
      assert.equal((await call('GET', v1('/ds/test'), undefined, editor)).statusCode, 200);
      assertError(await call('POST', v1('/command/ldap/test'), { ...settings(), port: listener.port }, editor), 400, 'directory-test-failed');
      assertError(await call('POST', v1('/command/ldap/test'), storedWith({ port: listener.port }), editor), 400, 'schema-violation');
      assertError(await call('PUT', v1('/ds/test'), settings({ password: 'not-the-reader-secret' })), 400, 'directory-test-failed');

      const events = (await testedEvents()).slice(earlier);
      assert.deepEqual(events, [
        { actor_login: 'ds-editor', details: { directory_id: directoryId, hostname: slapd.host, port: slapd.port, outcome: 'succeeded', stage: null } },
        { actor_login: 'ds-editor', details: { directory_id: null, hostname: slapd.host, port: listener.port, outcome: 'failed', stage: 'connect' } },
        { actor_login: 'ds-editor', details: { directory_id: directoryId, hostname: slapd.host, port: listener.port, outcome: 'refused', stage: null } },
        { actor_login: 'admin', details: { directory_id: null, hostname: slapd.host, port: slapd.port, outcome: 'failed', stage: 'lookup-bind' } },
      ]);
      const all = JSON.stringify(await service.store.db.selectFrom('audit_events').selectAll().execute());
      for (const secret of [slapd.readerPassword, 'not-the-reader-secret', 'typed-in-again', 'listener-directory-secret']) assert.doesNotMatch(all, new RegExp(secret));
      // GET /events lists them to a superuser.
      const listed = (await call('GET', v1('/events?limit=50'))).json() as { events: { type: string; actor: { login: string } | null }[] };
      assert.ok(listed.events.some((event) => event.type === 'directory-tested' && event.actor?.login === 'ds-editor'));
    });
  });

  describe('a failed test says why in words (issue 28)', () => {
    interface Failure {
      msg: string;
      details: { stage: string; reason?: string };
    }
    const failedTest = async (overrides: Record<string, unknown>, token = admin) =>
      assertError(await call('POST', v1('/command/ldap/test'), settings(overrides), token), 400, 'directory-test-failed') as unknown as Failure;

    test('a wrong lookup password: the bind stage and "invalid credentials (49)" with what to check, never `Code: 0x31`', async () => {
      const failure = await failedTest({ password: 'not-the-reader-secret' });
      assert.equal(failure.details.stage, 'lookup-bind');
      assert.match(failure.msg, /failed at the bind stage: the directory refused the lookup account/);
      assert.match(failure.details.reason ?? '', /^invalid credentials \(49\): check the lookup account's login and password/);
      assert.match(failure.msg, /invalid credentials \(49\): check the lookup account's login and password/);
      assert.doesNotMatch(failure.msg, /0x31|Code:/);
    });

    test('a base_dn the directory does not have: the search stage and "no such object (32)" naming base_dn', async () => {
      const failure = await failedTest({ base_dn: 'dc=elsewhere,dc=test' });
      assert.equal(failure.details.stage, 'search');
      assert.match(failure.msg, /failed at the search stage/);
      assert.match(failure.details.reason ?? '', /^no such object \(32\): check base_dn/);
      assert.doesNotMatch(failure.msg, /0x20|Code:/);
    });

    test('TLS on a plain port is a TLS problem: ldaps:// against the plain LDAP port, start_tls against a port without StartTLS or against the LDAPS port', async () => {
      const ldapsOnPlain = await failedTest({ ssl: true, port: slapd.port, cert_chain: slapd.caPem });
      assert.equal(ldapsOnPlain.details.stage, 'tls');
      assert.match(ldapsOnPlain.msg, /failed at the TLS stage/);
      assert.match(ldapsOnPlain.details.reason ?? '', /plain LDAP port .*start_tls/);

      const noStartTls = await ldapWithoutStartTls();
      try {
        const refused = await failedTest({ start_tls: true, port: noStartTls.port, cert_chain: slapd.caPem });
        assert.equal(noStartTls.connections, 1, 'the StartTLS request reached the server');
        assert.equal(refused.details.stage, 'tls');
        assert.match(refused.details.reason ?? '', /^protocol error \(2\): the directory does not offer StartTLS on this port.*; the directory said: unsupported extended operation/);
      } finally {
        await noStartTls.close();
      }

      const startTlsOnLdaps = await failedTest({ start_tls: true, port: slapd.tlsPort, cert_chain: slapd.caPem });
      assert.equal(startTlsOnLdaps.details.stage, 'tls');
      assert.match(startTlsOnLdaps.details.reason ?? '', /LDAPS port.*set ssl instead of start_tls/);
    });

    test('a certificate from another CA: the TLS stage, naming cert_chain', async () => {
      const failure = await failedTest({ ssl: true, port: slapd.tlsPort, cert_chain: slapd.otherCaPem });
      assert.equal(failure.details.stage, 'tls');
      assert.match(failure.details.reason ?? '', /^the directory's certificate was refused: check cert_chain/);
    });

    test('to a non-superuser the same failures say the stage in words only: no reason, no code, no system text', async () => {
      const cases: [Record<string, unknown>, string, RegExp][] = [
        [{ password: 'not-the-reader-secret' }, 'lookup-bind', /failed at the bind stage: the directory refused the lookup account \(its DN or password\)\.$/],
        [{ base_dn: 'dc=elsewhere,dc=test' }, 'search', /failed at the search stage: the directory could not search base_dn/],
        [{ ssl: true, port: slapd.port, cert_chain: slapd.caPem }, 'tls', /failed at the TLS stage: could not set up TLS with the directory/],
        [{ start_tls: true, port: slapd.tlsPort, cert_chain: slapd.caPem }, 'tls', /failed at the TLS stage/],
      ];
      for (const [overrides, stage, words] of cases) {
        const failure = await failedTest(overrides, editor);
        assert.deepEqual(failure.details, { stage });
        assert.match(failure.msg, words);
        assert.doesNotMatch(failure.msg, /Reason|\(\d+\)|0x|ECONN|socket|invalid credentials|no such object|LDAPS port|plain LDAP port/i);
      }
    });
  });

  describe('a failed test is no port scanner', () => {
    test('to a non-superuser a closed port and an open port that is not LDAP answer alike: the stage in words, no system error text', async () => {
      const closedPort = await freePort();
      const notLdap = await recordingListener('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      try {
        const closed = await call('POST', v1('/command/ldap/test'), settings({ port: closedPort }), editor);
        const open = await call('POST', v1('/command/ldap/test'), settings({ port: notLdap.port }), editor);
        const closedBody = assertError(closed, 400, 'directory-test-failed');
        const openBody = assertError(open, 400, 'directory-test-failed');
        assert.equal(notLdap.connections, 1, 'the open port was asked');
        assert.deepEqual(closedBody, openBody);
        assert.deepEqual(closedBody.details, { stage: 'connect' });
        assert.match(closedBody.msg, /connect/);
        for (const body of [closed.body, open.body]) {
          assert.doesNotMatch(body, /ECONN|EPIPE|ETIMEDOUT|socket|closed|127\.0\.0\.1|\d{4,5}/i);
        }
      } finally {
        await notLdap.close();
      }
    });

    test('the other stages, to a non-superuser: tls and lookup-bind in words, without the library\'s text', async () => {
      const tls = assertError(await call('POST', v1('/command/ldap/test'), settings({ ssl: true, port: slapd.tlsPort, cert_chain: slapd.otherCaPem }), editor), 400, 'directory-test-failed');
      assert.deepEqual(tls.details, { stage: 'tls' });
      assert.match(tls.msg, /TLS/);
      assert.doesNotMatch(tls.msg, /certificate in certificate chain|self.signed|UNABLE|ERR_/i);
      const bind = assertError(await call('POST', v1('/command/ldap/test'), settings({ password: 'not-the-reader-secret' }), editor), 400, 'directory-test-failed');
      assert.deepEqual(bind.details, { stage: 'lookup-bind' });
      assert.doesNotMatch(bind.msg, /Invalid Credentials|code|0x/i);
    });

    test('a superuser gets the stage and the reason; the service log has the reason with the directory\'s place, never a password', async () => {
      const closedPort = await freePort();
      const closed = assertError(await call('POST', v1('/command/ldap/test'), settings({ port: closedPort })), 400, 'directory-test-failed');
      const details = closed.details as { stage: string; reason: string };
      assert.equal(details.stage, 'connect');
      assert.match(details.reason, /ECONNREFUSED/);
      assert.match(closed.msg, /ECONNREFUSED/);

      // The editor's failed test is in the log for the operator, with its reason.
      const lines = logLines.length;
      assertError(await call('POST', v1('/command/ldap/test'), settings({ port: closedPort, password: 'editor-typed-secret' }), editor), 400, 'directory-test-failed');
      const logged = logLines.slice(lines).map((line) => JSON.parse(line) as Record<string, unknown>);
      const entry = logged.find((line) => line.msg === 'directory test failed');
      assert.ok(entry, logLines.slice(lines).join(''));
      assert.deepEqual(
        { stage: entry.stage, hostname: entry.hostname, port: entry.port },
        { stage: 'connect', hostname: slapd.host, port: closedPort },
      );
      assert.match(String(entry.reason), /ECONNREFUSED/);
      const log = logLines.join('');
      for (const secret of [slapd.readerPassword, 'editor-typed-secret', 'not-the-reader-secret', 'typed-in-again']) assert.doesNotMatch(log, new RegExp(secret));
    });
  });
});

// Logins ask directories in the order they were added (src/store/directories.ts):
// two added in the same millisecond keep that order, whatever their random ids.
describeEachDatabase('the order of directories', (target) => {
  let service: TestService;
  before(async () => {
    service = await startTestService(target.dialect);
  });
  after(() => service?.close());

  test('directories added in the same millisecond are listed in the order they were added, not by id', async () => {
    const ids = ['ffffffff-0000-4000-8000-000000000003', '88888888-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001'];
    const sameMillisecond = Date.now();
    await inTransaction(service.store.db, async (trx) => {
      for (const id of ids) await directories.insert(trx, { id, settings: '{}', bind_password: null }, sameMillisecond);
    });
    assert.deepEqual(
      (await directories.list(service.store.db)).map((row) => row.id),
      ids,
    );
  });
});
