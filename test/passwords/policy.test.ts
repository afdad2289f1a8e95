// Pure unit tests: the password policy (docs/password-flows.md, The policy:
// length in code points after NFKC, at most 1024, not containing the login,
// not a common password, no composition rules) and the storage (argon2id,
// memory ≥ 19 MiB, iterations ≥ 2, salted, off the event loop, weaker hashes
// flagged for upgrade).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hash as argon2Hash, parseOptions, type Algorithm, type Version } from '@node-rs/argon2';
import { ServiceError } from '../../src/errors.js';
import { commonPasswordCount, isCommonPassword } from '../../src/passwords/common-passwords.js';
import { CURRENT_PARAMETERS, createPasswordHasher, hashTasksCompleted, normalizePassword, type PasswordHasher } from '../../src/passwords/hashing.js';
import { defaultConfig } from '../../src/config/config.js';
import { MAXIMUM_PASSWORD_LENGTH, assertPasswordAcceptable, describeRules, passwordFailures, type PasswordRules, type RuleFailure } from '../../src/passwords/policy.js';

// The package's enums are `const` and not importable at run time.
const ARGON2I = 1 as Algorithm;
const ARGON2ID = 2 as Algorithm;
const V0x10 = 0 as Version;

const MIN = 12;
/** The default rules (no composition rules), with the minimum length and any other setting given. */
const rules = (passwordMinimumLength = MIN, overrides: Partial<PasswordRules> = {}): PasswordRules => ({ ...defaultConfig(), passwordMinimumLength, ...overrides });
const ruleOf = (failure: RuleFailure) => failure['rule-identifier'];
const rulesOf = (password: string, options: { minimumLength?: number; login?: string } = {}) =>
  passwordFailures(password, rules(options.minimumLength), options.login).map(ruleOf);

// Strings checked by hand not to be on the common list.
const TWELVE = 'vbnmzxqkjwpt';
const ELEVEN = TWELVE.slice(0, 11);

