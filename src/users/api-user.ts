// PE's built-in `api_user` (CONTRACT §12): the superuser a request acts as
// when it carries a client certificate on the certificate allowlist. It
// exists from the first start (migration 015), at the id PE gives it, and
// never logs in with a password, nor is it edited, revoked or deleted.

import { ServiceError } from '../errors.js';
import type { Authenticated } from '../login/login-tokens.js';
import { loginKey } from '../logins.js';
import type { Executor } from '../store/transaction.js';
import * as users from '../store/users.js';

/** PE's id for api_user: the same in every PE installation, and what PE's clients and fixtures show. */
export const API_USER_ID = 'af94921f-bd76-4b58-b5ce-e17c029a2790';
export const API_USER_LOGIN = 'api_user';
export const API_USER_DISPLAY_NAME = 'API User';

/** Whether the login names api_user (any case, as every login lookup does). */
export function isApiUserLogin(login: string): boolean {
  return loginKey(login) === loginKey(API_USER_LOGIN);
}

/** A password login as api_user: refused before anything is looked up or hashed (401 api-user-login). */
export function assertNotApiUserLogin(login: string): void {
  if (isApiUserLogin(login)) {
    throw new ServiceError('api-user-login', 'api_user cannot log in with a password: it authenticates with a client certificate on the certificate allowlist.');
  }
}

/** api_user stays as it is: no edit, revocation, reinstatement or deletion (403 admin-user-immutable). */
export function assertNotApiUser(userId: string): void {
  if (userId === API_USER_ID) throw new ServiceError('admin-user-immutable', 'api_user cannot be edited, revoked or deleted.');
}

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
