// POST /command/validate-login: PE's {valid, failures} answer for a login
// before creating or renaming a user. Authenticated (401 without a token);
// the static rules (login-minimum-length, visible characters) for everyone;
// "not taken" and "no look-alike" only for callers who may list users
// (superusers, holders of any users permission), so nobody else can probe
// which logins exist. It checks and changes nothing.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import type { TestService } from '../kit/service.js';
import { api, usersSuite } from './support.js';

const MINIMUM = 6;

interface Result {
  valid: boolean;
  failures?: { 'rule-identifier': string; 'friendly-error': string }[];
}

const rulesOf = (result: Result) => (result.failures ?? []).map((failure) => failure['rule-identifier']);

describeEachDatabase('validate-login', (target) => {
  const suite = usersSuite(target, { loginMinimumLength: MINIMUM });
  let service: TestService;
  let admin: string;
  /** A user with no users permission at all. */
  let plain: string;
  /** A user whose only users permission is reset_password on one other user. */
  let resetter: string;
  before(async () => {
    ({ service, admin } = suite);
    plain = (await suite.actorWith('plain-caller', [])).token;
    const someone = await service.createUser('someone-else');
    resetter = (await suite.actorWith('reset-caller', [suite.users('reset_password', someone)])).token;
  });

  const validate = (payload: unknown, token?: string) =>
    service.request({ method: 'POST', url: api('/command/validate-login'), payload: payload as Record<string, unknown>, ...(token ? { token } : {}) });
  /** The answer, checked to be 200 in PE's shape. */
  const answer = async (login: string, token: string): Promise<Result> => {
    const response = await validate({ login }, token);
    assert.equal(response.statusCode, 200, response.body);
    const result = response.json() as Result;
    if (result.valid) assert.equal(response.body, '{"valid":true}');
    else {
      assert.deepEqual(Object.keys(result).sort(), ['failures', 'valid']);
      for (const failure of result.failures ?? []) assert.deepEqual(Object.keys(failure).sort(), ['friendly-error', 'rule-identifier']);
    }
    return result;
  };

  test('without a login token: 401 user-unauthenticated', async () => {
    assertError(await validate({ login: 'free-login' }), 401, 'user-unauthenticated');
    assertError(await validate({ login: 'free-login' }, 'x'.repeat(43)), 401, 'user-unauthenticated');
  });

  test('a body without login, with extra keys or with a login that is no string: 400 schema-violation', async () => {
    for (const payload of [{}, { login: 'free-login', extra: true }, { login: 42 }, { name: 'free-login' }]) {
      assertError(await validate(payload, admin), 400, 'schema-violation');
    }
  });

  test('a free login: exactly {"valid": true}', async () => {
    assert.deepEqual(await answer('a-free-login', admin), { valid: true });
    assert.deepEqual(await answer('a-free-login', plain), { valid: true });
  });

  test(`login-minimum-length ${MINIMUM}: ${MINIMUM} characters pass, ${MINIMUM - 1} fail with that rule-identifier, for every caller`, async () => {
    for (const token of [admin, plain]) {
      assert.deepEqual(await answer('sixsix', token), { valid: true });
      assert.deepEqual(await answer('fivee', token), {
        valid: false,
        failures: [{ 'rule-identifier': 'login-minimum-length', 'friendly-error': `The login must be at least ${MINIMUM} characters long.` }],
      });
      assert.deepEqual(rulesOf(await answer('  fivee  ', token)), ['login-minimum-length'], 'measured as stored: trimmed');
      assert.deepEqual(rulesOf(await answer('', token)), ['login-minimum-length']);
    }
  });

  test('an invisible character (U+200B) is login-visible-characters, named in the message', async () => {
    for (const token of [admin, plain]) {
      const result = await answer('visible\u200bname', token);
      assert.deepEqual(rulesOf(result), ['login-visible-characters']);
      assert.match(result.failures?.[0]?.['friendly-error'] ?? '', /U\+200B/);
    }
  });

  test('for a superuser: a taken login in any case is login-taken, a look-alike login-look-alike', async () => {
    await service.createUser('Taken-Login');
    for (const login of ['Taken-Login', 'taken-login', 'TAKEN-LOGIN']) {
      assert.deepEqual(rulesOf(await answer(login, admin)), ['login-taken'], login);
    }
    assert.deepEqual(rulesOf(await answer('ADMIN', admin)), ['login-minimum-length', 'login-taken'], 'admin is short and taken');
    assert.deepEqual(rulesOf(await answer('\u0430dmin', admin)), ['login-minimum-length', 'login-look-alike'], 'Cyrillic а');
    assert.deepEqual(rulesOf(await answer('t\u0430ken-login', admin)), ['login-look-alike'], 'Cyrillic а in a long login');
  });

  test('for a superuser: accented, dotted, small-capital and Cyrillic or Greek capital look-alikes are login-look-alike', async () => {
    const shortOnes = ['\u00e1dmin', 'adm\u0130n', 'admi\u0274', 'AD\u041cIN', 'ADMI\u039d', '\u0391D\u039c\u0399\u039d'];
    for (const login of shortOnes) {
      assert.deepEqual(rulesOf(await answer(login, admin)), ['login-minimum-length', 'login-look-alike'], login);
    }
    await service.createUser('Marta-Lookalike');
    for (const login of ['M\u00e1rta-Lookalike', 'mart\u1d00-lookalike', '\u041cARTA-LOOKALIKE', 'MARTA-LOOKAL\u0399KE', 'marta-lookal\u0131ke']) {
      assert.deepEqual(rulesOf(await answer(login, admin)), ['login-look-alike'], login);
    }
    assert.deepEqual(await answer('marta-lookalikes', admin), { valid: true }, 'one letter more is another login');
  });

  test('for a holder of any users permission (reset_password on one user): taken and look-alike are told too', async () => {
    await service.createUser('Taken-For-Resetter');
    assert.deepEqual(rulesOf(await answer('TAKEN-FOR-RESETTER', resetter)), ['login-taken']);
    assert.deepEqual(rulesOf(await answer('t\u0430ken-for-resetter', resetter)), ['login-look-alike']);
  });

  test('for a caller without any users permission: taken and look-alike logins answer as free ones, the static rules still apply', async () => {
    await service.createUser('Taken-Hidden');
    assert.deepEqual(await answer('TAKEN-HIDDEN', plain), { valid: true });
    assert.deepEqual(await answer('t\u0430ken-hidden', plain), { valid: true });
    assert.deepEqual(await answer('plain-caller', plain), { valid: true }, 'not even its own login');
    assert.deepEqual(await answer('ADMIN', plain), {
      valid: false,
      failures: [{ 'rule-identifier': 'login-minimum-length', 'friendly-error': `The login must be at least ${MINIMUM} characters long.` }],
    });
    assert.deepEqual(rulesOf(await answer('\u0430dmin', plain)), ['login-minimum-length']);
  });

  test('validating creates and changes nothing', async () => {
    const rows = async () => service.store.db.selectFrom('users').selectAll().orderBy('id').execute();
    const events = async () => (await service.store.db.selectFrom('audit_events').select('id').execute()).length;
    const before = { users: await rows(), events: await events() };
    for (const login of ['brand-new-login', 'ADMIN', 'fivee', '\u0430dmin']) {
      await answer(login, admin);
      await answer(login, plain);
    }
    assert.deepEqual(await rows(), before.users);
    assert.equal(await events(), before.events);
  });
});
