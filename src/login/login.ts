// POST /auth/token: log in with login and password, get a login token.

import { recordEvent } from '../audit/audit.js';
import type { Config } from '../config/config.js';
import { parseDuration } from '../config/duration.js';
import { ServiceError } from '../errors.js';
import type { PasswordHasher } from '../passwords/hashing.js';
import { inTransaction, type Db } from '../store/transaction.js';
import * as users from '../store/users.js';
import { loginKey } from '../logins.js';
import { newLoginToken, storeLoginToken, type TokenFacts } from './login-tokens.js';
import { checkNoPassword, checkUserPassword, recordFailedCheck, releasingOnError, revokedError } from './password-check.js';

export interface LoginDeps {
  db: Db;
  hasher: PasswordHasher;
  config: Pick<Config, 'failedAttemptsLockout' | 'failedAttemptsLockoutDurationSeconds' | 'tokenAuthLifetimeSeconds' | 'tokenMaximumLifetimeSeconds'>;
}

export interface LoginRequest extends TokenFacts {
  login: string;
  password: string;
  lifetime?: string | number | undefined;
}

// One message for unknown login and wrong password: the response must not
// tell an attacker which logins exist.
const badCredentials = () => new ServiceError('user-unauthenticated', 'The login or password is incorrect.');

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
  const lifetime = tokenLifetimeSeconds(request.lifetime, deps.config);
  // The lookup claims the attempt (or writes the decoy) in the same statement on PostgreSQL.
  const { user, claimed } = await users.byLoginKeyClaiming(deps.db, loginKey(request.login), deps.config.failedAttemptsLockout);

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

    const token = newLoginToken();
    const now = Date.now();
    await inTransaction(deps.db, async (trx) => {
      // The account may have been revoked while the hash was computed.
      if (!(await users.recordLogin(trx, user.id, now))) throw revokedError();
      // Only if no one changed the password meanwhile.
      if (upgradedHash) await users.upgradeHash(trx, user.id, storedHash, upgradedHash);
      await storeLoginToken(trx, user.id, token, lifetime === null ? null : now + lifetime * 1000, request, now);
      const party = { id: user.id, login: user.login };
      await recordEvent(trx, { type: 'login-succeeded', actor: party, subject: party, sourceAddress, details: { label: request.label ?? null, client: request.client ?? null } }, now);
    });
    return token;
  });
}
