// The signing_keys table: the keys that sign reset tokens, shared by every
// instance on one database. The newest key not retired signs.

import type { Executor } from './transaction.js';

export interface SigningKeyRecord {
  kid: string;
  algorithm: string;
  private_jwk: string;
  public_jwk: string;
  created_at: number;
  retired_at: number | null;
}

export async function insert(db: Executor, key: SigningKeyRecord): Promise<void> {
  await db.insertInto('signing_keys').values(key).execute();
}

export async function anyInService(db: Executor): Promise<boolean> {
  return (await db.selectFrom('signing_keys').select('kid').where('retired_at', 'is', null).executeTakeFirst()) !== undefined;
}

// The rule for the key that signs: the newest not retired (ties by kid).
const newestInService = (db: Executor) => db.selectFrom('signing_keys').where('retired_at', 'is', null).orderBy('created_at', 'desc').orderBy('kid');

/** The key that signs now. */
export async function signing(db: Executor): Promise<{ kid: string; private_jwk: string } | undefined> {
  return newestInService(db).select(['kid', 'private_jwk']).executeTakeFirst();
}

/** The kid of the key that signs now, as a subquery for statements that check it (src/store/reset-tokens.ts). */
export function signingKid(db: Executor) {
  return newestInService(db).select('kid').limit(1);
}

export async function byKid(db: Executor, kid: string): Promise<SigningKeyRecord | undefined> {
  return db.selectFrom('signing_keys').selectAll().where('kid', '=', kid).executeTakeFirst();
}

/** Whether a key other than `kid` is in service. */
export async function otherInService(db: Executor, kid: string): Promise<boolean> {
  return (await db.selectFrom('signing_keys').select('kid').where('retired_at', 'is', null).where('kid', '!=', kid).executeTakeFirst()) !== undefined;
}

export async function retire(db: Executor, kid: string, now: number): Promise<void> {
  await db.updateTable('signing_keys').set({ retired_at: now }).where('kid', '=', kid).execute();
}

/** The public JWKs of the keys in service, oldest first. */
export async function publicJwksInService(db: Executor): Promise<string[]> {
  return (await db.selectFrom('signing_keys').select('public_jwk').where('retired_at', 'is', null).orderBy('created_at').execute()).map((row) => row.public_jwk);
}

/** Every key, newest first: kid, created, retired. */
export async function list(db: Executor): Promise<{ kid: string; created_at: number; retired_at: number | null }[]> {
  return db.selectFrom('signing_keys').select(['kid', 'created_at', 'retired_at']).orderBy('created_at', 'desc').orderBy('kid').execute();
}
