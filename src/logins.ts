// What a login may be, and when two logins count as one account or as look-alikes.
// Pure functions: users.ts enforces them, and migrations reuse them on
// existing rows.

import unhomoglyph from 'unhomoglyph';
import type { Config } from './config/config.js';
import { ServiceError } from './errors.js';
import { LETTER_FORMS } from './letter-forms.js';
import { failure, plural, type RuleFailure } from './rule-failures.js';

/** Logins compare without regard to case or Unicode spelling: `Admin` is `admin`. */
export function loginKey(login: string): string {
  return login.normalize('NFKC').toLowerCase();
}

// Marks that decorate a letter of any script — accents, the dot of İ, the
// overlays TR39 writes for ł and đ, Arabic vowel points. The vowel signs of
// Indic and Thai scripts belong to their script instead, and stay: they spell
// other words (कमल, कोमल).
const DIACRITIC = /(?=\p{M})\p{Script=Inherited}/gu;

// A capital of another script (Cyrillic, Greek, Cherokee…), which lower-casing
// would turn into a letter that no longer looks Latin (М → м).
const FOREIGN_CAPITAL = /(?=\p{Lu})\P{Script=Latin}/gu;

// TR39 files I under l; a foreign capital that reads as I (Cyrillic І, Greek Ι)
// becomes I, which then folds as the Latin letter does.
const LATIN_CAPITAL_BY_PROTOTYPE = new Map([...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'].map((capital) => [unhomoglyph(capital), capital]));
const LATIN_LETTERS = /^[A-Za-z]+$/;

const PLAIN_LETTER = new Map(Object.entries(LETTER_FORMS).flatMap(([plain, forms]) => [...forms].map((form) => [form, plain] as const)));

/** A foreign capital as the Latin letters it reads as (`М` → `M`, `І` → `I`, `Ь` → `b`), or unchanged. */
function latinCapitalFor(capital: string): string {
  const prototype = unhomoglyph(capital);
  return LATIN_CAPITAL_BY_PROTOTYPE.get(prototype) ?? (LATIN_LETTERS.test(prototype) ? prototype : capital);
}

/**
 * Unicode case folding, which `toLowerCase` alone is not (`ß` and `ss`,
 * `ς` and `σ`): upper-casing between two lower-casings puts every
 * character in the class full case folding puts it in (checked against
 * Unicode 16's CaseFolding.txt for every assigned code point; it adds `ı`
 * to `i`, as TR39 does).
 */
const caseFold = (text: string) => text.toLowerCase().toUpperCase().toLowerCase();

/** Case-folded, decomposed, without diacritics, small capitals and hooked letters as their plain letter (`ɴ` → `n`). */
function plainLetters(text: string): string {
  const bare = caseFold(text).normalize('NFD').replace(DIACRITIC, '');
  return Array.from(bare, (char) => PLAIN_LETTER.get(char) ?? char).join('');
}

/**
 * What a login reads as, for telling look-alikes apart: two logins with the
 * same skeleton cannot be told apart in a list of users. It is the Unicode
 * TR39 skeleton (every character replaced by its prototype from
 * confusables.txt, the `unhomoglyph` package's data: `аdmin` with a Cyrillic
 * а, `admın`, `adrnin`) plus what TR39 leaves apart but a reader does not:
 * diacritics (`ádmin`, `admİn`), small capitals and letters with a hook or
 * stroke (`admiɴ`, `ađmin`), Unicode case folding (`Straße`, `STRASSE`), and
 * Cyrillic or Greek capitals that look Latin (`ADΜIN` with a Greek Μ), taken
 * before case folding turns them into letters that do not. Meant for
 * comparing, never for showing; unlike loginKey it can differ between two
 * spellings of one login (`adмin`, `adМin`).
 */
export function loginSkeleton(login: string): string {
  const latinCapitals = login.normalize('NFKD').replace(DIACRITIC, '').replace(FOREIGN_CAPITAL, latinCapitalFor);
  return plainLetters(unhomoglyph(plainLetters(latinCapitals)));
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
