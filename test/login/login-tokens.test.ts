// Login tokens, how requests authenticate, revocation.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { hashLoginToken } from '../../src/login/login-tokens.js';
import { describeEachDatabase } from '../kit/databases.js';
import { ADMIN_PASSWORD, USER_PASSWORD, startTestService, type TestService } from '../kit/service.js';

describeEachDatabase('authentication', (target) => {
  let service: TestService;
  before(async () => {
    service = await startTestService(target.dialect);
  });
  after(() => service?.close());

  const tokenUrl = '/rbac-api/v1/auth/token';

  test('POST /auth/token returns an opaque token of at least 256 bits', async () => {
    const response = await service.request({ method: 'POST', url: tokenUrl, payload: { login: 'admin', password: ADMIN_PASSWORD } });
    assert.equal(response.statusCode, 200);
    assert.match(response.headers['content-type'] as string, /application\/json/);
    assert.equal(response.headers['cache-control'], 'no-store');
    const { token } = response.json() as { token: string };
    assert.ok(Buffer.from(token, 'base64url').length >= 32, 'token carries at least 32 random bytes');
    assert.equal(token.split('.').length, 1, 'a login token is not a JWT');
  });

  test('passwords are not truncated: a 1024-character password differing only in its last character does not log in', async () => {
    const password = 'long passphrase '.repeat(64).slice(0, 1023) + 'a';
    assert.equal(password.length, 1024);
    await service.createUser('no-truncation', { password });
    const attempt = (candidate: string) => service.request({ method: 'POST', url: tokenUrl, payload: { login: 'no-truncation', password: candidate } });
    assert.equal((await attempt(password.slice(0, 1023) + 'b')).statusCode, 401, 'last character changed');
    assert.equal((await attempt(password.slice(0, 1023))).statusCode, 401, 'last character dropped');
    assert.equal((await attempt(password.slice(0, 72))).statusCode, 401, 'the first 72 characters (bcrypt would stop there)');
    assert.equal((await attempt(password)).statusCode, 200);
  });

  test('logins ignore case: Admin is admin', async () => {
    const response = await service.request({ method: 'POST', url: tokenUrl, payload: { login: 'ADMIN', password: ADMIN_PASSWORD } });
    assert.equal(response.statusCode, 200);
  });

  test('the database stores only a hash of each token', async () => {
    const token = await service.login('admin', ADMIN_PASSWORD);
    const rows = await service.store.db.selectFrom('login_tokens').selectAll().execute();
    assert.ok(rows.some((row) => row.token_hash === hashLoginToken(token)));
    assert.ok(rows.every((row) => !JSON.stringify(row).includes(token)), 'the token itself is nowhere in the table');
  });

  test('a token authenticates by X-Authentication header and by token query parameter', async () => {
    const token = await service.login('admin', ADMIN_PASSWORD);
    const byHeader = await service.request({ method: 'GET', url: '/rbac-api/v1/users/current', token });
    assert.equal(byHeader.statusCode, 200);
    assert.equal((byHeader.json() as { login: string }).login, 'admin');
    const byQuery = await service.request({ method: 'GET', url: `/rbac-api/v1/users/current?token=${encodeURIComponent(token)}` });
    assert.equal(byQuery.statusCode, 200);
  });

  test('no token, an unknown token or a malformed token gets 401 user-unauthenticated', async () => {
    for (const token of [undefined, 'x'.repeat(43), 'not a token!', 'a'.repeat(5000)]) {
      const response = await service.request({ method: 'GET', url: '/rbac-api/v1/users/current', ...(token ? { token } : {}) });
      assert.equal(response.statusCode, 401, `token ${String(token).slice(0, 10)}`);
      assert.equal((response.json() as { kind: string }).kind, 'user-unauthenticated');
    }
  });

  test('wrong password and unknown login give the same 401 body; unknown login is checked against a dummy hash', async () => {
    await service.createUser('timing-user');
    const before = { ...service.hasher.counts };
    const wrong = await service.request({ method: 'POST', url: tokenUrl, payload: { login: 'timing-user', password: 'not the password at all' } });
    const unknown = await service.request({ method: 'POST', url: tokenUrl, payload: { login: 'nobody-has-this-login', password: 'not the password at all' } });
    assert.equal(wrong.statusCode, 401);
    assert.equal(unknown.statusCode, 401);
    assert.equal(wrong.body, unknown.body);
    assert.equal((wrong.json() as { kind: string }).kind, 'user-unauthenticated');
    assert.equal(service.hasher.counts.verify - before.verify, 1, 'the wrong password was checked against the real hash');
    assert.equal(service.hasher.counts.verifyDummy - before.verifyDummy, 1, 'the unknown login was checked against the dummy hash');
  });

  test('remote users cannot log in with a password here, and get the same 401', async () => {
    await service.request({
      method: 'POST',
      url: '/rbac-api/v1/users',
      token: await service.adminToken(),
      payload: { login: 'remote-login', is_remote: true },
    });
    const response = await service.request({ method: 'POST', url: tokenUrl, payload: { login: 'remote-login', password: USER_PASSWORD } });
    assert.equal(response.statusCode, 401);
    assert.equal((response.json() as { kind: string }).kind, 'user-unauthenticated');
  });

  test('DELETE /tokens/current revokes the token used, and only that one', async () => {
    const first = await service.login('admin', ADMIN_PASSWORD);
    const second = await service.login('admin', ADMIN_PASSWORD);
    const revoke = await service.request({ method: 'DELETE', url: '/rbac-api/v1/tokens/current', token: first });
    assert.equal(revoke.statusCode, 204);
    assert.equal((await service.request({ method: 'GET', url: '/rbac-api/v1/users/current', token: first })).statusCode, 401);
    assert.equal((await service.request({ method: 'GET', url: '/rbac-api/v1/users/current', token: second })).statusCode, 200);
  });

  test('DELETE /rbac-api/v2/tokens without naming a token is 400 and revokes nothing; naming the calling token in revoke_tokens revokes it', async () => {
    const token = await service.login('admin', ADMIN_PASSWORD);
    const bare = await service.request({ method: 'DELETE', url: '/rbac-api/v2/tokens', token });
    assert.equal(bare.statusCode, 400, bare.body);
    assert.equal((bare.json() as { kind: string }).kind, 'schema-violation');
    assert.equal((await service.request({ method: 'GET', url: '/rbac-api/v1/users/current', token })).statusCode, 200, 'not logged out');
    assert.equal((await service.request({ method: 'DELETE', url: `/rbac-api/v2/tokens?revoke_tokens=${token}`, token })).statusCode, 204);
    assert.equal((await service.request({ method: 'GET', url: '/rbac-api/v1/users/current', token })).statusCode, 401);
  });

  test('a successful login and a logout are audited; a login token never is', async () => {
    const id = await service.createUser('audited-session');
    const token = await service.login('audited-session', USER_PASSWORD);
    assert.equal((await service.request({ method: 'DELETE', url: '/rbac-api/v1/tokens/current', token })).statusCode, 204);
    const listed = await service.request({ method: 'GET', url: '/rbac-api/v1/events?limit=1000', token: await service.adminToken() });
    const mine = (listed.json() as { events: { type: string; actor: { id: string } | null; subject: { id: string } | null; source_address: string }[] }).events
      .filter((event) => event.subject?.id === id)
      .map((event) => [event.type, event.actor?.id, event.source_address]);
    assert.deepEqual(mine.slice(0, 2), [
      ['logout', id, '127.0.0.1'],
      ['login-succeeded', id, '127.0.0.1'],
    ]);
    assert.ok(!listed.body.includes(token));
  });

  test('an error after a correct password gives the claimed attempt back: the account never ends up answering 429 for good', async () => {
    const id = await service.createUser('claim-release');
    // Every login with the right password now fails after its check (while upgrading the hash).
    const { hash, needsRehash } = service.hasher;
    service.hasher.needsRehash = () => true;
    service.hasher.hash = () => Promise.reject(new Error('simulated failure after the password check'));
    try {
      for (let i = 0; i < service.config.failedAttemptsLockout + 2; i++) {
        const response = await service.request({ method: 'POST', url: tokenUrl, payload: { login: 'claim-release', password: USER_PASSWORD } });
        assert.equal(response.statusCode, 500);
      }
    } finally {
      service.hasher.hash = hash;
      service.hasher.needsRehash = needsRehash;
    }
    const row = await service.store.db.selectFrom('users').select(['failed_attempts', 'is_revoked']).where('id', '=', id).executeTakeFirstOrThrow();
    assert.deepEqual(row, { failed_attempts: 0, is_revoked: 0 });
    assert.ok(await service.login('claim-release', USER_PASSWORD));
  });

  test('a NUL character in a login, password, label or query is 400 schema-violation, never a 5xx, and claims no attempt', async () => {
    const id = await service.createUser('nul-login');
    const payloads = [
      { login: 'nul\u0000login', password: USER_PASSWORD },
      { login: 'nul-login', password: `${USER_PASSWORD}\u0000` },
      { login: 'nul-login', password: USER_PASSWORD, label: 'lap\u0000top' },
      { login: 'nul-login', password: USER_PASSWORD, description: '\u0000', client: 'x' },
    ];
    for (const payload of payloads) {
      const response = await service.request({ method: 'POST', url: tokenUrl, payload });
      assert.equal(response.statusCode, 400, response.body);
      assert.equal((response.json() as { kind: string }).kind, 'schema-violation');
    }
    const admin = await service.adminToken();
    for (const [method, url, payload] of [
      ['POST', '/rbac-api/v1/users', { login: 'bad\u0000user' }],
      ['PUT', `/rbac-api/v1/users/${id}`, { display_name: 'x\u0000y' }],
      ['POST', '/rbac-api/v1/roles', { display_name: 'role\u0000name' }],
      ['GET', '/rbac-api/v1/events?limit=1%00', undefined],
    ] as const) {
      const response = await service.request({ method, url, token: admin, ...(payload ? { payload } : {}) });
      assert.equal(response.statusCode, 400, `${method} ${url}: ${response.body}`);
    }
    const row = await service.store.db.selectFrom('users').select(['failed_attempts', 'display_name']).where('id', '=', id).executeTakeFirstOrThrow();
    assert.deepEqual(row, { failed_attempts: 0, display_name: 'nul-login' });
  });

  test('lifetime: PE units, default token-auth-lifetime, capped by token-maximum-lifetime, 0 means the maximum', async () => {
    const expiryOf = async (lifetime?: string | number) => {
      const started = Date.now();
      const response = await service.request({
        method: 'POST',
        url: tokenUrl,
        payload: { login: 'admin', password: ADMIN_PASSWORD, ...(lifetime === undefined ? {} : { lifetime }) },
      });
      assert.equal(response.statusCode, 200, response.body);
      const row = await service.store.db
        .selectFrom('login_tokens')
        .select('expires_at')
        .where('token_hash', '=', hashLoginToken((response.json() as { token: string }).token))
        .executeTakeFirstOrThrow();
      return Math.round(((row.expires_at as number) - started) / 1000);
    };
    const near = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) <= 2, `${actual} ≈ ${expected}`);
    near(await expiryOf(), 3600);
    near(await expiryOf('30s'), 30);
    near(await expiryOf('15m'), 900);
    near(await expiryOf('4h'), 4 * 3600);
    near(await expiryOf('2d'), 2 * 86400);
    near(await expiryOf('1y'), 365 * 86400);
    near(await expiryOf('90'), 90);
    near(await expiryOf(120), 120);
    near(await expiryOf('20y'), 10 * 365 * 86400);
    near(await expiryOf('0'), 10 * 365 * 86400);
  });

  test('a lifetime that is not a duration is a schema-violation', async () => {
    for (const lifetime of ['forever', '1w', '-5', '1.5h', '']) {
      const response = await service.request({ method: 'POST', url: tokenUrl, payload: { login: 'admin', password: ADMIN_PASSWORD, lifetime } });
      assert.equal(response.statusCode, 400, lifetime);
      assert.equal((response.json() as { kind: string }).kind, 'schema-violation');
    }
  });

  test('an expired token stops working', async () => {
    const token = await service.login('admin', ADMIN_PASSWORD);
    await service.store.db.updateTable('login_tokens').set({ expires_at: Date.now() - 1 }).where('token_hash', '=', hashLoginToken(token)).execute();
    const response = await service.request({ method: 'GET', url: '/rbac-api/v1/users/current', token });
    assert.equal(response.statusCode, 401);
  });

  test('a successful login records last_login', async () => {
    const id = await service.createUser('last-login-user');
    const token = await service.login('last-login-user', USER_PASSWORD);
    const user = (await service.request({ method: 'GET', url: `/rbac-api/v1/users/${id}`, token })).json() as { last_login: string | null };
    assert.ok(user.last_login !== null && Math.abs(Date.parse(user.last_login) - Date.now()) < 60_000);
    assert.match(user.last_login, /Z$/, 'ISO-8601 UTC');
  });
});