describe('password policy: each rule on its own', () => {
  test('a good passphrase has no violations', () => {
    assert.deepEqual(passwordFailures('correct horse battery staple', rules(MIN), 'alice'), []);
  });

  test('too-short fires alone for a short, uncommon password', () => {
    assert.deepEqual(rulesOf(ELEVEN, { login: 'alice' }), ['password-minimum-length']);
  });

  test('exactly the minimum length is accepted; one less is too-short', () => {
    assert.equal([...TWELVE].length, MIN);
    assert.deepEqual(rulesOf(TWELVE), []);
    assert.deepEqual(rulesOf(ELEVEN), ['password-minimum-length']);
  });

  test('the minimum length is the configured one, not a constant', () => {
    assert.deepEqual(rulesOf(TWELVE, { minimumLength: 13 }), ['password-minimum-length']);
    assert.deepEqual(rulesOf(TWELVE.slice(0, 8), { minimumLength: 8 }), []);
    assert.deepEqual(rulesOf(`${TWELVE}${TWELVE}`.slice(0, 19), { minimumLength: 20 }), ['password-minimum-length']);
    assert.deepEqual(rulesOf(`${TWELVE}${TWELVE}`.slice(0, 20), { minimumLength: 20 }), []);
  });

  test(`${MAXIMUM_PASSWORD_LENGTH} characters are accepted; ${MAXIMUM_PASSWORD_LENGTH + 1} are too-long`, () => {
    assert.equal(MAXIMUM_PASSWORD_LENGTH, 1024);
    const long = 'abcd'.repeat(256);
    assert.equal(long.length, 1024);
    assert.deepEqual(rulesOf(long), []);
    assert.deepEqual(rulesOf(`${long}e`), ['password-maximum-length']);
  });

  test('contains-login fires alone when the password contains the login, whatever the case', () => {
    assert.deepEqual(rulesOf('my name is alice, hello', { login: 'alice' }), ['contains-login']);
    assert.deepEqual(rulesOf('my name is ALICE, hello', { login: 'alice' }), ['contains-login']);
    assert.deepEqual(rulesOf('my name is alice, hello', { login: 'AlIcE' }), ['contains-login']);
    assert.deepEqual(rulesOf('bartholomew-the-third', { login: 'bartholomew-the-third' }), ['contains-login'], 'equal to the login');
    assert.deepEqual(rulesOf('BARTHOLOMEW-THE-THIRD', { login: 'bartholomew-the-third' }), ['contains-login']);
  });

  test('a login of one or two characters is refused as the whole password, not as a part of it', () => {
    assert.deepEqual(passwordFailures('jo', rules(1), 'jo').map(ruleOf), ['contains-login']);
    assert.deepEqual(passwordFailures('a long passphrase with jo in it', rules(12), 'jo'), []);
    assert.deepEqual(
      passwordFailures('bob likes long passphrases', rules(12), 'bob').map(ruleOf),
      ['contains-login'],
      'three characters and more are checked as a part',
    );
  });

  test('contains-login does not fire for a password without the login, or without a login to compare', () => {
    assert.deepEqual(rulesOf('my name is alicia, hello', { login: 'alice' }), []);
    assert.deepEqual(rulesOf('my name is alice, hello'), []);
    assert.deepEqual(rulesOf('my name is alice, hello', { login: '' }), []);
  });

  test('contains-login compares NFKC forms: fullwidth letters are their ASCII forms, in password and login', () => {
    assert.deepEqual(rulesOf('my name is ＡＬＩＣＥ, hello', { login: 'alice' }), ['contains-login']);
    assert.deepEqual(rulesOf('my name is alice, hello', { login: 'ａｌｉｃｅ' }), ['contains-login']);
  });

  test('common-password fires alone for a listed password of acceptable length', () => {
    for (const common of ['qwerty123456', 'administrator', 'password1234']) {
      assert.ok([...common].length >= MIN);
      assert.deepEqual(rulesOf(common, { login: 'alice' }), ['common-password'], common);
    }
  });

  test("common passwords are caught without regard to case ('Password1' variants), and only when listed", () => {
    const options = { minimumLength: 8 };
    for (const variant of ['password1', 'Password1', 'PASSWORD1', 'pAsSwOrD1']) {
      assert.deepEqual(rulesOf(variant, options), ['common-password'], variant);
    }
    // Near misses that are not on the list are fine: the list is a list, not a pattern.
    for (const unlisted of ['Password1x9q', 'Password1234!', 'Password1 is my secret']) {
      assert.equal(isCommonPassword(unlisted), false, unlisted);
      assert.deepEqual(rulesOf(unlisted, options), [], unlisted);
    }
  });

  test('common passwords are compared after NFKC: fullwidth spellings are caught', () => {
    assert.deepEqual(rulesOf('ＰＡＳＳＷＯＲＤ１２３４'), ['common-password']);
  });

  test('the bundled list has at least 10,000 entries', () => {
    assert.ok(commonPasswordCount() >= 10_000, `${commonPasswordCount()} entries`);
  });

  test('no composition rules: long passphrases of one character class are valid', () => {
    assert.deepEqual(rulesOf('this is a long all lowercase passphrase'), []);
    assert.deepEqual(rulesOf('correcthorsebatterystaple'), []);
    assert.deepEqual(rulesOf('THIS IS A LONG ALL UPPERCASE PASSPHRASE'), []);
    assert.deepEqual(rulesOf('8264 1937 5502 7718 3390'), []);
  });
});

