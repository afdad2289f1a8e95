// An account's state in words, for people: what `rbac users show` and
// `rbac users list` print (the reset page says the same to the user, in its
// own words). Every state that applies, the one that stops a login first.

import type { RevokedBy } from '../store/users.js';

export interface AccountFacts {
  is_revoked: boolean;
  revoked_by: RevokedBy | null;
  /** When failed-attempts-lockout-duration lifts a lockout; null when nothing will. */
  lockout_lifts_at: Date | null;
  password_change_required: boolean;
  /** Whether the password is older than password-maximum-age-days; undefined when not known (a listing). */
  password_expired?: boolean;
  /** When the password expires; null when passwords do not age or there is none. */
  password_expires_at?: Date | null;
}

export function accountStateInWords(facts: AccountFacts): string[] {
  const words: string[] = [];
  if (facts.is_revoked) words.push(revocationInWords(facts.revoked_by, facts.lockout_lifts_at));
  if (facts.password_expired) words.push(facts.password_expires_at ? `password expired on ${facts.password_expires_at.toISOString()}` : 'password expired');
  if (facts.password_change_required) words.push('password change required');
  if (words.length === 0) words.push('active');
  return words;
}

function revocationInWords(revokedBy: RevokedBy | null, liftsAt: Date | null): string {
  switch (revokedBy) {
    case 'lockout':
      return liftsAt ? `locked by failed logins until ${liftsAt.toISOString()}` : 'locked by failed logins until reinstated or reset';
    case 'administrator':
      return 'revoked by an administrator';
    case 'expiry':
      return 'revoked by account expiry';
    default:
      return 'revoked';
  }
}
