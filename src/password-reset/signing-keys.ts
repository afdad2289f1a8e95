// The keys that sign password reset tokens (RS256). Kept in the database so
// every instance on one PostgreSQL database signs and verifies with the same
// key set. Several keys may exist (rotation); the newest one not retired
// signs. Each key's id (`kid`) is its JWK thumbprint.

import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { type Party, recordEvent } from '../audit/audit.js';
import { ServiceError } from '../errors.js';
import * as resetTokens from '../store/reset-tokens.js';
import * as signingKeys from '../store/signing-keys.js';
import { inTransaction, type Db } from '../store/transaction.js';

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
  private lastSigning: ActiveKey | undefined;

  constructor(private readonly db: Db) {}

  /** Creates the first key when there is none. Called at start; safe to race with other instances. */
  async ensureKey(now = Date.now()): Promise<void> {
    if (await signingKeys.anyInService(this.db)) return;
    await signingKeys.insert(this.db, await newKeyRow(now));
  }

  /** Adds a new key that signs from now on; older keys keep verifying until retired. */
  async rotate(context: KeyChangeContext, now = Date.now()): Promise<string> {
    const row = await newKeyRow(now);
    this.lastSigning = undefined;
    await inTransaction(this.db, async (trx) => {
      await signingKeys.insert(trx, row);
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
    this.lastSigning = undefined;
    return inTransaction(this.db, async (trx) => {
      const key = await signingKeys.byKid(trx, kid);
      if (!key) throw new ServiceError('not-found', `There is no signing key ${kid} (see rbac keys list).`);
      if (key.retired_at !== null) throw new ServiceError('conflict', `${kid} is already retired.`);
      if (!(await signingKeys.otherInService(trx, kid))) throw new ServiceError('conflict', `${kid} is the only key that signs: run rbac keys rotate first.`);
      await signingKeys.retire(trx, kid, now);
      const cancelled = await resetTokens.cancelSignedBy(trx, kid, now);
      await recordEvent(trx, { type: 'signing-key-retired', actor: context.actor, sourceAddress: context.sourceAddress, details: { kid, reset_tokens_cancelled: cancelled } }, now);
      return cancelled;
    });
  }

  /**
   * The key that signs, as this ring last read it (`fresh`: read it now).
   * For callers that check, where they record what they signed, that it is
   * still the key that signs (src/store/reset-tokens.ts issueSuperseding),
   * and ask again with `fresh` when another instance changed the key set.
   */
  async signingKey(options: { fresh: boolean }): Promise<ActiveKey> {
    if (options.fresh || !this.lastSigning) this.lastSigning = await this.activeKey();
    return this.lastSigning;
  }

  /** The key that signs now: the newest not retired. Read each time so a rotation by another process takes effect. */
  async activeKey(): Promise<ActiveKey> {
    const row = await signingKeys.signing(this.db);
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
    const row = await signingKeys.byKid(this.db, kid);
    if (!row) return undefined;
    const key = await importJWK(JSON.parse(row.public_jwk) as JWK, RESET_TOKEN_ALGORITHM);
    this.publicKeys.set(kid, key);
    return key;
  }

  /** The public keys as a JWK set, for clients that want to check tokens themselves. */
  async publicJwks(): Promise<{ keys: JWK[] }> {
    return { keys: (await signingKeys.publicJwksInService(this.db)).map((jwk) => JSON.parse(jwk) as JWK) };
  }

  /** Every key, newest first, and which one signs. */
  async list(): Promise<{ kid: string; created: Date; retired: Date | null; signs: boolean }[]> {
    const rows = await signingKeys.list(this.db);
    const signing = rows.find((row) => row.retired_at === null)?.kid;
    return rows.map((row) => ({
      kid: row.kid,
      created: new Date(row.created_at),
      retired: row.retired_at === null ? null : new Date(row.retired_at),
      signs: row.kid === signing,
    }));
  }
}