describe('password policy: rules together', () => {
  test('a short, common password containing the login breaks three rules, each reported', () => {
    const violations = passwordFailures('Password1', rules(MIN), 'pass');
    assert.deepEqual(violations.map(ruleOf).sort(), ['common-password', 'contains-login', 'password-minimum-length']);
    for (const violation of violations) {
      assert.ok(violation['friendly-error'].length > 0);
      assert.ok(!violation['friendly-error'].includes('Password1'), 'the message does not echo the password');
    }
  });

  test('too-long and contains-login together', () => {
    assert.deepEqual(rulesOf(`alice${'x'.repeat(1100)}`, { login: 'alice' }).sort(), ['contains-login', 'password-maximum-length']);
  });

  test('too-short and contains-login together', () => {
    assert.deepEqual(rulesOf('I am alice', { login: 'alice' }).sort(), ['contains-login', 'password-minimum-length']);
  });

  test('assertPasswordAcceptable throws invalid-password listing every violation, without the password', () => {
    const password = 'Password1';
    assert.throws(
      () => assertPasswordAcceptable(password, rules(), 'pass'),
      (error: unknown) => {
        assert.ok(error instanceof ServiceError);
        assert.equal(error.kind, 'invalid-password');
        assert.equal(error.status, 400);
        const { failures, violations } = error.details as { failures: RuleFailure[]; violations: RuleFailure[] };
        assert.deepEqual(failures.map(ruleOf).sort(), ['common-password', 'contains-login', 'password-minimum-length']);
        assert.deepEqual(violations, failures, 'details.violations carries the same list');
        assert.ok(!error.message.includes(password));
        assert.ok(!JSON.stringify(error.details).includes(password));
        return true;
      },
    );
    assert.doesNotThrow(() => assertPasswordAcceptable('correct horse battery staple', rules(), 'pass'));
  });
});

describe('password policy: length in code points after NFKC', () => {
  test('fullwidth letters count as their ASCII forms', () => {
    const fullwidth = 'ｖｂｎｍｚｘｑｋｊｗｐｔ';
    assert.equal(normalizePassword(fullwidth), TWELVE);
    assert.deepEqual(rulesOf(fullwidth), []);
    assert.deepEqual(rulesOf(fullwidth.slice(0, 11)), ['password-minimum-length']);
  });

  test("a password of 'ﬃ' ligatures is measured after NFKC (each is three letters)", () => {
    assert.equal(normalizePassword('ﬃ'), 'ffi');
    // 4 characters as typed, 12 after NFKC: long enough.
    assert.deepEqual(rulesOf('ﬃ'.repeat(4)), []);
    // 3 as typed, 9 after NFKC: too short — and would still be if measured before NFKC.
    assert.deepEqual(rulesOf('ﬃ'.repeat(3)), ['password-minimum-length']);
    // 342 as typed, 1026 after NFKC: too long, which only NFKC reveals.
    assert.deepEqual(rulesOf('ﬃ'.repeat(342)), ['password-maximum-length']);
  });

  test('combining sequences are composed before counting', () => {
    const decomposed = 'e\u0301'; // e + combining acute: one character after NFKC
    assert.equal(normalizePassword(decomposed).length, 1);
    assert.deepEqual(rulesOf(decomposed.repeat(11)), ['password-minimum-length'], '22 code points typed, 11 after NFKC');
    assert.deepEqual(rulesOf(decomposed.repeat(12)), []);
  });

  test('emoji count as one character each, not two UTF-16 units', () => {
    const emoji = '😀';
    assert.equal(emoji.length, 2);
    assert.deepEqual(rulesOf(emoji.repeat(11)), ['password-minimum-length'], '22 UTF-16 units, 11 code points');
    assert.deepEqual(rulesOf(emoji.repeat(12)), []);
    assert.deepEqual(rulesOf(emoji.repeat(1024)), [], '2048 UTF-16 units, 1024 code points');
    assert.deepEqual(rulesOf(emoji.repeat(1025)), ['password-maximum-length']);
  });
});

