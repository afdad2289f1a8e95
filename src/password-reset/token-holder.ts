// POST /auth/reset/holder — the reset page asks, once it has a token, whose
// password it is about to set, and shows that login. Only a usable token
// (signed, unspent, not superseded, unexpired, for a local user) gets an
// answer; any other is the same 403 invalid-token the reset itself gives, so
// this tells its caller nothing /auth/reset would not. Nothing is spent or written.

import * as users from '../store/users.js';
import type { Db } from '../store/transaction.js';
import { invalidResetToken, verifyUsableResetToken } from './reset-token.js';
import type { SigningKeyRing } from './signing-keys.js';

export async function resetTokenHolder(deps: { db: Db; keys: SigningKeyRing }, token: string): Promise<{ login: string }> {
  const claims = await verifyUsableResetToken(deps.db, deps.keys, token);
  const user = await users.byId(deps.db, claims.sub);
  if (!user || user.is_remote) throw invalidResetToken();
  return { login: user.login };
}
