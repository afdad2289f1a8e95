// PE's built-in `api_user` (CONTRACT §12): the superuser a request acts as
// when it carries a client certificate on the certificate allowlist. It
// exists from the first start (migration 015), at the id PE gives it, and
// never logs in with a password, nor is it edited, revoked or deleted.

import { ServiceError } from '../errors.js';
import { loginKey } from '../logins.js';

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