describe('password hashing', () => {
  let hasherPromise: Promise<PasswordHasher> | undefined;
  const hasher = () => (hasherPromise ??= createPasswordHasher());
  const password = 'correct horse battery staple';

  test('current parameters meet the contract: argon2id, m ≥ 19456 KiB, t ≥ 2', () => {
    assert.ok(CURRENT_PARAMETERS.memoryCost >= 19456);
    assert.ok(CURRENT_PARAMETERS.timeCost >= 2);
  });

  test('a stored hash is an argon2id PHC string with m ≥ 19456 KiB and t ≥ 2', async () => {
    const stored = await (await hasher()).hash(password);
    assert.match(stored, /^\$argon2id\$v=19\$/);
    const used = parseOptions(stored);
    assert.equal(used.algorithm, ARGON2ID);
    assert.ok(used.memoryCost >= 19456, `m=${used.memoryCost}`);
    assert.ok(used.timeCost >= 2, `t=${used.timeCost}`);
    assert.ok(used.saltLen >= 16, 'a salt of at least 16 bytes');
    assert.ok(!stored.includes(password));
  });

  test('salted: two hashes of one password differ, and both verify', async () => {
    const h = await hasher();
    const [first, second] = await Promise.all([h.hash(password), h.hash(password)]);
    assert.notEqual(first, second);
    assert.notEqual(first.split('$')[4], second.split('$')[4], 'different salts');
    assert.equal(await h.verify(first, password), true);
    assert.equal(await h.verify(second, password), true);
  });

  test('verify: false for a wrong password and for a stored value that is not a hash', async () => {
    const h = await hasher();
    const stored = await h.hash(password);
    assert.equal(await h.verify(stored, 'correct horse battery stapler'), false);
    assert.equal(await h.verify(stored, password.toUpperCase()), false, 'passwords are case-sensitive');
    assert.equal(await h.verify('not a hash', password), false);
    assert.equal(await h.verify('', password), false);
    assert.equal(await h.verify('$2b$10$abcdefghijklmnopqrstuuJ0Xf7p1xqzT4Kq7s8bY3m9Yl8R6Q1a', password), false);
  });

  test('equivalent Unicode spellings hash alike (NFKC before hashing)', async () => {
    const h = await hasher();
    const stored = await h.hash('ｃｏｒｒｅｃｔ horse battery staple');
    assert.equal(await h.verify(stored, password), true, 'fullwidth and ASCII are one password');
    const accented = await h.hash('caf\u00e9 au lait, s\u2019il vous pla\u00eet');
    assert.equal(await h.verify(accented, 'cafe\u0301 au lait, s\u2019il vous plai\u0302t'), true, 'composed and decomposed are one password');
    assert.equal(normalizePassword('ﬃ'), 'ffi');
  });

  test('hashing runs off the event loop: timers keep firing while a hash is computed', async () => {
    const h = await hasher();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      await Promise.all([h.hash(password), h.hash(password), h.verify(await h.hash(password), password)]);
    } finally {
      clearInterval(timer);
    }
    assert.ok(ticks > 0, 'the event loop ran during hashing');
  });

  test('needsRehash: false for a hash with the current parameters, or stronger ones', async () => {
    const h = await hasher();
    assert.equal(h.needsRehash(await h.hash(password)), false);
    const stronger = await argon2Hash(password, { memoryCost: 32768, timeCost: 3, parallelism: 1, algorithm: ARGON2ID });
    assert.equal(h.needsRehash(stronger), false, 'no downgrade of a stronger hash');
  });

  test('needsRehash: true for a hash with weaker or older parameters', async () => {
    const h = await hasher();
    const cases: [string, Parameters<typeof argon2Hash>[1]][] = [
      ['m=8192, t=1', { memoryCost: 8192, timeCost: 1, parallelism: 1, algorithm: ARGON2ID }],
      ['lower memory only', { memoryCost: 8192, timeCost: 2, parallelism: 1, algorithm: ARGON2ID }],
      ['fewer iterations only', { memoryCost: 19456, timeCost: 1, parallelism: 1, algorithm: ARGON2ID }],
      ['argon2i instead of argon2id', { memoryCost: 19456, timeCost: 2, parallelism: 1, algorithm: ARGON2I }],
      ['argon2 version 1.0 (v=16)', { memoryCost: 19456, timeCost: 2, parallelism: 1, algorithm: ARGON2ID, version: V0x10 }],
    ];
    for (const [name, options] of cases) {
      const weak = await argon2Hash(password, options);
      assert.equal(h.needsRehash(weak), true, name);
      assert.equal(await h.verify(weak, password), true, `${name}: still verifies, so a login can upgrade it`);
    }
  });

  test('needsRehash: true for a stored value that is not an argon2 hash', async () => {
    const h = await hasher();
    assert.equal(h.needsRehash('not a hash'), true);
    assert.equal(h.needsRehash('$2b$10$abcdefghijklmnopqrstuuJ0Xf7p1xqzT4Kq7s8bY3m9Yl8R6Q1a'), true);
  });

  test('verifyDummy takes the time of a real check and never throws', async () => {
    // The same work, counted rather than timed: one argon2id verification in the pool,
    // against a hash made with the current parameters (a weaker one would answer sooner).
    const h = await createPasswordHasher();
    assert.equal(h.needsRehash(h.dummyHash), false, 'the decoy hash has the current parameters');
    const stored = await h.hash(password);
    const beforeReal = hashTasksCompleted();
    assert.equal(await h.verify(stored, 'wrong password here'), false);
    assert.equal(hashTasksCompleted() - beforeReal, 1, 'a real check is one verification');
    for (const guess of [password, '', 'x'.repeat(1024), '\u0000\uffff']) {
      const before = hashTasksCompleted();
      await h.verifyDummy(guess);
      assert.equal(hashTasksCompleted() - before, 1, `the decoy check of ${JSON.stringify(guess.slice(0, 8))} is one verification too`);
    }
  });
});

