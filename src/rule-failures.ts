// One broken rule in PE's failure list, shared by the password rules
// (passwords/policy.ts) and the login rules (logins.ts). A file of its own,
// importing nothing, so that logins.ts — which the store's migrations use —
// does not depend on the passwords folder (which depends on the store).

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
