// POST /command/validate-login — whether a login could be given to a new or
// renamed user, in PE's answer shape: the login rules (login-minimum-length,
// visible characters) for every authenticated caller; "not taken" and "no
// look-alike of an existing login" only for callers who may list users, so
// the answer tells nobody else which logins exist.

import { loginFailures, loginLookAlikeFailure, loginSkeleton, loginTakenFailure, type LoginRules } from '../logins.js';
import { validation } from '../rule-failures.js';
import type { Validation } from '../shapes.js';
import type { Db } from '../store/transaction.js';
import * as users from '../store/users.js';
import { mayReadAllUsers, type Requester } from './authorization.js';
import { findUserByLogin } from './users.js';

export async function validateLogin(deps: { db: Db; config: LoginRules }, by: Requester, requested: string): Promise<Validation> {
  // Logins are stored trimmed, as POST /users and PUT /users/:sid store them.
  const login = requested.trim();
  const failures = [...loginFailures(login, deps.config)];
  if (login !== '' && (await mayReadAllUsers(deps.db, by))) {
    if (await findUserByLogin(deps.db, login)) failures.push(loginTakenFailure(login));
    else if (await users.skeletonTaken(deps.db, loginSkeleton(login))) failures.push(loginLookAlikeFailure(login));
  }
  return validation(failures);
}