describe("password policy: PE's composition rules", () => {
  /** The rules broken under the default rules (minimum length 8) plus `settings`. */
  const brokenWith = (password: string, settings: Partial<PasswordRules>, login?: string) => passwordFailures(password, rules(8, settings), login).map(ruleOf);

  // Each rule with a filler of 8 characters holding none of its kind, and one character of the kind.
  const ALONE = [
    { rule: 'letters-required', setting: 'lettersRequired', filler: '1234-567', kind: 'k', words: '3 letters' },
    { rule: 'lowercase-letters-required', setting: 'lowercaseLettersRequired', filler: 'QWER-123', kind: 'k', words: '3 lower-case letters' },
    { rule: 'uppercase-letters-required', setting: 'uppercaseLettersRequired', filler: 'qwer-123', kind: 'K', words: '3 upper-case letters' },
    { rule: 'numbers-required', setting: 'numbersRequired', filler: 'qwer-QWE', kind: '7', words: '3 digits' },
    { rule: 'special-characters-required', setting: 'specialCharactersRequired', filler: 'qwerQW12', kind: '#', words: '3 characters that are neither letters nor digits' },
  ] as const;

  for (const { rule, setting, filler, kind, words } of ALONE) {
    test(`${rule} alone: exactly 3 pass, 2 fail with ${rule}, and the message says "${words}"`, () => {
      assert.deepEqual(brokenWith(filler + kind.repeat(3), { [setting]: 3 }), []);
      assert.deepEqual(brokenWith(filler + kind.repeat(2), { [setting]: 3 }), [rule]);
      assert.deepEqual(brokenWith(filler, { [setting]: 1 }), [rule], 'none of the kind at all');
      const [failure] = passwordFailures(filler + kind.repeat(2), rules(8, { [setting]: 3 }));
      assert.equal(failure?.['friendly-error'], `The password must contain at least ${words}.`);
      assert.deepEqual(brokenWith(filler, {}), [], 'off (0) by default');
    });
  }

  describe('all five together', () => {
    const together = { lettersRequired: 5, lowercaseLettersRequired: 2, uppercaseLettersRequired: 2, numbersRequired: 2, specialCharactersRequired: 2 };

    test('a password exactly at every count passes', () => {
      assert.deepEqual(brokenWith('abCDe12-#', together), []);
    });

    test('one fewer of one kind fails with exactly that rule', () => {
      const cases: [string, string][] = [
        ['abCD12-#!', 'letters-required'],
        ['aBCDE12-#', 'lowercase-letters-required'],
        ['abcdE12-#', 'uppercase-letters-required'],
        ['abCDe1-#!', 'numbers-required'],
        ['abCDe12-3', 'special-characters-required'],
      ];
      for (const [password, rule] of cases) assert.deepEqual(brokenWith(password, together), [rule], password);
    });

    test('a password short of everything gets every failure, in the order of the settings', () => {
      assert.deepEqual(brokenWith('aB1-', together), [
        'password-minimum-length',
        'letters-required',
        'lowercase-letters-required',
        'uppercase-letters-required',
        'numbers-required',
        'special-characters-required',
      ]);
    });
  });
});

