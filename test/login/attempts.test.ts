// The lockout counters of src/store/users.ts, called directly: a password
// check claims one of the account's attempts (never more than the limit,
// however many run at once), gives it back when it could not finish (never
// below zero), and the account is locked only once its attempts are used up.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import * as users from '../../src/store/users.js';
import type { Executor } from '../../src/store/transaction.js';
import { atOnce } from '../kit/concurrency.js';
import { describeEachDatabase, insertUser, suiteStore } from '../kit/databases.js';

const LIMIT = 3;

describeEachDatabase('login attempt counters', (target) => {
  // a pool as large as the concurrent calls, so that on PostgreSQL they really run at once
  const store = suiteStore(target.dialect, 12);
  const db = (): Executor => store().db;
  const newUser = () => insertUser(db(), `attempts-${randomUUID()}`);
  const claim = (id: string, limit = LIMIT) => users.claimAttempt(db(), id, limit);
  async function row(id: string) {
    return (await users.byId(db(), id)) as users.UserRecord;
  }

  test('claimAttempt grants exactly `limit` claims, one after another, then refuses', async () => {
    const id = await newUser();
    const results = [];
    for (let i = 0; i < LIMIT + 2; i++) results.push(await claim(id));
    assert.deepEqual(results, [true, true, true, false, false]);
    assert.equal((await row(id)).failed_attempts, LIMIT);
  });

  test('claimAttempt called at once many times grants at most `limit` claims', async () => {
    const id = await newUser();
    const limit = 4;
    const results = await atOnce(12, () => claim(id, limit));
    assert.equal(results.filter(Boolean).length, limit, JSON.stringify(results));
    assert.equal((await row(id)).failed_attempts, limit);
  });

  test('claimAttempt refuses a revoked user, and a user that does not exist', async () => {
    const id = await newUser();
    await users.setRevoked(db(), id, true);
    assert.equal(await claim(id), false);
    assert.equal((await row(id)).failed_attempts, 0);
    assert.equal(await claim(randomUUID()), false);
  });

  test('releaseAttempt gives a claim back, never going below 0, also when called at once', async () => {
    const id = await newUser();
    for (let i = 0; i < LIMIT; i++) assert.equal(await claim(id), true);
    assert.equal(await claim(id), false);
    await users.releaseAttempt(db(), id);
    assert.equal((await row(id)).failed_attempts, LIMIT - 1);
    assert.equal(await claim(id), true, 'a released attempt can be claimed again');
    await atOnce(LIMIT + 5, () => users.releaseAttempt(db(), id));
    assert.equal((await row(id)).failed_attempts, 0);
    await users.releaseAttempt(db(), id);
    assert.equal((await row(id)).failed_attempts, 0);
  });

  test('lockIfExhausted locks only once the attempts are used up, and answers true once', async () => {
    const id = await newUser();
    const now = Date.now();
    for (let i = 0; i < LIMIT - 1; i++) {
      await claim(id);
      assert.equal(await users.lockIfExhausted(db(), id, LIMIT, now), false, `after ${i + 1} claims`);
      assert.equal((await row(id)).is_revoked, false);
    }
    await claim(id);
    const results = await atOnce(4, () => users.lockIfExhausted(db(), id, LIMIT, now));
    assert.equal(results.filter(Boolean).length, 1, JSON.stringify(results));
    const locked = await row(id);
    assert.equal(locked.is_revoked, true);
    assert.equal(locked.locked_at?.getTime(), now);
    assert.equal(await users.lockIfExhausted(db(), id, LIMIT, now + 1), false);
    assert.equal((await row(id)).locked_at?.getTime(), now, 'the lock time stays');
  });

  test('lockIfExhausted leaves an administrator-revoked user without a lock time', async () => {
    const id = await newUser();
    for (let i = 0; i < LIMIT; i++) await claim(id);
    await users.setRevoked(db(), id, true);
    assert.equal(await users.lockIfExhausted(db(), id, LIMIT, Date.now()), false);
    assert.equal((await row(id)).locked_at, null);
  });
});
