// What a login may be, and when two logins count as one account or as look-alikes.
// Pure functions: users.ts enforces them, and migrations reuse them on
// existing rows.

import unhomoglyph from 'unhomoglyph';
import { ServiceError } from './errors.js';

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

/** Refuses a login holding a character nobody can see: two logins that differ only there would look the same. */
export function assertLoginVisible(login: string): void {
  for (const candidate of [login, loginKey(login)]) {
    const found = INVISIBLE.exec(candidate);
    if (found) {
      throw new ServiceError(
        'schema-violation',
        `The login contains ${codePoint(found[0])}, an invisible, control or formatting character; logins may hold only visible characters.`,
        { field: 'login' },
      );
    }
  }
}