describe('password policy: composition counted by Unicode class', () => {
  const brokenWith = (password: string, settings: Partial<PasswordRules>) => passwordFailures(password, rules(8, settings)).map(ruleOf);

  test('Greek letters are letters, lower-case ones lower-case', () => {
    const greek = 'αβγδεζηθικλμ';
    assert.deepEqual(brokenWith(greek, { lettersRequired: 12, lowercaseLettersRequired: 12 }), []);
    assert.deepEqual(brokenWith(greek, { lettersRequired: 13 }), ['letters-required']);
    assert.deepEqual(brokenWith(`${greek}ΑΒ`, { uppercaseLettersRequired: 2 }), []);
    assert.deepEqual(brokenWith(greek, { uppercaseLettersRequired: 1 }), ['uppercase-letters-required']);
  });

  test('a Japanese password is not "without letters": every kana and kanji counts, and none is special', () => {
    const japanese = 'パスワードはとても長いです';
    assert.equal([...japanese].length, 13);
    assert.deepEqual(brokenWith(japanese, { lettersRequired: 13 }), []);
    assert.deepEqual(brokenWith(japanese, { lettersRequired: 14 }), ['letters-required']);
    assert.deepEqual(brokenWith(japanese, { specialCharactersRequired: 1 }), ['special-characters-required']);
    // Kana and kanji have no case.
    assert.deepEqual(brokenWith(japanese, { lowercaseLettersRequired: 1 }), ['lowercase-letters-required']);
  });

  test('Cyrillic letters count by their case', () => {
    const cyrillic = 'ПарольНадёжный';
    assert.deepEqual(brokenWith(cyrillic, { lettersRequired: 14, uppercaseLettersRequired: 2, lowercaseLettersRequired: 12 }), []);
    assert.deepEqual(brokenWith(cyrillic, { uppercaseLettersRequired: 3 }), ['uppercase-letters-required']);
    assert.deepEqual(brokenWith(cyrillic, { lowercaseLettersRequired: 13 }), ['lowercase-letters-required']);
  });

  test('Arabic-Indic and Devanagari digits are digits, not letters or special characters', () => {
    assert.deepEqual(brokenWith('vbnmzxqk٣٣', { numbersRequired: 2 }), []);
    assert.deepEqual(brokenWith('vbnmzxqk٣٣', { numbersRequired: 3 }), ['numbers-required']);
    assert.deepEqual(brokenWith('vbnmzxqk٣٣', { specialCharactersRequired: 1 }), ['special-characters-required']);
    assert.deepEqual(brokenWith('vbnmzxqk०७', { numbersRequired: 2 }), []);
  });

  test('upper and lower case by Unicode case: Ä, Ö are upper-case, ü and ß lower-case', () => {
    const german = '1234-ÄÖüß';
    assert.deepEqual(brokenWith(german, { uppercaseLettersRequired: 2, lowercaseLettersRequired: 2, lettersRequired: 4 }), []);
    assert.deepEqual(brokenWith(german, { uppercaseLettersRequired: 3 }), ['uppercase-letters-required']);
    assert.deepEqual(brokenWith(german, { lowercaseLettersRequired: 3 }), ['lowercase-letters-required']);
  });

  test('a Devanagari word with vowel signs and a virama has no special characters: the marks belong to their letters', () => {
    const word = 'नमस्ते'; // न म स ् त े: two of its six code points are combining marks
    assert.ok(/\p{M}/u.test(word));
    assert.deepEqual(brokenWith(`${word}${word}`, { specialCharactersRequired: 1 }), ['special-characters-required']);
    assert.deepEqual(brokenWith(`${word} ${word}`, { specialCharactersRequired: 1 }), [], 'the space is the one special character');
    assert.deepEqual(brokenWith(`${word} ${word}`, { specialCharactersRequired: 2 }), ['special-characters-required']);
    assert.deepEqual(brokenWith(`${word}${word}`, { lettersRequired: 8 }), [], 'four letters a word');
    assert.deepEqual(brokenWith(`${word}${word}`, { lettersRequired: 9 }), ['letters-required'], 'the marks are not letters either');
  });

  test('emoji and punctuation, ASCII or not, are special characters', () => {
    const password = 'vbnmzxqk😀!¿€';
    assert.deepEqual(brokenWith(password, { specialCharactersRequired: 4 }), []);
    assert.deepEqual(brokenWith(password, { specialCharactersRequired: 5 }), ['special-characters-required']);
    assert.deepEqual(brokenWith('vbnmzxqk😀😀', { specialCharactersRequired: 2 }), [], 'an emoji is one character, not two UTF-16 units');
    assert.deepEqual(brokenWith('vbnmzxqk😀😀', { specialCharactersRequired: 3 }), ['special-characters-required']);
  });

  test('NFKC comes first: fullwidth Ａ is an upper-case letter, ① a digit, the ﬃ ligature three letters, Ⅻ three upper-case letters', () => {
    assert.deepEqual(brokenWith('ｖｂｎｍｚｘｑＡ', { uppercaseLettersRequired: 1, lowercaseLettersRequired: 7 }), []);
    assert.deepEqual(brokenWith('ｖｂｎｍｚｘｑＡ', { uppercaseLettersRequired: 2 }), ['uppercase-letters-required']);
    // Before NFKC these are no digits and no letters: they count only because NFKC comes first.
    assert.deepEqual(brokenWith('vbnmzxqk①②', { numbersRequired: 2 }), []);
    assert.deepEqual(brokenWith('vbnmzxqk①②', { specialCharactersRequired: 1 }), ['special-characters-required'], '① is 1 after NFKC, no special character');
    assert.deepEqual(brokenWith('1234-567ﬃ', { lettersRequired: 3 }), []);
    assert.deepEqual(brokenWith('1234-567Ⅻ', { uppercaseLettersRequired: 3 }), []);
  });
});

