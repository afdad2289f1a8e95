// Pure unit tests: the random passwords the service makes itself (the
// bootstrap admin's) meet whatever rules are set, every time — hence many
// draws per rule set — and are refused loudly when the rules leave no room.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultConfig, type Config } from '../../src/config/config.js';
import { generatePassword } from '../../src/passwords/generate-password.js';
import { passwordFailures } from '../../src/passwords/policy.js';

const DRAWS = 300;

/** Draws DRAWS passwords for `login` under `settings`; each meets the rules. */
function drawn(settings: Partial<Config>, login = 'admin'): string[] {
  const rules = defaultConfig(settings);
  return Array.from({ length: DRAWS }, () => {
    const password = generatePassword(rules, login);
    assert.deepEqual(passwordFailures(password, rules, login), [], password.length.toString());
    return password;
  });
}

describe('generated passwords', () => {
  test('by default: 24 characters, all different', () => {
    const passwords = drawn({});
    assert.ok(passwords.every((password) => password.length === 24));
    assert.equal(new Set(passwords).size, DRAWS);
  });

  test('every composition rule at once, with a minimum length of 30', () => {
    const passwords = drawn({ lettersRequired: 10, uppercaseLettersRequired: 3, numbersRequired: 3, specialCharactersRequired: 3, lowercaseLettersRequired: 2, passwordMinimumLength: 30 });
    assert.ok(passwords.every((password) => password.length === 30));
  });

  test('more required characters than the default length: as long as the rules need', () => {
    const passwords = drawn({ uppercaseLettersRequired: 10, numbersRequired: 10, specialCharactersRequired: 10 });
    assert.ok(passwords.every((password) => password.length === 30));
  });

  for (const limit of [1, 2, 3]) {
    test(`username-substring-match with substring-character-limit ${limit} for "admin"`, () => {
      const passwords = drawn({ usernameSubstringMatch: true, substringCharacterLimit: limit, uppercaseLettersRequired: 3, numbersRequired: 3, specialCharactersRequired: 3 });
      if (limit === 1) assert.ok(passwords.every((password) => !/[admin]/i.test(password)));
    });
  }

  test('rules that leave no character to use: an error saying to set the password instead, not a password that breaks them', () => {
    const rules = defaultConfig({ usernameSubstringMatch: true, substringCharacterLimit: 1 });
    assert.throws(() => generatePassword(rules, 'abcdefghijklmnopqrstuvwxyz0123456789'), /leave no room for a generated password; set one yourself \(RBAC_ADMIN_PASSWORD\)/);
  });
});
