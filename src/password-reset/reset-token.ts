// Password reset tokens: RS256 JWTs with kid, iss, sub (the
// user id), iat, exp and jti. The signature proves the service made the
// token; the token's row in `reset_tokens` decides whether it can still be
// used (single use, superseded by a newer token, expired).

import { randomBytes } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, jwtVerify } from 'jose';
import { ServiceError } from '../errors.js';
import * as resetTokens from '../store/reset-tokens.js';
import type { Executor } from '../store/transaction.js';
import { RESET_TOKEN_ALGORITHM, type ActiveKey, type SigningKeyRing } from './signing-keys.js';

export const RESET_TOKEN_ISSUER = 'rbac-password-service';

export interface ResetTokenClaims {
  sub: string;
  jti: string;
  iat: number;
  exp: number;
  kid: string;
}

/** One answer for every bad token: the client is not told which check failed. */
export const invalidResetToken = () => new ServiceError('invalid-token', 'The reset token is invalid or expired. Ask an administrator for a new one.');

/** Signs with the ring's active key, or with this one (already read from the ring). */
export async function signResetToken(keys: SigningKeyRing | ActiveKey, userId: string, lifetimeSeconds: number, now = Date.now()) {
  const { kid, privateKey } = 'activeKey' in keys ? await keys.activeKey() : keys;
  const iat = Math.floor(now / 1000);
  const exp = iat + lifetimeSeconds;
  const jti = randomBytes(16).toString('base64url');
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: RESET_TOKEN_ALGORITHM, kid, typ: 'JWT' })
    .setIssuer(RESET_TOKEN_ISSUER)
    .setSubject(userId)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .setJti(jti)
    .sign(privateKey);
  return { token, claims: { sub: userId, jti, iat, exp, kid } satisfies ResetTokenClaims };
}

/**
 * Checks signature (RS256 only, by kid), issuer, expiry and the claims'
 * shape. Throws `invalid-token` for anything wrong; does not look at the
 * token's row.
 */
export async function verifyResetTokenSignature(keys: SigningKeyRing, token: string, now = Date.now()): Promise<ResetTokenClaims> {
  if (!isCanonicalCompactJws(token)) throw invalidResetToken();
  try {
    const { kid } = decodeProtectedHeader(token);
    if (typeof kid !== 'string' || kid.length > 128) throw invalidResetToken();
    const key = await keys.verificationKey(kid);
    if (!key) throw invalidResetToken();
    const { payload } = await jwtVerify(token, key, {
      algorithms: [RESET_TOKEN_ALGORITHM],
      issuer: RESET_TOKEN_ISSUER,
      requiredClaims: ['sub', 'jti', 'iat', 'exp'],
      currentDate: new Date(now),
    });
    const { sub, jti, iat, exp } = payload;
    if (typeof sub !== 'string' || typeof jti !== 'string' || typeof iat !== 'number' || typeof exp !== 'number') throw invalidResetToken();
    if (iat * 1000 > now + 60_000) throw invalidResetToken(); // issued in the future: not ours
    return { sub, jti, iat, exp, kid };
  } catch {
    throw invalidResetToken();
  }
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * One token, one string: three base64url segments, each exactly as it
 * encodes back (no padding, no stray bits in a last character, no
 * whitespace). Base64url decoders accept several spellings of the same bytes,
 * and every spelling would otherwise be another key for the per-token rate
 * limit.
 */
export function isCanonicalCompactJws(token: string): boolean {
  const segments = token.split('.');
  return (
    segments.length === 3 &&
    segments.every((segment) => BASE64URL.test(segment) && Buffer.from(segment, 'base64url').toString('base64url') === segment)
  );
}

/** Whether the token's row says it can be used now (src/store/reset-tokens.ts has the rule). */
export async function isUsableNow(db: Executor, claims: ResetTokenClaims, now = Date.now()): Promise<boolean> {
  return resetTokens.isUsableNow(db, claims, now);
}

/** Signature and row both check out: the claims of a token that can be used now. */
export async function verifyUsableResetToken(db: Executor, keys: SigningKeyRing, token: string, now = Date.now()): Promise<ResetTokenClaims> {
  const claims = await verifyResetTokenSignature(keys, token, now);
  if (!(await isUsableNow(db, claims, now))) throw invalidResetToken();
  return claims;
}