describe("password policy: PE's username-substring-match", () => {
  const LOGIN = 'Bartholomew';
  // Digits and dashes: no character of the login.
  const FILLER = '1234-5678-';
  const brokenWith = (password: string, settings: Partial<PasswordRules>, login = LOGIN) => passwordFailures(password, rules(8, settings), login).map(ruleOf);

  for (const limit of [1, 3, 4]) {
    test(`with substring-character-limit ${limit}: ${limit} consecutive characters of the login fail, ${limit - 1} pass`, () => {
      const settings = { usernameSubstringMatch: true, substringCharacterLimit: limit };
      assert.deepEqual(brokenWith(FILLER + 'thol'.slice(0, limit), settings), ['username-substring-match']);
      assert.deepEqual(brokenWith(FILLER + 'thol'.slice(0, limit - 1), settings), []);
      // Runs shorter than the limit, several of them, still pass.
      if (limit > 1) assert.deepEqual(brokenWith(`${FILLER}${'bartholomew'.match(new RegExp(`.{1,${limit - 1}}`, 'g'))?.join('-')}`, settings), []);
    });
  }

  test('runs at the start and at the very end of the login count', () => {
    const settings = { usernameSubstringMatch: true, substringCharacterLimit: 3 };
    assert.deepEqual(brokenWith(`${FILLER}bar`, settings), ['username-substring-match']);
    assert.deepEqual(brokenWith(`${FILLER}mew`, settings), ['username-substring-match']);
    assert.deepEqual(brokenWith(`${FILLER}bartholome`, { ...settings, substringCharacterLimit: 10 }), ['username-substring-match'], 'the first 10 of 11');
    assert.deepEqual(brokenWith(`${FILLER}artholomew`, { ...settings, substringCharacterLimit: 10 }), ['username-substring-match'], 'the last 10 of 11');
  });

  test('case-insensitive, both ways', () => {
    const settings = { usernameSubstringMatch: true, substringCharacterLimit: 3 };
    assert.deepEqual(brokenWith(`${FILLER}THO`, settings), ['username-substring-match']);
    assert.deepEqual(brokenWith(`${FILLER}tho`, settings, 'BARTHOLOMEW'), ['username-substring-match']);
  });

  test('the message names the limit and not the login or the password', () => {
    const password = `${FILLER}THO`;
    const [failure] = passwordFailures(password, rules(8, { usernameSubstringMatch: true, substringCharacterLimit: 3 }), LOGIN);
    assert.equal(failure?.['friendly-error'], 'The password must not share 3 characters in a row with the login.');
  });

  test('off by default, even with a limit set', () => {
    assert.deepEqual(brokenWith(`${FILLER}thol`, {}), []);
    assert.deepEqual(brokenWith(`${FILLER}thol`, { substringCharacterLimit: 2 }), []);
  });
});

