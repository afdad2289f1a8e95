// The password policy: NIST SP 800-63B style. Length in
// Unicode code points after NFKC, an upper bound so hashing stays cheap, not
// the login, not a common password, and no composition rules. Each broken
// rule is reported on its own.

import { ServiceError } from '../errors.js';
import { isCommonPassword } from './common-passwords.js';
import { normalizePassword } from './hashing.js';

export const MAXIMUM_PASSWORD_LENGTH = 1024;
const MINIMUM_CONTAINED_LOGIN = 3;

export interface PolicyViolation {
  rule: 'too-short' | 'too-long' | 'contains-login' | 'common-password';
  msg: string;
}

export interface PolicyOptions {
  minimumLength: number;
  login?: string | undefined;
}

export function checkPassword(password: string, options: PolicyOptions): PolicyViolation[] {
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  const violations: PolicyViolation[] = [];
  if (length < options.minimumLength) {
    violations.push({ rule: 'too-short', msg: `The password must be at least ${options.minimumLength} characters long.` });
  }
  if (length > MAXIMUM_PASSWORD_LENGTH) {
    violations.push({ rule: 'too-long', msg: `The password must be at most ${MAXIMUM_PASSWORD_LENGTH} characters long.` });
  }
  const login = options.login ? normalizePassword(options.login).toLowerCase() : '';
  const lowered = normalized.toLowerCase();
  // Containment is checked for logins of 3 or more characters: a login of one
  // or two letters would otherwise forbid nearly every password.
  if (login && (lowered === login || ([...login].length >= MINIMUM_CONTAINED_LOGIN && lowered.includes(login)))) {
    violations.push({ rule: 'contains-login', msg: 'The password must not contain the login.' });
  }
  if (isCommonPassword(normalized)) {
    violations.push({ rule: 'common-password', msg: 'The password is on the list of commonly used passwords.' });
  }
  return violations;
}

/** Throws `invalid-password` listing every violation, for callers about to store a password. */
export function assertPasswordAcceptable(password: string, options: PolicyOptions): void {
  const violations = checkPassword(password, options);
  if (violations.length > 0) {
    throw new ServiceError('invalid-password', violations.map((violation) => violation.msg).join(' '), { violations });
  }
}
