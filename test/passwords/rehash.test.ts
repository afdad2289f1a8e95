// Hashes made with older parameters are upgraded on the next
// successful login — and only then: a failed login, or a hash that is already
// current, leaves the row alone.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { hash as argon2Hash, parseOptions, type Algorithm, type Options, type Version } from '@node-rs/argon2';
import { CURRENT_PARAMETERS } from '../../src/passwords/hashing.js';
import { describeEachDatabase } from '../kit/databases.js';
import { USER_PASSWORD, startTestService, type TestService } from '../kit/service.js';

const ARGON2I = 1 as Algorithm;
const ARGON2ID = 2 as Algorithm;
const V0x10 = 0 as Version;

describeEachDatabase('rehash on login', (target) => {
  let service: TestService;
  before(async () => {
    service = await startTestService(target.dialect);
  });
  after(() => service?.close());

  const storedHash = async (id: string) =>
    (await service.store.db.selectFrom('users').select('password_hash').where('id', '=', id).executeTakeFirstOrThrow()).password_hash;
  const setHash = (id: string, passwordHash: string) =>
    service.store.db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', id).execute();
  const attempt = (login: string, password: string) =>
    service.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: { login, password } });

  const assertCurrent = (stored: string | null) => {
    assert.ok(stored !== null);
    const used = parseOptions(stored);
    assert.equal(used.algorithm, ARGON2ID);
    assert.equal(used.version, 1, 'argon2 1.3 (v=19)');
    assert.equal(used.memoryCost, CURRENT_PARAMETERS.memoryCost);
    assert.equal(used.timeCost, CURRENT_PARAMETERS.timeCost);
    assert.equal(used.parallelism, CURRENT_PARAMETERS.parallelism);
    assert.ok(used.memoryCost >= 19456 && used.timeCost >= 2);
  };

  const weakHashes: [string, Options][] = [
    ['argon2id m=8192 t=1', { memoryCost: 8192, timeCost: 1, parallelism: 1, algorithm: ARGON2ID }],
    ['argon2i with current costs', { memoryCost: 19456, timeCost: 2, parallelism: 1, algorithm: ARGON2I }],
    ['argon2id version 1.0 (v=16)', { memoryCost: 19456, timeCost: 2, parallelism: 1, algorithm: ARGON2ID, version: V0x10 }],
  ];

  for (const [index, [name, options]] of weakHashes.entries()) {
    test(`a ${name} hash is replaced by a current one on successful login, and the password still works`, async () => {
      const login = `rehash-weak-${index}`;
      const id = await service.createUser(login);
      const weak = await argon2Hash(USER_PASSWORD, options);
      await setHash(id, weak);

      const hashesBefore = service.hasher.counts.hash;
      const first = await attempt(login, USER_PASSWORD);
      assert.equal(first.statusCode, 200, 'the old hash still logs in');
      assert.equal(service.hasher.counts.hash - hashesBefore, 1, 'one new hash was computed');

      const upgraded = await storedHash(id);
      assert.notEqual(upgraded, weak);
      assertCurrent(upgraded);

      assert.equal((await attempt(login, USER_PASSWORD)).statusCode, 200, 'the password works with the new hash');
      assert.equal(await storedHash(id), upgraded, 'a current hash is not redone');
      assert.equal((await attempt(login, 'not the password at all')).statusCode, 401, 'and a wrong one still does not');
    });
  }

  test('a current hash is left alone on login: no new hash is computed', async () => {
    const id = await service.createUser('rehash-current');
    const before = await storedHash(id);
    assertCurrent(before);
    const hashesBefore = service.hasher.counts.hash;
    assert.equal((await attempt('rehash-current', USER_PASSWORD)).statusCode, 200);
    assert.equal(await storedHash(id), before);
    assert.equal(service.hasher.counts.hash, hashesBefore);
  });

  test('a failed login does not touch a weak hash', async () => {
    const id = await service.createUser('rehash-failed');
    const weak = await argon2Hash(USER_PASSWORD, weakHashes[0]![1]);
    await setHash(id, weak);
    const hashesBefore = service.hasher.counts.hash;
    assert.equal((await attempt('rehash-failed', 'not the password at all')).statusCode, 401);
    assert.equal(await storedHash(id), weak);
    assert.equal(service.hasher.counts.hash, hashesBefore);
  });

  test('the upgraded hash is of the NFKC form: an old hash of a fullwidth password upgrades and keeps working both ways', async () => {
    const id = await service.createUser('rehash-nfkc');
    // An old hash of the normalized form, as the service has always stored.
    const weak = await argon2Hash(USER_PASSWORD.normalize('NFKC'), weakHashes[0]![1]);
    await setHash(id, weak);
    const fullwidth = 'ａ ｐｅｒｆｅｃｔｌｙ ｌｏｎｇ ｐａｓｓｐｈｒａｓｅ';
    assert.equal(fullwidth.normalize('NFKC'), USER_PASSWORD);
    assert.equal((await attempt('rehash-nfkc', fullwidth)).statusCode, 200);
    assertCurrent(await storedHash(id));
    assert.equal((await attempt('rehash-nfkc', USER_PASSWORD)).statusCode, 200, 'the ASCII form works with the upgraded hash');
    assert.equal((await attempt('rehash-nfkc', fullwidth)).statusCode, 200);
  });
});