describe('password policy: describing the rules and not echoing the password', () => {
  const PHRASES = {
    lettersRequired: ['3 letters', 3],
    lowercaseLettersRequired: ['1 lower-case letter', 1],
    uppercaseLettersRequired: ['2 upper-case letters', 2],
    numbersRequired: ['2 digits', 2],
    specialCharactersRequired: ['1 character that is neither a letter nor a digit', 1],
  } as const;

  test('describeRules names the minimum length and each configured requirement, and only those', () => {
    const settings = Object.fromEntries(Object.entries(PHRASES).map(([setting, [, count]]) => [setting, count]));
    const all = describeRules(rules(14, settings));
    assert.match(all, /^At least 14 characters/);
    for (const [phrase] of Object.values(PHRASES)) assert.ok(all.includes(phrase), `${phrase} in ${all}`);
    for (const [setting, [phrase, count]] of Object.entries(PHRASES)) {
      const alone = describeRules(rules(12, { [setting]: count }));
      assert.ok(alone.includes(phrase), `${phrase} in ${alone}`);
      for (const [other] of Object.values(PHRASES)) if (other !== phrase) assert.ok(!alone.includes(other), `${other} not in ${alone}`);
    }
  });

  test('without composition rules describeRules says none are required', () => {
    assert.equal(describeRules(rules(12)), 'At least 12 characters. Long passphrases are best; no special characters are required.');
  });

  test('no friendly-error echoes the password or the run it shares with the login', () => {
    const password = 'Gh#Thol';
    const failures = passwordFailures(
      password,
      rules(20, { lettersRequired: 12, lowercaseLettersRequired: 6, uppercaseLettersRequired: 4, numbersRequired: 2, specialCharactersRequired: 3, usernameSubstringMatch: true, substringCharacterLimit: 4 }),
      'Bartholomew',
    );
    assert.equal(failures.length, 7);
    for (const { 'friendly-error': message } of failures) {
      assert.ok(!message.includes(password) && !message.toLowerCase().includes('thol'), message);
    }
  });
});
