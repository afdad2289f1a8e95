// POST /command/validate-password: body {password, reset_token?}
// (PE's console sends `reset-token`); authenticated by a login token or a
// usable reset token; 200 {valid: true} or {valid: false, failures} (PE's shape) with the password policy for the
// caller's own login; 401 without credentials; 403 invalid-token for a reset
// token that cannot be used. It checks, and changes nothing.

import assert from 'node:assert/strict';
import { generateKeyPair, SignJWT } from 'jose';
import { after, before, test } from 'node:test';
import { RESET_TOKEN_ISSUER } from '../../src/password-reset/reset-token.js';
import { describeEachDatabase } from '../kit/databases.js';
import { USER_PASSWORD, startServiceWithAdmin, startTestService, type TestService } from '../kit/service.js';

const URL = '/rbac-api/v1/command/validate-password';
const GOOD = 'correct horse battery staple';

interface Result {
  valid: boolean;
  failures?: { 'rule-identifier': string; 'friendly-error': string }[];
}

const rules = (result: Result) => (result.failures ?? []).map((failure) => failure['rule-identifier']).sort();

describeEachDatabase('validate-password', (target) => {
  let service: TestService;
  let admin: string;
  before(async () => ({ service, admin } = await startServiceWithAdmin(target.dialect)));
  after(() => service?.close());

  const validate = (payload: Record<string, unknown>, token?: string) =>
    service.request({ method: 'POST', url: URL, payload, ...(token ? { token } : {}) });
  const issue = async (sid: string) => {
    const response = await service.request({ method: 'POST', url: `/rbac-api/v1/users/${sid}/password/reset`, token: admin });
    assert.equal(response.statusCode, 201, response.body);
    return response.body;
  };

  test('with a login token: 200 {valid: true} and nothing else for a good password', async () => {
    const response = await validate({ password: GOOD }, admin);
    assert.equal(response.statusCode, 200);
    assert.match(response.headers['content-type'] as string, /application\/json/);
    assert.deepEqual(response.json(), { valid: true });
  });

  test('with a login token: every broken rule is listed, each with a message', async () => {
    const cases: [string, string[]][] = [
      ['vbnmzx', ['password-minimum-length']],
      ['x'.repeat(1025), ['password-maximum-length']],
      ['qwerty123456', ['common-password']],
      ['QWERTY123456', ['common-password']],
      ['password', ['common-password', 'password-minimum-length']],
      ['this is the admin passphrase', ['contains-login']],
    ];
    for (const [password, expected] of cases) {
      const response = await validate({ password }, admin);
      assert.equal(response.statusCode, 200, password);
      const result = response.json() as Result;
      assert.equal(result.valid, false, password);
      assert.deepEqual(rules(result), expected, password);
      assert.ok((result.failures ?? []).every((failure) => failure['friendly-error'].length > 0));
      // ('password' itself is a word of the messages.)
      if (password !== 'password') assert.ok(!response.body.includes(password), 'the password is not echoed');
    }
  });

  test('a reset token in the body wins over a stale login token sent alongside', async () => {
    const id = await service.createUser('validate-stale-login');
    const stale = await service.login('validate-stale-login', USER_PASSWORD);
    await service.request({ method: 'DELETE', url: '/rbac-api/v1/tokens/current', token: stale });
    const resetToken = await issue(id);
    const response = await validate({ password: 'my name is validate-stale-login' , reset_token: resetToken }, stale);
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(rules(response.json() as Result), ['contains-login'], 'checked for the reset token’s user');
  });

  test('contains-login is checked against the login of the token’s user', async () => {
    await service.createUser('validate-login-owner');
    const token = await service.login('validate-login-owner', USER_PASSWORD);
    const password = 'I am VALIDATE-LOGIN-OWNER, hi';
    assert.deepEqual(rules((await validate({ password }, token)).json() as Result), ['contains-login']);
    // The same password is fine for someone else.
    assert.deepEqual((await validate({ password }, admin)).json(), { valid: true });
  });

  test('NFKC and code points: fullwidth letters and emoji are measured as characters', async () => {
    const fullwidth = (await validate({ password: 'ｖｂｎｍｚｘｑｋｊｗｐｔ' }, admin)).json() as Result;
    assert.deepEqual(fullwidth, { valid: true });
    const emoji = (await validate({ password: '😀'.repeat(11) }, admin)).json() as Result;
    assert.deepEqual(rules(emoji), ['password-minimum-length']);
  });

  test('the token may be given as the token query parameter', async () => {
    const response = await service.request({ method: 'POST', url: `${URL}?token=${encodeURIComponent(admin)}`, payload: { password: GOOD } });
    assert.equal(response.statusCode, 200);
  });

  test('no credentials: 401 user-unauthenticated', async () => {
    const response = await validate({ password: GOOD });
    assert.equal(response.statusCode, 401);
    assert.equal((response.json() as { kind: string }).kind, 'user-unauthenticated');
    assert.ok(!response.body.includes(GOOD));
  });

  test('an unknown or revoked login token: 401', async () => {
    assert.equal((await validate({ password: GOOD }, 'x'.repeat(43))).statusCode, 401);
    await service.createUser('validate-logged-out');
    const token = await service.login('validate-logged-out', USER_PASSWORD);
    assert.equal((await service.request({ method: 'DELETE', url: '/rbac-api/v1/tokens/current', token })).statusCode, 204);
    assert.equal((await validate({ password: GOOD }, token)).statusCode, 401);
  });

  test('with a reset token as reset_token or as PE’s reset-token: 200, checked for that user', async () => {
    const id = await service.createUser('validate-reset-user');
    const token = await issue(id);
    for (const key of ['reset_token', 'reset-token']) {
      const good = await validate({ password: GOOD, [key]: token });
      assert.equal(good.statusCode, 200, key);
      assert.deepEqual(good.json(), { valid: true });
      const bad = await validate({ password: 'my login: validate-reset-user', [key]: token });
      assert.equal(bad.statusCode, 200);
      assert.deepEqual(rules(bad.json() as Result), ['contains-login'], 'the login is the token subject’s');
      assert.ok(!bad.body.includes(token), 'the token is not echoed');
    }
  });

  test('validating does not spend the reset token', async () => {
    const id = await service.createUser('validate-not-spent');
    const token = await issue(id);
    for (let i = 0; i < 3; i++) assert.equal((await validate({ password: GOOD, reset_token: token })).statusCode, 200);
    const reset = await service.request({ method: 'POST', url: '/rbac-api/v1/auth/reset', payload: { token, password: GOOD } });
    assert.equal(reset.statusCode, 200, 'the token still resets the password');
  });

  test('a reset token works for a revoked (locked-out) user', async () => {
    const id = await service.createUser('validate-revoked');
    await service.store.db.updateTable('users').set({ is_revoked: 1 }).where('id', '=', id).execute();
    const token = await issue(id);
    const response = await validate({ password: 'vbnmzx', reset_token: token });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(rules(response.json() as Result), ['password-minimum-length']);
  });

  test('a reset token that cannot be used: 403 invalid-token (garbage, forged, spent, superseded)', async () => {
    const id = await service.createUser('validate-bad-reset');
    const spent = await issue(id);
    assert.equal((await service.request({ method: 'POST', url: '/rbac-api/v1/auth/reset', payload: { token: spent, password: GOOD } })).statusCode, 200);
    const superseded = await issue(id);
    await issue(id);
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: 'made-up' })
      .setIssuer(RESET_TOKEN_ISSUER)
      .setSubject(id)
      .setIssuedAt()
      .setExpirationTime('1h')
      .setJti('forged-jti')
      .sign(privateKey);
    for (const [name, token] of [
      ['garbage', 'not a token'],
      ['forged', forged],
      ['spent', spent],
      ['superseded', superseded],
    ] as const) {
      const response = await validate({ password: GOOD, reset_token: token });
      assert.equal(response.statusCode, 403, name);
      assert.equal((response.json() as { kind: string }).kind, 'invalid-token', name);
      assert.ok(!response.body.includes(GOOD) && !response.body.includes(token), `${name}: nothing echoed`);
    }
  });

  test('the answer follows password-minimum-length', async () => {
    const strict = await startTestService(target.dialect, { passwordMinimumLength: 28 });
    try {
      const token = await strict.adminToken();
      const at = async (password: string) =>
        (await strict.request({ method: 'POST', url: URL, token, payload: { password } })).json() as Result;
      assert.deepEqual(rules(await at('twenty-seven characters, ok')), ['password-minimum-length']);
      assert.deepEqual(await at('twenty-seven characters, ok!'), { valid: true });
    } finally {
      await strict.close();
    }
  });

  test('checking changes nothing: no hash, no attempt, no password change, no event', async () => {
    const id = await service.createUser('validate-no-effect');
    const token = await service.login('validate-no-effect', USER_PASSWORD);
    const row = () => service.store.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const eventCount = async () => (await service.store.db.selectFrom('audit_events').select('id').execute()).length;
    const before = { row: await row(), counts: { ...service.hasher.counts }, events: await eventCount() };
    for (const password of [GOOD, 'short', USER_PASSWORD, 'not the password']) await validate({ password }, token);
    assert.deepEqual(await row(), before.row);
    assert.deepEqual(service.hasher.counts, before.counts);
    assert.equal(await eventCount(), before.events);
  });

  test('a wrong body shape is a schema-violation that does not echo the password', async () => {
    for (const payload of [{}, { password: 42 }, { password: GOOD, extra: true }]) {
      const response = await validate(payload, admin);
      assert.equal(response.statusCode, 400, JSON.stringify(payload));
      assert.equal((response.json() as { kind: string }).kind, 'schema-violation');
      assert.ok(!response.body.includes(GOOD));
    }
  });
});
