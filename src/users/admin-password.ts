// The admin password reset script (CONTRACT §1): sets `admin`'s password,
// un-revokes it, clears its failed-attempt count, revokes its login tokens
// and records an audit event — in one transaction, so it is safe to run
// while the service is serving requests. Creates `admin` if the database
// has none yet.

import type { Kysely } from 'kysely';
import { inTransaction, recordEvent } from '../audit/audit.js';
import { revokeAllLoginTokens } from '../auth/login-tokens.js';
import type { PasswordHasher } from '../passwords/hashing.js';
import { assertPasswordAcceptable } from '../passwords/policy.js';
import type { Database } from '../store/schema.js';
import { cancelResetTokens } from '../reset-tokens/reset-token.js';
import { insertBootstrapAdmin } from './bootstrap.js';
import { BOOTSTRAP_ADMIN_LOGIN, loginKey } from './users.js';

export interface AdminResetDeps {
  db: Kysely<Database>;
  hasher: PasswordHasher;
  passwordMinimumLength: number;
}

export async function resetAdminPassword(deps: AdminResetDeps, password: string, context: { operator: string }): Promise<{ created: boolean }> {
  assertPasswordAcceptable(password, { minimumLength: deps.passwordMinimumLength, login: BOOTSTRAP_ADMIN_LOGIN });
  const passwordHash = await deps.hasher.hash(password);
  const now = Date.now();
  return inTransaction(deps.db, async (trx) => {
    let admin = await trx.selectFrom('users').select(['id', 'login']).where('login_key', '=', loginKey(BOOTSTRAP_ADMIN_LOGIN)).executeTakeFirst();
    const created = !admin;
    if (!admin) admin = await insertBootstrapAdmin(trx, passwordHash, now);
    await trx
      .updateTable('users')
      .set({ password_hash: passwordHash, is_revoked: 0, failed_attempts: 0, locked_at: null, is_remote: 0, is_superuser: 1 })
      .where('id', '=', admin.id)
      .execute();
    await revokeAllLoginTokens(trx, admin.id, { now });
    await cancelResetTokens(trx, admin, 'admin-password-reset-by-script', { actor: null, sourceAddress: null }, now);
    await recordEvent(
      trx,
      { type: 'admin-password-reset-by-script', actor: null, subject: admin, sourceAddress: null, details: { operator: context.operator, created } },
      now,
    );
    return { created };
  });
}
