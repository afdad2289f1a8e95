// The password policy. By default NIST SP 800-63B style: a minimum length in
// Unicode code points after NFKC, an upper bound so hashing stays cheap, not
// the login, not a common password, no composition rules. PE's composition
// and login rules apply when an operator sets them. Each broken rule is one
// failure in PE's answer shape, named by its `rule-identifier`: the setting's
// name for PE's rules, a name of the service's own for the others. The login
// rules are in src/logins.ts.

import type { Config } from '../config/config.js';
import { ServiceError } from '../errors.js';
import { failure, plural, type RuleFailure } from '../rule-failures.js';
import type { Validation } from '../shapes.js';
import { isCommonPassword } from './common-passwords.js';
import { normalizePassword } from './hashing.js';

export const MAXIMUM_PASSWORD_LENGTH = 1024;
const MINIMUM_CONTAINED_LOGIN = 3;

/** The settings the password rules read. */
export type PasswordRules = Pick<
  Config,
  | 'passwordMinimumLength'
  | 'lettersRequired'
  | 'lowercaseLettersRequired'
  | 'uppercaseLettersRequired'
  | 'numbersRequired'
  | 'specialCharactersRequired'
  | 'usernameSubstringMatch'
  | 'substringCharacterLimit'
>;

export type PasswordRuleIdentifier =
  // PE's rules, named by their settings
  | 'password-minimum-length'
  | 'letters-required'
  | 'lowercase-letters-required'
  | 'uppercase-letters-required'
  | 'numbers-required'
  | 'special-characters-required'
  | 'username-substring-match'
  // the service's own
  | 'password-maximum-length'
  | 'contains-login'
  | 'common-password'
  | 'previous-password';

export { failure, plural, type RuleFailure } from '../rule-failures.js';

// Character classes by Unicode property, so a password in Greek or Japanese
// has letters and one with Arabic-Indic digits has numbers. Combining marks
// belong to the letter they modify (a Devanagari vowel sign is no special
// character); title-case letters count as upper case.
const LETTER = /\p{L}/gu;
const LOWERCASE = /\p{Ll}/gu;
const UPPERCASE = /[\p{Lu}\p{Lt}]/gu;
const DIGIT = /\p{Nd}/gu;
const SPECIAL = /[^\p{L}\p{M}\p{Nd}]/gu;
const count = (text: string, pattern: RegExp) => text.match(pattern)?.length ?? 0;

/** The composition rules PE offers: at least N characters of a kind. */
const COMPOSITION = [
  { rule: 'letters-required', setting: 'lettersRequired', pattern: LETTER, one: 'letter', many: 'letters' },
  { rule: 'lowercase-letters-required', setting: 'lowercaseLettersRequired', pattern: LOWERCASE, one: 'lower-case letter', many: 'lower-case letters' },
  { rule: 'uppercase-letters-required', setting: 'uppercaseLettersRequired', pattern: UPPERCASE, one: 'upper-case letter', many: 'upper-case letters' },
  { rule: 'numbers-required', setting: 'numbersRequired', pattern: DIGIT, one: 'digit', many: 'digits' },
  {
    rule: 'special-characters-required',
    setting: 'specialCharactersRequired',
    pattern: SPECIAL,
    one: 'character that is neither a letter nor a digit',
    many: 'characters that are neither letters nor digits',
  },
] as const;

function compositionFailures(normalized: string, rules: PasswordRules): RuleFailure<PasswordRuleIdentifier>[] {
  return COMPOSITION.filter(({ setting, pattern }) => rules[setting] > 0 && count(normalized, pattern) < rules[setting]).map(({ rule, setting, one, many }) =>
    failure(rule, `The password must contain at least ${plural(rules[setting], one, many)}.`),
  );
}

/** PE's username-substring-match: no run of `limit` characters of the login may appear in the password (case-insensitive). */
export function sharesLoginSubstring(loweredPassword: string, loweredLogin: string, limit: number): boolean {
  const login = [...loweredLogin];
  for (let start = 0; start + limit <= login.length; start += 1) {
    if (loweredPassword.includes(login.slice(start, start + limit).join(''))) return true;
  }
  return false;
}

/** Every rule a new password breaks that the password and login alone decide (the history needs the store: previous-passwords.ts). */
export function passwordFailures(password: string, rules: PasswordRules, login?: string): RuleFailure<PasswordRuleIdentifier>[] {
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  const failures: RuleFailure<PasswordRuleIdentifier>[] = [];
  if (length < rules.passwordMinimumLength) {
    failures.push(failure('password-minimum-length', `The password must be at least ${plural(rules.passwordMinimumLength, 'character', 'characters')} long.`));
  }
  if (length > MAXIMUM_PASSWORD_LENGTH) {
    failures.push(failure('password-maximum-length', `The password must be at most ${MAXIMUM_PASSWORD_LENGTH} characters long.`));
  }
  failures.push(...compositionFailures(normalized, rules));
  const lowered = normalized.toLowerCase();
  const loweredLogin = login ? normalizePassword(login).toLowerCase() : '';
  // Containment is checked for logins of 3 or more characters: a login of one
  // or two letters would otherwise forbid nearly every password.
  if (loweredLogin && (lowered === loweredLogin || ([...loweredLogin].length >= MINIMUM_CONTAINED_LOGIN && lowered.includes(loweredLogin)))) {
    failures.push(failure('contains-login', 'The password must not contain the login.'));
  }
  if (loweredLogin && rules.usernameSubstringMatch && sharesLoginSubstring(lowered, loweredLogin, rules.substringCharacterLimit)) {
    failures.push(
      failure('username-substring-match', `The password must not share ${plural(rules.substringCharacterLimit, 'character', 'characters')} in a row with the login.`),
    );
  }
  if (isCommonPassword(normalized)) {
    failures.push(failure('common-password', 'The password is on the list of commonly used passwords.'));
  }
  return failures;
}

/** The failure for a password the user had before (the check itself is in previous-passwords.ts). */
export function previousPasswordFailure(kept: number): RuleFailure<'previous-password'> {
  return failure('previous-password', `The password must differ from the last ${plural(kept, 'password', 'passwords')} of this account.`);
}

/** The rules in one sentence for people choosing a password (plain text: no markup characters). */
export function describeRules(rules: PasswordRules): string {
  const kinds = COMPOSITION.filter(({ setting }) => rules[setting] > 0).map(({ setting, one, many }) => plural(rules[setting], one, many));
  const length = `At least ${plural(rules.passwordMinimumLength, 'character', 'characters')}`;
  return kinds.length === 0
    ? `${length}. Long passphrases are best; no special characters are required.`
    : `${length}, with at least ${kinds.join(', ')}. Long passphrases are best.`;
}

/** PE's answer to validate-password and validate-login for a list of failures. */
export function validation(failures: RuleFailure[]): Validation {
  return failures.length === 0 ? { valid: true } : { valid: false, failures };
}

/**
 * The `400 invalid-password` for a list of failures. `details.failures` is
 * PE's list; `details.violations` carries the same objects under the name
 * earlier clients of this service read.
 */
export function invalidPassword(failures: readonly RuleFailure[]): ServiceError {
  return new ServiceError('invalid-password', failures.map((item) => item['friendly-error']).join(' '), { failures, violations: failures });
}

/** Throws `invalid-password` listing every rule the password breaks, for callers about to store it. */
export function assertPasswordAcceptable(password: string, rules: PasswordRules, login?: string): void {
  const failures = passwordFailures(password, rules, login);
  if (failures.length > 0) throw invalidPassword(failures);
}
