// The admin password reset script (`rbac reset-admin-password`, docs/operations.md): sets `admin`'s password,
// un-revokes it, clears its failed-attempt count, revokes its login tokens
// and records an audit event — in one transaction, so it is safe to run
// while the service is serving requests. Creates `admin` if the database
// has none yet.

import { recordEvent } from '../audit/audit.js';
import type { PasswordHasher } from '../passwords/hashing.js';
import { assertPasswordAcceptable, type PasswordRules } from '../passwords/policy.js';
import { assertNewPasswordAcceptable, type HistoryRules } from '../passwords/previous-passwords.js';
import { replacePassword } from '../passwords/credentials.js';
import { inTransaction, type Db } from '../store/transaction.js';
import { bootstrapAdmin, insertBootstrapAdmin } from './bootstrap.js';
import { BOOTSTRAP_ADMIN_LOGIN } from './users.js';

export interface AdminResetDeps {
  db: Db;
  hasher: PasswordHasher;
  rules: PasswordRules & HistoryRules;
}

export async function resetAdminPassword(deps: AdminResetDeps, password: string, context: { operator: string }): Promise<{ created: boolean }> {
  const found = await bootstrapAdmin(deps.db);
  if (found) await assertNewPasswordAcceptable({ db: deps.db, hasher: deps.hasher, config: deps.rules }, found, password);
  else assertPasswordAcceptable(password, deps.rules, BOOTSTRAP_ADMIN_LOGIN);
  const passwordHash = await deps.hasher.hash(password);
  const now = Date.now();
  return inTransaction(deps.db, async (trx) => {
    const existing = await bootstrapAdmin(trx);
    const created = !existing;
    const admin = existing ? { id: existing.id, login: existing.login } : await insertBootstrapAdmin(trx, passwordHash, now);
    // A new admin has nothing to reinstate, revoke or cancel, and no earlier password to keep.
    if (existing) {
      await replacePassword(
        trx,
        admin,
        passwordHash,
        {
          reinstate: true,
          asLocalSuperuser: true,
          cancelResetTokens: 'admin-password-reset-by-script',
          previousPasswords: deps.rules.numberOfPreviousPasswords,
          context: { actor: null, sourceAddress: null },
        },
        now,
      );
    }
    await recordEvent(
      trx,
      { type: 'admin-password-reset-by-script', actor: null, subject: admin, sourceAddress: null, details: { operator: context.operator, created } },
      now,
    );
    return { created };
  });
}
