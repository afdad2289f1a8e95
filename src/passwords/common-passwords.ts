// The bundled list of common passwords: the 49,000 most common passwords of
// zxcvbn-ts's `passwords-common` dictionary (@zxcvbn-ts/language-common, a
// maintained package), compared without regard to case.

import { dictionary } from '@zxcvbn-ts/language-common';

let commonPasswords: Set<string> | undefined;

function list(): Set<string> {
  commonPasswords ??= new Set((dictionary['passwords-common'] as string[]).map((entry) => entry.toLowerCase()));
  return commonPasswords;
}

export function commonPasswordCount(): number {
  return list().size;
}

/** `normalized` is the NFKC form of the password. */
export function isCommonPassword(normalized: string): boolean {
  return list().has(normalized.toLowerCase());
}
