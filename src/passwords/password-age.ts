// Password age (CONTRACT §15, password-maximum-age-days): a local user whose
// password is older than the setting must change it at its next login,
// through the forced-change mark. Remote users' passwords belong to their
// directory service and never age here. Every password has a clock
// (password_changed_at): set with the password, set again by every change or
// reset, and started at migration 019 for passwords set before it — so
// turning the setting on never expires every old password at once. A user
// without a clock (no password) has nothing to expire.

import type { Config } from '../config/config.js';

const DAY_MS = 24 * 60 * 60 * 1000;

type AgeConfig = Pick<Config, 'passwordMaximumAgeDays'>;

/** When a password set at `changedAt` expires; null when passwords do not age or there is no clock. */
export function passwordExpiresAt(changedAt: Date | null, config: AgeConfig): Date | null {
  if (config.passwordMaximumAgeDays === undefined || changedAt === null) return null;
  return new Date(changedAt.getTime() + config.passwordMaximumAgeDays * DAY_MS);
}

/** The rule: a local user's password older than password-maximum-age-days at `now` has expired (exactly that old has not). */
export function passwordHasExpired(user: { is_remote: boolean; password_changed_at: Date | null }, config: AgeConfig, now: number): boolean {
  if (user.is_remote) return false;
  const expiresAt = passwordExpiresAt(user.password_changed_at, config);
  return expiresAt !== null && now > expiresAt.getTime();
}

/**
 * What POST /command/validate-password adds to PE's answer when passwords
 * age: the rule, and when a password set `now` must be changed. About the
 * candidate only, never the caller's current password. Nothing when
 * password-maximum-age-days is unset, so PE tooling sees PE's answer.
 */
export function passwordAgeNotice(config: AgeConfig, now: number): { password_maximum_age_days?: number; password_expires_at?: string } {
  const expiresAt = passwordExpiresAt(new Date(now), config);
  if (config.passwordMaximumAgeDays === undefined || expiresAt === null) return {};
  return { password_maximum_age_days: config.passwordMaximumAgeDays, password_expires_at: expiresAt.toISOString() };
}

/** The age rule in a sentence, for the reset page; empty when passwords do not age. */
export function describeAgeRule(config: AgeConfig): string {
  const days = config.passwordMaximumAgeDays;
  if (days === undefined) return '';
  return `Passwords expire ${days} day${days === 1 ? '' : 's'} after they are set: at the first login after that, a new one must be chosen.`;
}
