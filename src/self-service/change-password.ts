// PUT /users/current/password — a logged-in local user changes their own
// password. A wrong current password counts toward lockout. The new password
// meets the policy before the current one is checked, and the history after.
// On success every other login token of the user is revoked; the one used
// here keeps working.

import { partyOf, recordEvent } from '../audit/audit.js';
import type { Authenticated } from '../login/login-tokens.js';
import { checkUserPassword, releasingOnError, revokedError } from '../login/password-check.js';
import type { Config } from '../config/config.js';
import { ServiceError, notFound } from '../errors.js';
import { inTransaction, type Db } from '../store/transaction.js';
import * as users from '../store/users.js';
import type { PasswordHasher } from '../passwords/hashing.js';
import { assertPasswordAcceptable, invalidPassword, type PasswordRules } from '../passwords/policy.js';
import { reusedPassword, type HistoryRules } from '../passwords/previous-passwords.js';
import { replacePassword } from '../passwords/credentials.js';

export interface ChangeDeps {
  db: Db;
  hasher: PasswordHasher;
  config: PasswordRules & HistoryRules & Pick<Config, 'failedAttemptsLockout' | 'failedAttemptsLockoutDurationSeconds'>;
  /** The clock the new password's age starts by; the system clock otherwise. */
  now?: () => number;
}

export interface ChangeRequest {
  current_password: string;
  password: string;
}

export async function changeOwnPassword(deps: ChangeDeps, actor: Authenticated, request: ChangeRequest, sourceAddress: string | null): Promise<void> {
  const user = await users.byId(deps.db, actor.id);
  if (!user) throw notFound('The user');
  if (user.is_remote) {
    throw new ServiceError('permission-denied', 'Remote users cannot change their password here: change it in your directory service.');
  }
  // The policy first: a request that would be refused anyway spends no attempt and no hash.
  assertPasswordAcceptable(request.password, deps.config, user.login);

  const party = partyOf(user);
  const matches = await checkUserPassword(
    {
      db: deps.db,
      hasher: deps.hasher,
      failedAttemptsLockout: deps.config.failedAttemptsLockout,
      lockoutDurationSeconds: deps.config.failedAttemptsLockoutDurationSeconds,
    },
    user,
    request.current_password,
    { actor: party, sourceAddress, purpose: 'password-change' },
  );
  if (!matches) throw new ServiceError('permission-denied', 'The current password is incorrect.');

  // The claimed attempt is given back if what follows fails; success zeroes the count.
  await releasingOnError(deps, user.id, async () => {
    // The history only now, after the current password: it answers whether a
    // password is one the user had (the current one included), so checked
    // first it would let whoever holds a stolen login token test guesses at
    // the password without a single one counting toward lockout.
    const reused = await reusedPassword(deps, user.id, request.password);
    if (reused) throw invalidPassword([reused]);
    const passwordHash = await deps.hasher.hash(request.password);
    const now = Date.now();
    await inTransaction(deps.db, async (trx) => {
      // The account may have been revoked while the hashes were computed. A reset
      // token issued before the change must not set the password back to its holder's choice.
      const replaced = await replacePassword(
        trx,
        party,
        passwordHash,
        {
          onlyIfActive: true,
          keepLoginToken: actor.tokenHash,
          cancelResetTokens: 'password-changed',
          passwordChangedAt: (deps.now ?? Date.now)(),
          previousPasswords: deps.config.numberOfPreviousPasswords,
          context: { actor: party, sourceAddress },
        },
        now,
      );
      if (!replaced) throw revokedError();
      await recordEvent(trx, { type: 'password-changed', actor: party, subject: party, sourceAddress, details: { via: 'change-own-password' } }, now);
    });
  });
}
