// The bootstrap admin: a generated password always meets the configured
// policy — however long the minimum length, whatever composition rules and
// username-substring-match are set — and an RBAC_ADMIN_PASSWORD the rules
// refuse stops the first start, naming the rules it breaks.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createPasswordHasher, type PasswordHasher } from '../../src/passwords/hashing.js';
import { defaultConfig, type Config } from '../../src/config/config.js';
import { ServiceError } from '../../src/errors.js';
import { passwordFailures } from '../../src/passwords/policy.js';
import type { Store } from '../../src/store/database.js';
import { ensureBootstrapAdmin } from '../../src/users/bootstrap.js';
import { describeEachDatabase, openMigratedStore } from '../kit/databases.js';
import { failedRules } from '../kit/errors.js';
import { ADMIN_PASSWORD } from '../kit/passwords.js';

/** 3 upper-case letters, 3 digits, 3 special characters, 2 lower-case letters, at least 30 characters. */
const COMPOSITION: Partial<Config> = {
  uppercaseLettersRequired: 3,
  numbersRequired: 3,
  specialCharactersRequired: 3,
  lowercaseLettersRequired: 2,
  passwordMinimumLength: 30,
};

describeEachDatabase('bootstrap admin', (target) => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  let hasherPromise: Promise<PasswordHasher> | undefined;

  /** A migrated, empty store of its own (closed after the suite) and the hasher. */
  async function emptyStore(): Promise<{ store: Store; hasher: PasswordHasher }> {
    const { store, cleanup } = await openMigratedStore(target.dialect);
    cleanups.push(cleanup);
    return { store, hasher: await (hasherPromise ??= createPasswordHasher()) };
  }

  /** Bootstraps with a generated password under `settings`; checks it meets them and is the admin's; returns it. */
  async function generatedUnder(settings: Partial<Config>): Promise<string> {
    const { store, hasher } = await emptyStore();
    const rules = defaultConfig(settings);
    const result = await ensureBootstrapAdmin({ db: store.db, hasher, rules }, undefined);
    assert.equal(result.created, true);
    const password = result.generatedPassword as string;
    assert.ok(password.length >= Math.max(24, rules.passwordMinimumLength), `${password.length} characters`);
    assert.deepEqual(passwordFailures(password, rules, 'admin'), []);
    const row = await store.db.selectFrom('users').select('password_hash').where('login', '=', 'admin').executeTakeFirstOrThrow();
    assert.ok(await hasher.verify(row.password_hash as string, password));
    assert.deepEqual(await ensureBootstrapAdmin({ db: store.db, hasher, rules }, undefined), { created: false }, 'only once');
    return password;
  }

  for (const minimumLength of [12, 40]) {
    test(`with password-minimum-length ${minimumLength} the generated password meets the policy and is the admin's password`, async () => {
      await generatedUnder({ passwordMinimumLength: minimumLength });
    });
  }

  test('with 3 upper-case, 3 digits, 3 special, 2 lower-case and 30 characters the generated password has them all', async () => {
    const password = await generatedUnder(COMPOSITION);
    assert.ok((password.match(/[A-Z]/g) ?? []).length >= 3, password.length.toString());
    assert.ok((password.match(/[0-9]/g) ?? []).length >= 3);
    assert.ok((password.match(/[^A-Za-z0-9]/g) ?? []).length >= 3);
    assert.ok((password.match(/[a-z]/g) ?? []).length >= 2);
  });

  test('with username-substring-match and substring-character-limit 1 no character of "admin" is in it, in any case, and the rules still hold', async () => {
    const password = await generatedUnder({ ...COMPOSITION, usernameSubstringMatch: true, substringCharacterLimit: 1 });
    assert.doesNotMatch(password, /[admin]/i);
  });

  test('an RBAC_ADMIN_PASSWORD breaking a composition rule is refused, naming RBAC_ADMIN_PASSWORD and the rule; no admin is created', async () => {
    const { store, hasher } = await emptyStore();
    await assert.rejects(ensureBootstrapAdmin({ db: store.db, hasher, rules: defaultConfig({ numbersRequired: 3 }) }, ADMIN_PASSWORD), (error: unknown) => {
      assert.ok(error instanceof ServiceError);
      assert.equal(error.kind, 'invalid-password');
      assert.equal(error.message, 'RBAC_ADMIN_PASSWORD is not acceptable: The password must contain at least 3 digits.');
      assert.deepEqual(failedRules({ kind: error.kind, msg: error.message, details: error.details }), ['numbers-required']);
      return true;
    });
    assert.deepEqual(await store.db.selectFrom('users').select('login').execute(), [{ login: 'api_user' }], "no admin: only PE's api_user, which the migrations make");
  });
});
