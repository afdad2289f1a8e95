// Slow and greedy clients: a request whose headers or body do
// not arrive within request-timeout is answered 408 request-timeout in the
// error shape and its connection closed; one address cannot hold more than
// max-connections-per-address connections (trusted proxies excepted); a TLS
// handshake that does not finish within tls-handshake-timeout is cut. Over
// real sockets: inject() has none.

import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { defaultConfig } from '../../src/config/config.js';
import { trustedProxyMatcher } from '../../src/http/connection-limits.js';
import { createLogger } from '../../src/http/logging.js';
import { startService } from '../../src/server.js';
import { freshWorkspace } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { ADMIN_PASSWORD, startTestService, type TestService } from '../kit/service.js';

interface Exchange {
  socket: Socket;
  /** Everything received until the server closed the connection. */
  closed: Promise<string>;
}

function open(port: number): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    const closed = new Promise<string>((done) => socket.on('close', () => done(received)));
    socket.on('error', () => {}); // a reset shows as the close
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

function parse(raw: string) {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  return { statusCode: Number(statusLine.split(' ')[1]), headers, body, json: () => JSON.parse(body) as unknown };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the server sent before closing, or `undefined` if it has not closed within `ms`. */
function closedWithin(exchange: Exchange, ms: number): Promise<string | undefined> {
  return Promise.race([exchange.closed, sleep(ms).then(() => undefined)]);
}

/** Whether the connection is still open after `ms`. */
async function stillOpen(exchange: Exchange, ms: number): Promise<boolean> {
  return Promise.race([exchange.closed.then(() => false), sleep(ms).then(() => true)]);
}

describe('slow clients', () => {
  let service: TestService;
  let port: number;
  before(async () => {
    service = await startTestService('sqlite', { requestTimeoutSeconds: 1, maxConnectionsPerAddress: 3 });
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    port = (service.app.server.address() as AddressInfo).port;
  });
  after(() => service?.close());

  test('a body trickled one byte at a time gets 408 request-timeout within request-timeout', async () => {
    const body = JSON.stringify({ login: 'admin', password: ADMIN_PASSWORD });
    const exchange = await open(port);
    const started = Date.now();
    exchange.socket.write(`POST /rbac-api/v1/auth/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    let sent = 0;
    const trickle = setInterval(() => {
      if (sent < body.length && !exchange.socket.destroyed) exchange.socket.write(body[sent++] as string);
    }, 200);
    try {
      // A bound to fail rather than hang: load can delay the close, never bring it forward.
      const raw = await closedWithin(exchange, 30_000);
      const elapsed = Date.now() - started;
      assert.ok(raw !== undefined, 'the connection was closed');
      const answer = parse(raw);
      assertError(answer, 408, 'request-timeout');
      assert.equal(answer.headers['x-content-type-options'], 'nosniff');
      assert.equal(answer.headers['cache-control'], 'no-store');
      assert.ok(answer.headers['x-request-id']);
      assert.ok(sent < body.length, 'cut off before the body was complete');
      assert.ok(elapsed >= 900, `not cut off before request-timeout (1 s): after ${elapsed} ms`);
    } finally {
      clearInterval(trickle);
    }
  });

  test('headers trickled one line at a time get 408 too', async () => {
    const exchange = await open(port);
    exchange.socket.write('GET /status/v1/simple HTTP/1.1\r\nHost: localhost\r\n');
    let line = 0;
    const trickle = setInterval(() => {
      if (!exchange.socket.destroyed) exchange.socket.write(`X-Slow-${line++}: 1\r\n`);
    }, 200);
    try {
      const raw = await closedWithin(exchange, 30_000);
      assert.ok(raw !== undefined, 'the connection was closed');
      assertError(parse(raw), 408, 'request-timeout');
    } finally {
      clearInterval(trickle);
    }
  });

  test('connections beyond max-connections-per-address are closed; the others keep working', async () => {
    const held = [await open(port), await open(port), await open(port)];
    const extra = await open(port);
    assert.equal(await closedWithin(extra, 30_000), '', 'the fourth connection is closed, without an answer');
    // The three held ones still serve requests.
    held[0]?.socket.write('GET /status/v1/simple HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    const answer = parse(await (held[0] as Exchange).closed);
    assert.equal(answer.statusCode, 200);
    assert.match(answer.body, /running/);
    // One closed: room for one more.
    const replacement = await open(port);
    assert.ok(await stillOpen(replacement, 200), 'a new connection fits once one has closed');
    for (const exchange of [...held.slice(1), replacement]) exchange.socket.destroy();
  });
});

describe('slow clients behind a trusted proxy', () => {
  test('addresses in trusted-proxies are not limited: every client arrives through them', async () => {
    const service = await startTestService('sqlite', { maxConnectionsPerAddress: 2, trustedProxies: '127.0.0.1' });
    try {
      await service.app.listen({ port: 0, host: '127.0.0.1' });
      const port = (service.app.server.address() as AddressInfo).port;
      const held = [];
      for (let i = 0; i < 5; i++) held.push(await open(port));
      for (const exchange of held) assert.ok(await stillOpen(exchange, 50), 'all five stay open');
      for (const exchange of held) exchange.socket.destroy();
    } finally {
      await service.close();
    }
  });

  test('trustedProxyMatcher: addresses, CIDR ranges, named ranges, IPv4-mapped addresses', () => {
    const trusted = trustedProxyMatcher('10.0.0.0/8,192.0.2.7,2001:db8::/32,loopback');
    for (const address of ['10.1.2.3', '::ffff:10.1.2.3', '192.0.2.7', '2001:db8:1::1', '127.0.0.1', '::1']) assert.ok(trusted(address), address);
    for (const address of ['192.0.2.8', '11.0.0.1', '2001:db9::1', 'fe80::1', 'nonsense', undefined]) assert.ok(!trusted(address), String(address));
    assert.ok(!trustedProxyMatcher(undefined)('127.0.0.1'), 'none trusted by default');
  });
});

describe('TLS handshake timeout', () => {
  test('a connection that never finishes its TLS handshake is closed after tls-handshake-timeout', async () => {
    const workspace = await freshWorkspace('sqlite');
    const service = await startService(defaultConfig({ dataDir: workspace.dataDir, port: 0, host: '127.0.0.1', tlsHandshakeTimeoutSeconds: 1, metricsPort: 0 }), {
      adminPassword: ADMIN_PASSWORD,
      logger: createLogger('silent'),
    });
    try {
      const exchange = await open(Number(new URL(service.url).port));
      const started = Date.now();
      exchange.socket.write(Buffer.from([0x16, 0x03, 0x01])); // the start of a ClientHello, never finished
      // A bound to fail rather than hang: load can delay the close, never bring it forward.
      const closed = await closedWithin(exchange, 30_000);
      const elapsed = Date.now() - started;
      assert.ok(closed !== undefined, 'the connection was closed');
      assert.ok(elapsed >= 900, `not closed before tls-handshake-timeout (1 s): after ${elapsed} ms`);
    } finally {
      await service.close();
      await workspace.cleanup();
    }
  });
});
