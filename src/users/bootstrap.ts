// The bootstrap superuser: `admin` exists from the first start.
// Its password is RBAC_ADMIN_PASSWORD when set on the first start, otherwise
// a random one that the caller prints once.

import { randomUUID } from 'node:crypto';
import { recordEvent } from '../audit/audit.js';
import { ADMINISTRATORS_ROLE_ID } from '../permissions/permissions.js';
import type { PasswordHasher } from '../passwords/hashing.js';
import { generatePassword } from '../passwords/generate-password.js';
import { invalidPassword, passwordFailures, type PasswordRules } from '../passwords/policy.js';
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
  deps: { db: Db; hasher: PasswordHasher; rules: PasswordRules },
  adminPassword: string | undefined,
): Promise<BootstrapResult> {
  if (await bootstrapAdmin(deps.db)) return { created: false };

  const generated = adminPassword === undefined ? generatePassword(deps.rules, BOOTSTRAP_ADMIN_LOGIN) : undefined;
  const password = adminPassword ?? (generated as string);
  const failures = passwordFailures(password, deps.rules, BOOTSTRAP_ADMIN_LOGIN);
  if (failures.length > 0) {
    const refusal = invalidPassword(failures);
    refusal.message = `RBAC_ADMIN_PASSWORD is not acceptable: ${refusal.message}`;
    throw refusal;
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
  // PE's admin holds the default role Administrators.
  await users.addRoles(trx, id, [ADMINISTRATORS_ROLE_ID]);
  return { id, login: BOOTSTRAP_ADMIN_LOGIN };
}
