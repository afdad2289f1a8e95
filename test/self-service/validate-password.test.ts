// POST /command/validate-password: body {password, reset_token?}
// (PE's console sends `reset-token`); authenticated by a login token or a
// usable reset token; 200 {valid: true} or {valid: false, failures} (PE's shape) with the password policy for the
// caller's own login; 401 without credentials; 403 invalid-token for a reset
// token that cannot be used. It checks, and changes nothing.

import assert from 'node:assert/strict';
import { generateKeyPair, SignJWT } from 'jose';
import { after, before, test } from 'node:test';
import { SETTINGS } from '../../src/config/config.js';
import { RESET_TOKEN_ISSUER } from '../../src/password-reset/reset-token.js';
import { COMPOSED_PASSWORD, COMPOSITION_RULES } from '../kit/passwords.js';
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
  const issue = (sid: string) => service.resetToken(sid);

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

/** PE's answer shape, to the key: {valid: true} alone, or {valid: false, failures} with each failure {rule-identifier, friendly-error}. */
function assertPeShape(body: string): Result {
  const result = JSON.parse(body) as Result;
  if (result.valid) {
    assert.equal(body, '{"valid":true}', 'a valid answer is {"valid": true} and nothing else');
    return result;
  }
  assert.deepEqual(Object.keys(result).sort(), ['failures', 'valid']);
  assert.equal(result.valid, false);
  assert.ok(Array.isArray(result.failures) && result.failures.length > 0);
  for (const failure of result.failures) {
    assert.deepEqual(Object.keys(failure).sort(), ['friendly-error', 'rule-identifier']);
    assert.equal(typeof failure['rule-identifier'], 'string');
    assert.ok(failure['friendly-error'].length > 0);
  }
  return result;
}

describeEachDatabase("validate-password with PE's composition rules", (target) => {
  let service: TestService;
  let admin: string;
  // A login with a run of 4 characters ("mpos") a password can share.
  const LOGIN = 'composition-user';
  let resetToken: string;
  before(async () => {
    service = await startTestService(target.dialect, { ...COMPOSITION_RULES, usernameSubstringMatch: true, substringCharacterLimit: 4 });
    admin = await service.adminToken();
    resetToken = await service.resetToken(await service.createUser(LOGIN, { password: COMPOSED_PASSWORD }));
  });
  after(() => service?.close());

  const validate = (payload: Record<string, unknown>, token?: string) =>
    service.request({ method: 'POST', url: URL, payload, ...(token ? { token } : {}) });

  test("PE's documented example: {password, reset-token} answered {valid: false, failures: [{rule-identifier: letters-required, friendly-error}]}", async () => {
    // 4 letters of the 8 required; 2 of each case, 4 digits and 5 other characters.
    const response = await validate({ password: 'abCD 12 #! 34', 'reset-token': resetToken });
    assert.equal(response.statusCode, 200, response.body);
    assertPeShape(response.body);
    assert.deepEqual(response.json(), {
      valid: false,
      failures: [{ 'rule-identifier': 'letters-required', 'friendly-error': 'The password must contain at least 8 letters.' }],
    });
  });

  test('a password meeting every rule: exactly {"valid": true}', async () => {
    // Not COMPOSED_PASSWORD itself: that is the user's current password, which the history refuses.
    const fresh = COMPOSED_PASSWORD.replace('47', '58');
    for (const credentials of [{ 'reset-token': resetToken }, { reset_token: resetToken }]) {
      const response = await validate({ password: fresh, ...credentials });
      assert.equal(response.statusCode, 200, response.body);
      assertPeShape(response.body);
      assert.deepEqual(response.json(), { valid: true });
    }
  });

  test("each broken rule is named by its setting's name, in PE's shape; reset-token and reset_token answer alike", async () => {
    const settingKeys = new Set<string>(SETTINGS.map((setting) => setting.key));
    const cases: [string, string[]][] = [
      ['8264 1937 5502', ['letters-required', 'lowercase-letters-required', 'uppercase-letters-required']],
      ['vbnmzxqkjwptrs', ['numbers-required', 'special-characters-required', 'uppercase-letters-required']],
      [`${COMPOSED_PASSWORD} mpos`, ['username-substring-match']],
    ];
    for (const [password, expected] of cases) {
      const hyphen = await validate({ password, 'reset-token': resetToken });
      const underscore = await validate({ password, reset_token: resetToken });
      assert.equal(hyphen.statusCode, 200, hyphen.body);
      const result = assertPeShape(hyphen.body);
      assert.deepEqual(rules(result), expected, password);
      for (const rule of rules(result)) assert.ok(settingKeys.has(rule), `${rule} is a setting's name`);
      assert.deepEqual(underscore.json(), hyphen.json(), 'both spellings of the token key');
      assert.ok(!hyphen.body.includes(password), 'the password is not echoed');
    }
  });

  test('with a login token the rules are checked for the caller (admin): the same composition failures', async () => {
    const response = await validate({ password: 'vbnmzxqkjwptrs' }, admin);
    assert.deepEqual(rules(assertPeShape(response.body)), ['numbers-required', 'special-characters-required', 'uppercase-letters-required']);
    assert.deepEqual(rules(assertPeShape((await validate({ password: `${COMPOSED_PASSWORD} mpos` }, admin)).body)), [], 'admin shares no 4 characters with it');
  });
});
