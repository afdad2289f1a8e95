// The actor of a request authenticated by a client certificate on the
// allowlist (CONTRACT §12): PE's api_user, read from its row as a token's
// user is, with the certname that presented it. src/http/auth.ts decides
// when a certificate counts.

import type { Executor } from '../store/transaction.js';
import * as users from '../store/users.js';
import { API_USER_ID } from '../users/api-user.js';
import type { Authenticated } from './login-tokens.js';

/**
 * The actor of a request whose client certificate is on the allowlist:
 * api_user, read from its row like a token's user, with the certname that
 * presented it. Undefined when the row is gone (a database someone edited by
 * hand): the certificate then authenticates nobody.
 */
export async function apiUserActor(db: Executor, certname: string): Promise<Authenticated | undefined> {
  const row = await users.byId(db, API_USER_ID);
  if (!row || row.is_revoked) return undefined;
  const roleIds = (await users.roleIdsOf(db, [row.id])).get(row.id) ?? [];
  const user = {
    id: row.id,
    login: row.login,
    email: row.email,
    display_name: row.display_name,
    is_superuser: row.is_superuser,
    is_remote: row.is_remote,
    is_revoked: row.is_revoked,
    last_login: row.last_login,
    failed_attempts: row.failed_attempts,
    locked_at: row.locked_at,
    revoked_by: row.revoked_by,
    password_change_required: false,
  };
  return { id: row.id, login: row.login, is_superuser: row.is_superuser, is_remote: row.is_remote, tokenHash: undefined, certname, user, roleIds };
}
