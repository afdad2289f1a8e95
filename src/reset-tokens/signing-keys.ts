// The keys that sign password reset tokens (RS256). Kept in the database so
// every instance on one PostgreSQL database signs and verifies with the same
// key set. Several keys may exist (rotation); the newest one not retired
// signs. Each key's id (`kid`) is its JWK thumbprint.

import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { Kysely } from 'kysely';
import { inTransaction, type Party, recordEvent } from '../audit/audit.js';
import { ServiceError } from '../errors.js';
import type { Database } from '../store/schema.js';
import { isLive } from './reset-token.js';

export const RESET_TOKEN_ALGORITHM = 'RS256';

type Key = CryptoKey | Uint8Array;

export interface ActiveKey {
  kid: string;
  privateKey: Key;
}

type KeyPair = { privateKey: CryptoKey; publicKey: CryptoKey };
const newRsaKeyPair = (): Promise<KeyPair> => generateKeyPair(RESET_TOKEN_ALGORITHM, { modulusLength: 2048, extractable: true });

/** A fresh key pair and its kid. A kid is typed on command lines (`rbac keys retire <kid>`), where one starting with '-' reads as an option; 1 thumbprint in 64 does, so such a pair is drawn again. */
export async function drawKeyPair(nextPair: () => Promise<KeyPair> = newRsaKeyPair): Promise<{ privateKey: CryptoKey; publicJwk: JWK; kid: string }> {
  for (;;) {
    const { privateKey, publicKey } = await nextPair();
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    if (!kid.startsWith('-')) return { privateKey, publicJwk, kid };
  }
}

async function newKeyRow(now: number) {
  const { privateKey, publicJwk, kid } = await drawKeyPair();
  const privateJwk = await exportJWK(privateKey);
  return {
    kid,
    algorithm: RESET_TOKEN_ALGORITHM,
    private_jwk: JSON.stringify({ ...privateJwk, kid, alg: RESET_TOKEN_ALGORITHM }),
    public_jwk: JSON.stringify({ ...publicJwk, kid, alg: RESET_TOKEN_ALGORITHM, use: 'sig' }),
    created_at: now,
    retired_at: null,
  };
}

/** Who changes the key set, for the audit trail: the operator at the server's shell (actor null, source `cli`). */
export interface KeyChangeContext {
  actor: Party | null;
  sourceAddress: string | null;
}

export class SigningKeyRing {
  // Imported keys by kid. Key material never changes for a kid, so caching is
  // safe; whether a token is still usable is decided by its database row.
  private readonly privateKeys = new Map<string, Key>();
  private readonly publicKeys = new Map<string, Key>();

  constructor(private readonly db: Kysely<Database>) {}

  /** Creates the first key when there is none. Called at start; safe to race with other instances. */
  async ensureKey(now = Date.now()): Promise<void> {
    const existing = await this.db.selectFrom('signing_keys').select('kid').where('retired_at', 'is', null).executeTakeFirst();
    if (existing) return;
    await this.db.insertInto('signing_keys').values(await newKeyRow(now)).execute();
  }

  /** Adds a new key that signs from now on; older keys keep verifying until retired. */
  async rotate(context: KeyChangeContext, now = Date.now()): Promise<string> {
    const row = await newKeyRow(now);
    await inTransaction(this.db, async (trx) => {
      await trx.insertInto('signing_keys').values(row).execute();
      await recordEvent(trx, { type: 'signing-key-rotated', actor: context.actor, sourceAddress: context.sourceAddress, details: { kid: row.kid } }, now);
    });
    return row.kid;
  }

  /**
   * Retires a key: it no longer signs, and no reset token it signed can be
   * used any more (whether a token's key is retired is checked on every use;
   * its unused tokens are cancelled too, so the record says so). The only key
   * that signs cannot be retired. Returns how many unused tokens it cancelled.
   */
  async retire(kid: string, context: KeyChangeContext, now = Date.now()): Promise<number> {
    return inTransaction(this.db, async (trx) => {
      const key = await trx.selectFrom('signing_keys').select(['kid', 'retired_at']).where('kid', '=', kid).executeTakeFirst();
      if (!key) throw new ServiceError('not-found', `There is no signing key ${kid} (see rbac keys list).`);
      if (key.retired_at !== null) throw new ServiceError('conflict', `${kid} is already retired.`);
      const others = await trx.selectFrom('signing_keys').select('kid').where('retired_at', 'is', null).where('kid', '!=', kid).executeTakeFirst();
      if (!others) throw new ServiceError('conflict', `${kid} is the only key that signs: run rbac keys rotate first.`);
      await trx.updateTable('signing_keys').set({ retired_at: now }).where('kid', '=', kid).execute();
      const result = await trx.updateTable('reset_tokens').set({ superseded_at: now }).where('kid', '=', kid).where(isLive).where('expires_at', '>', now).executeTakeFirst();
      const cancelled = Number(result.numUpdatedRows);
      await recordEvent(trx, { type: 'signing-key-retired', actor: context.actor, sourceAddress: context.sourceAddress, details: { kid, reset_tokens_cancelled: cancelled } }, now);
      return cancelled;
    });
  }

  /** The key that signs now: the newest not retired. Read each time so a rotation by another process takes effect. */
  async activeKey(): Promise<ActiveKey> {
    const row = await this.db
      .selectFrom('signing_keys')
      .select(['kid', 'private_jwk'])
      .where('retired_at', 'is', null)
      .orderBy('created_at', 'desc')
      .orderBy('kid')
      .executeTakeFirst();
    if (!row) throw new Error('no signing key: the service creates one at start');
    let privateKey = this.privateKeys.get(row.kid);
    if (!privateKey) {
      privateKey = await importJWK(JSON.parse(row.private_jwk) as JWK, RESET_TOKEN_ALGORITHM);
      this.privateKeys.set(row.kid, privateKey);
    }
    return { kid: row.kid, privateKey };
  }

  /** The public key for a kid, or undefined when no key (retired or not) has that id. */
  async verificationKey(kid: string): Promise<Key | undefined> {
    const cached = this.publicKeys.get(kid);
    if (cached) return cached;
    const row = await this.db.selectFrom('signing_keys').select('public_jwk').where('kid', '=', kid).executeTakeFirst();
    if (!row) return undefined;
    const key = await importJWK(JSON.parse(row.public_jwk) as JWK, RESET_TOKEN_ALGORITHM);
    this.publicKeys.set(kid, key);
    return key;
  }

  /** The public keys as a JWK set, for clients that want to check tokens themselves. */
  async publicJwks(): Promise<{ keys: JWK[] }> {
    const rows = await this.db.selectFrom('signing_keys').select('public_jwk').where('retired_at', 'is', null).orderBy('created_at').execute();
    return { keys: rows.map((row) => JSON.parse(row.public_jwk) as JWK) };
  }
}
