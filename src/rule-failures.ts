// PE's way of saying which rules a password or a login breaks: one
// `{rule-identifier, friendly-error}` per broken rule, and the answer of
// validate-password and validate-login built from them. A leaf module: the
// password policy (passwords/policy.ts) and the login rules (logins.ts) both
// speak it.

import type { Validation } from './shapes.js';

/** One broken rule, as PE's validate-password and validate-login answer it. */
export interface RuleFailure<Identifier extends string = string> {
  'rule-identifier': Identifier;
  'friendly-error': string;
}

export const failure = <Identifier extends string>(rule: Identifier, message: string): RuleFailure<Identifier> => ({
  'rule-identifier': rule,
  'friendly-error': message,
});

export const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;

/** PE's answer to validate-password and validate-login for a list of failures. */
export function validation(failures: RuleFailure[]): Validation {
  return failures.length === 0 ? { valid: true } : { valid: false, failures };
}
