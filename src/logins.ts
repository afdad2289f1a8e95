// What a login may be, and when two logins count as one account or as look-alikes.
// Pure functions: users.ts enforces them, and migrations reuse them on
// existing rows.

import unhomoglyph from 'unhomoglyph';
import type { Config } from './config/config.js';
import { ServiceError } from './errors.js';
import { failure, plural, type RuleFailure } from './rule-failures.js';

/** Logins compare without regard to case or Unicode spelling: `Admin` is `admin`. */
export function loginKey(login: string): string {
  return login.normalize('NFKC').toLowerCase();
}

/**
 * The Unicode TR39 skeleton of a login's key: NFD, every character replaced
 * by its prototype from confusables.txt (the `unhomoglyph` package's data),
 * NFD again. Logins that look alike — `аdmin` with a Cyrillic а, `admın` with
 * a dotless ı, `adrnin` — have the same skeleton; it is meant for comparing,
 * never for showing.
 */
export function loginSkeleton(login: string): string {
  return unhomoglyph(loginKey(login).normalize('NFD')).normalize('NFD');
}

// Characters a reader cannot see, or that render differently from what is
// stored: control and format characters (zero-width space, soft hyphen,
// bidi overrides), line and paragraph separators, surrogates, private-use and
// unassigned code points, and whatever Unicode says a renderer may ignore
// (variation selectors, the Hangul fillers, the combining grapheme joiner).
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}\p{Default_Ignorable_Code_Point}]/u;

const codePoint = (char: string) => `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

/** The first character of a login nobody can see, if any: two logins that differ only there would look the same. */
function invisibleCharacterIn(login: string): string | undefined {
  return INVISIBLE.exec(login)?.[0] ?? INVISIBLE.exec(loginKey(login))?.[0];
}

/** The settings the login rules read. */
export type LoginRules = Pick<Config, 'loginMinimumLength'>;

export type LoginRuleIdentifier = 'login-minimum-length' | 'login-visible-characters' | 'login-taken' | 'login-look-alike';

/** The rules a new login must meet that the login alone decides; users.ts adds "not taken" and "no look-alike". */
export function loginFailures(login: string, rules: LoginRules): RuleFailure<LoginRuleIdentifier>[] {
  const failures: RuleFailure<LoginRuleIdentifier>[] = [];
  if ([...login.normalize('NFKC')].length < rules.loginMinimumLength) {
    failures.push(failure('login-minimum-length', `The login must be at least ${plural(rules.loginMinimumLength, 'character', 'characters')} long.`));
  }
  const invisible = invisibleCharacterIn(login);
  if (invisible !== undefined) {
    failures.push(
      failure(
        'login-visible-characters',
        `The login contains ${codePoint(invisible)}, an invisible, control or formatting character; logins may hold only visible characters.`,
      ),
    );
  }
  return failures;
}

export const loginTakenFailure = (login: string) => failure('login-taken' as const, `A user with the login "${login}" already exists.`);
export const loginLookAlikeFailure = (login: string) =>
  failure('login-look-alike' as const, `The login "${login}" looks like the login of an existing user; choose one that cannot be mistaken for it.`);

/** Throws `schema-violation` naming the login rules broken, for callers about to store a login. */
export function assertLoginAcceptable(login: string, rules: LoginRules): void {
  const failures = loginFailures(login, rules);
  if (failures.length > 0) {
    throw new ServiceError('schema-violation', failures.map((item) => item['friendly-error']).join(' '), { field: 'login', failures });
  }
}
