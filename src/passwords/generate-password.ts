// Random passwords the service makes itself (the bootstrap admin's), built
// to meet whatever composition rules the operator set: the required
// characters of each kind first, random letters and digits up to the length,
// then shuffled.

import { randomInt } from 'node:crypto';
import { passwordFailures, type PasswordRules } from './policy.js';

// 24 characters of 62 (about 143 bits), or as many as the policy asks for.
const GENERATED_PASSWORD_LENGTH = 24;
const LOWERCASE = 'abcdefghijklmnopqrstuvwxyz';
const UPPERCASE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
// Safe to paste into a shell inside single quotes and into YAML.
const SPECIALS = '-_.~!@#%+=';
const TRIES = 1000;

const pick = (pool: string, count: number) => Array.from({ length: count }, () => pool[randomInt(pool.length)] as string);

function shuffled(characters: string[]): string[] {
  for (let i = characters.length - 1; i > 0; i -= 1) {
    const j = randomInt(i + 1);
    [characters[i], characters[j]] = [characters[j] as string, characters[i] as string];
  }
  return characters;
}

/** A random password that meets `rules` for `login`; throws when the rules leave no room for one. */
export function generatePassword(rules: PasswordRules, login: string): string {
  // With username-substring-match on single characters, the login's letters are out.
  const allowed = (pool: string) =>
    rules.usernameSubstringMatch && rules.substringCharacterLimit === 1 ? [...pool].filter((c) => !login.toLowerCase().includes(c.toLowerCase())).join('') : pool;
  const lower = allowed(LOWERCASE);
  const upper = allowed(UPPERCASE);
  const letters = lower + upper;
  const filler = letters + allowed(DIGITS);
  const required = [
    ...pick(lower, rules.lowercaseLettersRequired),
    ...pick(upper, rules.uppercaseLettersRequired),
    ...pick(letters, Math.max(0, rules.lettersRequired - rules.lowercaseLettersRequired - rules.uppercaseLettersRequired)),
    ...pick(allowed(DIGITS), rules.numbersRequired),
    ...pick(SPECIALS, rules.specialCharactersRequired),
  ];
  const length = Math.max(GENERATED_PASSWORD_LENGTH, rules.passwordMinimumLength, required.length);
  for (let attempt = 0; attempt < TRIES && filler !== ''; attempt += 1) {
    const candidate = shuffled([...required, ...pick(filler, length - required.length)]).join('');
    if (passwordFailures(candidate, rules, login).length === 0) return candidate;
  }
  throw new Error('The password rules leave no room for a generated password; set one yourself (RBAC_ADMIN_PASSWORD).');
}
