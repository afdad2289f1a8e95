// The bootstrap superuser: `admin` exists from the first start.
// Its password is RBAC_ADMIN_PASSWORD when set on the first start, otherwise
// a random one that the caller prints once.

import { randomBytes, randomUUID } from 'node:crypto';
import { recordEvent } from '../audit/audit.js';
import type { PasswordHasher } from '../passwords/hashing.js';
import { ServiceError } from '../errors.js';
import { checkPassword } from '../passwords/policy.js';
import { inTransaction, type Db, type Executor } from '../store/transaction.js';
import * as users from '../store/users.js';
import type { UserRecord } from '../store/users.js';
import { BOOTSTRAP_ADMIN_LOGIN, loginKey, loginSkeleton } from './users.js';

/** The bootstrap `admin`, found by login key (a case-only rename keeps it), if it exists. */
export function bootstrapAdmin(db: Executor): Promise<UserRecord | undefined> {
  return users.byLoginKey(db, loginKey(BOOTSTRAP_ADMIN_LOGIN));
}

export interface BootstrapResult {
  created: boolean;
  /** Set only when the password was generated here and must be shown once. */
  generatedPassword?: string;
}

export async function ensureBootstrapAdmin(
  deps: { db: Db; hasher: PasswordHasher; passwordMinimumLength: number },
  adminPassword: string | undefined,
): Promise<BootstrapResult> {
  if (await bootstrapAdmin(deps.db)) return { created: false };

  const generated = adminPassword === undefined ? generatePassword(deps.passwordMinimumLength) : undefined;
  const password = adminPassword ?? (generated as string);
  const violations = checkPassword(password, { minimumLength: deps.passwordMinimumLength, login: BOOTSTRAP_ADMIN_LOGIN });
  if (violations.length > 0) {
    throw new ServiceError(
      'invalid-password',
      `RBAC_ADMIN_PASSWORD is not acceptable: ${violations.map((violation) => violation.msg).join(' ')}`,
      { violations },
    );
  }
  const passwordHash = await deps.hasher.hash(password);

  const created = await inTransaction(deps.db, async (trx) => {
    // Another process may have created it while the hash was computed.
    if (await bootstrapAdmin(trx)) return false;
    const { id } = await insertBootstrapAdmin(trx, passwordHash);
    await recordEvent(trx, { type: 'user-created', actor: null, subject: { id, login: BOOTSTRAP_ADMIN_LOGIN }, details: { bootstrap: true } });
    return true;
  }).catch(async (error: unknown) => {
    // Two processes starting on one empty PostgreSQL database: the loser's insert hits the unique login.
    if (await bootstrapAdmin(deps.db)) return false;
    throw error;
  });
  return created ? { created: true, ...(generated ? { generatedPassword: generated } : {}) } : { created: false };
}

// 24 random base64url characters (144 bits), or as many as the policy asks for.
const GENERATED_PASSWORD_LENGTH = 24;

function generatePassword(minimumLength: number): string {
  const length = Math.max(GENERATED_PASSWORD_LENGTH, minimumLength);
  for (;;) {
    const candidate = randomBytes(Math.ceil((length * 3) / 4)).toString('base64url').slice(0, length);
    // Random text all but never breaks the policy (it would have to contain "admin"); never print one that does.
    if (checkPassword(candidate, { minimumLength, login: BOOTSTRAP_ADMIN_LOGIN }).length === 0) return candidate;
  }
}

/** The `admin` row: a local superuser. Used at first start and by the reset script on an empty database. */
export async function insertBootstrapAdmin(trx: Executor, passwordHash: string, now = Date.now()): Promise<{ id: string; login: string }> {
  const id = randomUUID();
  // `admin` must exist even if a grandfathered look-alike holds its skeleton (the reset script relies on it).
  const skeleton = loginSkeleton(BOOTSTRAP_ADMIN_LOGIN);
  const lookAlike = await users.skeletonTaken(trx, skeleton);
  await users.insert(trx, {
    id,
    login: BOOTSTRAP_ADMIN_LOGIN,
    login_key: loginKey(BOOTSTRAP_ADMIN_LOGIN),
    login_skeleton: lookAlike ? null : skeleton,
    email: '',
    display_name: 'Administrator',
    is_remote: false,
    is_superuser: true,
    password_hash: passwordHash,
    created_at: now,
  });
  return { id, login: BOOTSTRAP_ADMIN_LOGIN };
}
