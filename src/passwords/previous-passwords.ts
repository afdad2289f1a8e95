// The password history rule, PE's number-of-previous-passwords: a new
// password may not be any of the user's last N, the current one included
// (with N = 1 only the current one is refused; 0 refuses nothing). Stored
// hashes are salted, so the check verifies the candidate against each of them
// in the hashing pool: N argon2id verifications, which is why it runs only for
// a password the policy's free rules accept. What is kept, and for how long:
// src/store/password-history.ts; written by replacePassword (credentials.ts).

import type { Config } from '../config/config.js';
import * as passwordHistory from '../store/password-history.js';
import type { Executor } from '../store/transaction.js';
import type { PasswordHasher } from './hashing.js';
import { invalidPassword, passwordFailures, previousPasswordFailure, type PasswordRules, type RuleFailure } from './policy.js';

/** The setting the history rule reads. */
export type HistoryRules = Pick<Config, 'numberOfPreviousPasswords'>;

export interface HistoryDeps {
  db: Executor;
  hasher: PasswordHasher;
  config: HistoryRules;
}

/** The previous-password failure when `password` is one of the user's last N passwords. */
export async function reusedPassword(deps: HistoryDeps, userId: string, password: string): Promise<RuleFailure<'previous-password'> | undefined> {
  const count = deps.config.numberOfPreviousPasswords;
  const hashes = await passwordHistory.lastPasswords(deps.db, userId, count);
  // All at once rather than one after another until a match: a new password
  // (the usual case) has to be checked against every hash anyway, and the pool
  // spreads them over its cores, so the answer comes after about N / cores
  // verifications instead of N. The CPU spent is the same either way.
  const matches = await Promise.all(hashes.map((hash) => deps.hasher.verify(hash, password)));
  return matches.includes(true) ? previousPasswordFailure(count) : undefined;
}

/**
 * Every rule a new password for this user breaks, in one list: the policy's
 * rules, then — only when those pass, so a refusal they decide costs no hash —
 * the history.
 */
export async function newPasswordFailures(
  deps: Omit<HistoryDeps, 'config'> & { config: PasswordRules & HistoryRules },
  user: { id: string; login: string },
  password: string,
): Promise<RuleFailure[]> {
  const failures: RuleFailure[] = passwordFailures(password, deps.config, user.login);
  if (failures.length > 0) return failures;
  const reused = await reusedPassword(deps, user.id, password);
  return reused ? [reused] : [];
}

/** Throws `invalid-password` listing what newPasswordFailures finds, for callers about to store the password. */
export async function assertNewPasswordAcceptable(
  deps: Parameters<typeof newPasswordFailures>[0],
  user: { id: string; login: string },
  password: string,
): Promise<void> {
  const failures = await newPasswordFailures(deps, user, password);
  if (failures.length > 0) throw invalidPassword(failures);
}
