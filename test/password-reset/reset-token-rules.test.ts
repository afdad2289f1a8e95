// The rules a reset token meets before anything else looks at it
// (isCanonicalCompactJws: one token, one spelling), and the store's rule
// for a token that can be used now (src/store/reset-tokens.ts): live, not
// expired, bound to its user and signing key, the key not retired; spent
// once only; cancelled per user or per key.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { isCanonicalCompactJws } from '../../src/password-reset/reset-token.js';
import * as resetTokens from '../../src/store/reset-tokens.js';
import * as signingKeys from '../../src/store/signing-keys.js';
import type { Executor } from '../../src/store/transaction.js';
import { atOnce } from '../kit/concurrency.js';
import { describeEachDatabase, insertUser, suiteStore } from '../kit/databases.js';

describe('isCanonicalCompactJws', () => {
  const part = (text: string) => Buffer.from(text).toString('base64url');
  const header = part('{"alg":"RS256","kid":"k1"}');
  const payload = part('{"sub":"someone","n":1}');
  // two bytes: three characters, the last one carrying two unused bits
  const signature = Buffer.from([0xff, 0xfe]).toString('base64url');

  test('three canonical base64url parts are accepted', () => {
    assert.match(signature, /^[A-Za-z0-9_-]{3}$/);
    assert.equal(isCanonicalCompactJws(`${header}.${payload}.${signature}`), true);
    assert.equal(isCanonicalCompactJws('AAAA.AA.AAA'), true);
    assert.equal(isCanonicalCompactJws('-_-_.QQ.abc'), true);
  });

  test('not three non-empty parts: refused', () => {
    for (const token of ['', `${header}.${payload}`, `${header}.${payload}.${signature}.${signature}`, `${header}..${signature}`, `.${payload}.${signature}`, `${header}.${payload}.`]) {
      assert.equal(isCanonicalCompactJws(token), false, JSON.stringify(token));
    }
  });

  test('padding, "+" or "/", and whitespace anywhere: refused', () => {
    for (const token of [
      `${header}.${payload}.${signature}=`,
      'AAAA.AA==.AAA',
      'AAAA.AA.AA+',
      'AAAA.AA.AA/',
      '+/+/.AA.AAA',
      ` ${header}.${payload}.${signature}`,
      `${header}.${payload}.${signature}\n`,
      `${header}. ${payload}.${signature}`,
      `${header}.${payload}.${signature.slice(0, 2)} ${signature.slice(2)}`,
      `${header}\t.${payload}.${signature}`,
    ]) {
      assert.equal(isCanonicalCompactJws(token), false, JSON.stringify(token));
    }
  });

  test('a last character with unused bits set (another spelling of the same bytes): refused, in any part', () => {
    // "AAA" and "AAB" decode to the same two bytes, as do "QQ" and "QR"; only the first spelling is canonical
    assert.deepEqual(Buffer.from('AAB', 'base64url'), Buffer.from('AAA', 'base64url'));
    for (const token of ['AAAA.AA.AAB', 'AAAA.QR.AAA', 'QR.AA.AAA', 'AAAA.AA.abd', `${header}.${payload}.${signature.slice(0, 2)}${String.fromCharCode(signature.charCodeAt(2) + 1)}`]) {
      assert.equal(isCanonicalCompactJws(token), false, token);
    }
    // a single leftover character encodes no whole byte
    assert.equal(isCanonicalCompactJws('AAAA.AA.AAAAA'), false);
  });
});

