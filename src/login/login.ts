// POST /auth/token: log in with login and password, get a login token.

import type { Config } from '../config/config.js';
import { parseDuration } from '../config/duration.js';
import { ServiceError } from '../errors.js';
import type { PasswordHasher } from '../passwords/hashing.js';
import type { Db, Executor } from '../store/transaction.js';
import { directoryAccessList } from '../directory/directories.js';
import { loginWithDirectory } from './directory-login.js';
import * as users from '../store/users.js';
import { loginKey } from '../logins.js';
import { assertNotApiUserLogin } from '../users/api-user.js';
import { issueLoginToken, type TokenFacts } from './login-tokens.js';
import { passwordHasExpired } from '../passwords/password-age.js';
import { badCredentials, checkNoPassword, checkUserPassword, recordFailedCheck, releasingOnError } from './password-check.js';

export interface LoginDeps {
  db: Db;
  hasher: PasswordHasher;
  config: Pick<Config, 'failedAttemptsLockout' | 'failedAttemptsLockoutDurationSeconds' | 'tokenAuthLifetimeSeconds' | 'tokenMaximumLifetimeSeconds' | 'passwordMaximumAgeDays'>;
  /** The clock password age is judged by (tests move it); the system clock otherwise. */
  now?: () => number;
}

export interface LoginRequest extends TokenFacts {
  login: string;
  password: string;
  lifetime?: string | number | undefined;
}

/**
 * Lifetime in seconds for a requested lifetime. `0` asks for the longest
 * allowed; anything longer than token-maximum-lifetime is capped to it.
 * Returns null for "never expires" (only when the maximum is 0, unlimited).
 */
export function tokenLifetimeSeconds(requested: string | number | undefined, config: LoginDeps['config']): number | null {
  const maximum = config.tokenMaximumLifetimeSeconds;
  if (requested === undefined) return config.tokenAuthLifetimeSeconds;
  const seconds = parseDuration(requested);
  if (seconds === undefined) {
    throw new ServiceError('schema-violation', 'The lifetime must be a duration such as 30s, 15m, 4h, 2d or 1y (no unit means seconds).', {
      field: 'lifetime',
    });
  }
  if (seconds === 0) return maximum === 0 ? null : maximum;
  return maximum === 0 ? seconds : Math.min(seconds, maximum);
}

export async function login(deps: LoginDeps, request: LoginRequest, sourceAddress: string | null): Promise<string> {
  assertNotApiUserLogin(request.login);
  const lifetime = tokenLifetimeSeconds(request.lifetime, deps.config);
  // The lookup claims the attempt (or writes the decoy) in the same statement on PostgreSQL.
  const { user, claimed } = await users.byLoginKeyClaiming(deps.db, loginKey(request.login), deps.config.failedAttemptsLockout);
  // A login with no local user, or a remote user's, is the directory's to check when there is one (nothing was claimed for it).
  if (!user || user.is_remote) {
    const directories = await directoryAccessList(deps.db);
    if (directories.length > 0) return loginWithDirectory(deps, directories, user, request, lifetime, sourceAddress);
  }

  const checkDeps = {
    ...deps,
    failedAttemptsLockout: deps.config.failedAttemptsLockout,
    lockoutDurationSeconds: deps.config.failedAttemptsLockoutDurationSeconds,
  };
  if (!user || user.is_remote || user.password_hash === null) {
    // Spend the time and queries a real check takes, so unknown logins cannot be told apart by timing.
    await checkNoPassword(checkDeps, request.password, true);
    const reason = user ? (user.is_remote ? 'remote-user' : 'no-password') : 'unknown-login';
    await recordFailedCheck(checkDeps, { id: user?.id ?? null, login: user?.login ?? request.login }, { reason, purpose: 'login' }, { actor: null, sourceAddress });
    throw badCredentials();
  }

  const context = { actor: null, sourceAddress, purpose: 'login' as const };
  if (!(await checkUserPassword(checkDeps, user, request.password, context, claimed))) {
    throw badCredentials();
  }

  const storedHash = user.password_hash;
  // From here the claimed attempt is given back if anything fails, or a correct password would leave it counted.
  return releasingOnError(deps, user.id, async () => {
    // Upgrade a hash made with older parameters while the plain password is at hand.
    const upgradedHash = deps.hasher.needsRehash(storedHash) ? await deps.hasher.hash(request.password) : undefined;

    // A password older than password-maximum-age-days: the token this login gets reaches only the change (as a forced change).
    const expired = passwordHasExpired(user, deps.config, (deps.now ?? Date.now)());
    // Both only if no one changed the password meanwhile; the mark first, while the stored hash is still the one checked.
    const steps = [
      ...(expired ? [(trx: Executor) => users.requirePasswordChange(trx, user.id, storedHash)] : []),
      ...(upgradedHash ? [(trx: Executor) => users.upgradeHash(trx, user.id, storedHash, upgradedHash)] : []),
    ];
    const alsoInTransaction = steps.length === 0 ? undefined : async (trx: Executor) => {
      for (const step of steps) await step(trx);
    };
    return issueLoginToken(deps.db, user, request, lifetime, sourceAddress, alsoInTransaction, expired);
  });
}