describeEachDatabase('reset token rows', (target) => {
  const store = suiteStore(target.dialect);
  const db = (): Executor => store().db;
  const NOW = Date.now();

  async function newKey(retired = false): Promise<string> {
    const kid = `kid-${randomUUID()}`;
    await signingKeys.insert(db(), { kid, algorithm: 'RS256', private_jwk: '{}', public_jwk: '{}', created_at: NOW - 1000, retired_at: retired ? NOW - 500 : null });
    return kid;
  }
  /** A token row for the user, signed by `kid`, expiring `expiresIn` ms after NOW; its identity. */
  async function newToken(userId: string, kid: string, expiresIn = 60_000): Promise<resetTokens.TokenIdentity> {
    const jti = randomUUID();
    await resetTokens.insert(db(), { jti, user_id: userId, kid, issued_at: NOW - 1000, expires_at: NOW + expiresIn, issued_by: null });
    return { jti, sub: userId, kid };
  }
  const usable = (token: resetTokens.TokenIdentity) => resetTokens.isUsableNow(db(), token, NOW);
  const newUser = () => insertUser(db(), `reset-${randomUUID()}`);

  test('a fresh token is usable, is spent once only, and is not usable once spent', async () => {
    const token = await newToken(await newUser(), await newKey());
    assert.equal(await usable(token), true);
    assert.equal(await resetTokens.spend(db(), token, NOW), true);
    assert.equal(await usable(token), false);
    assert.equal(await resetTokens.spend(db(), token, NOW), false);
  });

  test('of several spends at once, exactly one succeeds', async () => {
    const token = await newToken(await newUser(), await newKey());
    const results = await atOnce(6, () => resetTokens.spend(db(), token, NOW));
    assert.equal(results.filter(Boolean).length, 1, JSON.stringify(results));
  });

  test('an expired token (expires_at reached) is not usable and cannot be spent', async () => {
    const user = await newUser();
    const kid = await newKey();
    for (const expiresIn of [0, -1]) {
      const token = await newToken(user, kid, expiresIn);
      assert.equal(await usable(token), false, `expires in ${expiresIn} ms`);
      assert.equal(await resetTokens.spend(db(), token, NOW), false);
    }
    const token = await newToken(user, kid, 1);
    assert.equal(await usable(token), true, 'one ms before expiry');
    assert.equal(await resetTokens.isUsableNow(db(), token, NOW + 1), false);
  });

  test('claims naming another key, another user or another jti than the row name no usable token', async () => {
    const user = await newUser();
    const token = await newToken(user, await newKey());
    const otherKid = await newKey();
    assert.equal(await usable({ ...token, kid: otherKid }), false, 'another key in service');
    assert.equal(await resetTokens.spend(db(), { ...token, kid: otherKid }, NOW), false);
    assert.equal(await usable({ ...token, sub: await newUser() }), false, 'another user');
    assert.equal(await usable({ ...token, jti: randomUUID() }), false, 'another jti');
    assert.equal(await usable(token), true, 'the token itself is still usable');
  });

  test('a token signed by a retired key is not usable', async () => {
    const kid = await newKey();
    const token = await newToken(await newUser(), kid);
    await signingKeys.retire(db(), kid, NOW);
    assert.equal(await usable(token), false);
    assert.equal(await resetTokens.spend(db(), token, NOW), false);
    assert.equal(await usable(await newToken(await newUser(), await newKey(true))), false);
  });

  test("cancelLiveOf cancels the user's live tokens only, and counts them", async () => {
    const user = await newUser();
    const other = await newUser();
    const kid = await newKey();
    const live = [await newToken(user, kid), await newToken(user, kid)];
    const spent = await newToken(user, kid);
    assert.equal(await resetTokens.spend(db(), spent, NOW), true);
    const othersToken = await newToken(other, kid);
    assert.equal(await resetTokens.cancelLiveOf(db(), user, NOW), 2);
    for (const token of live) assert.equal(await usable(token), false);
    assert.equal(await resetTokens.spend(db(), live[0] as resetTokens.TokenIdentity, NOW), false);
    assert.equal(await usable(othersToken), true);
    assert.equal(await resetTokens.cancelLiveOf(db(), user, NOW), 0, 'nothing left to cancel');
  });

  test("cancelSignedBy cancels only that key's live, unexpired tokens, and counts them", async () => {
    const [kid, otherKid] = [await newKey(), await newKey()];
    const [user, other] = [await newUser(), await newUser()];
    const live = [await newToken(user, kid), await newToken(other, kid)];
    const spent = await newToken(user, kid);
    assert.equal(await resetTokens.spend(db(), spent, NOW), true);
    await newToken(user, kid, -1); // expired
    const otherKeys = [await newToken(user, otherKid), await newToken(other, otherKid)];
    assert.equal(await resetTokens.cancelSignedBy(db(), kid, NOW), 2);
    for (const token of live) assert.equal(await usable(token), false);
    for (const token of otherKeys) assert.equal(await usable(token), true);
    assert.equal(await resetTokens.cancelSignedBy(db(), kid, NOW), 0, 'nothing left to cancel');
  });
});
