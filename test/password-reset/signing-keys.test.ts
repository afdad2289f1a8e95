// `rbac keys list|rotate|retire` (docs/operations.md, key rotation), run as a
// subprocess against the database of a running test service, on SQLite and
// PostgreSQL: a rotation makes the new key sign at once while tokens signed
// by the old key keep working; retiring the old key makes its unused reset
// tokens unusable; the only signing key cannot be retired.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { calculateJwkThumbprint, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { drawKeyPair } from '../../src/password-reset/signing-keys.js';
import { describeEachDatabase } from '../kit/databases.js';
import { runCli, type CliResult } from '../kit/processes.js';
import { startTestService, type TestService } from '../kit/service.js';

/** `rbac <args>` against the service's store. */
function rbac(service: TestService, args: string[]): Promise<CliResult> {
  const where = ['--data-dir', service.config.dataDir, ...(service.config.databaseUrl ? ['--database-url', service.config.databaseUrl] : [])];
  return runCli([...args, ...where]);
}

interface ListedKey {
  kid: string;
  retired: string | null;
  signs: boolean;
}

describeEachDatabase('rbac keys', (target) => {
  let service: TestService;
  before(async () => {
    service = await startTestService(target.dialect);
  });
  after(() => service?.close());

  const issue = async (userId: string) => {
    const response = await service.request({ method: 'POST', url: `/rbac-api/v1/users/${userId}/password/reset`, token: await service.adminToken() });
    assert.equal(response.statusCode, 201, response.body);
    return response.body;
  };
  const usable = async (resetToken: string) =>
    (await service.request({ method: 'POST', url: '/rbac-api/v1/command/validate-password', payload: { password: 'x', reset_token: resetToken } })).statusCode === 200;

  test('rotate, then retire the old key: old tokens work until the retirement, new ones are signed by the new key', async () => {
    const first = await service.createUser('keys-first');
    const second = await service.createUser('keys-second');
    const oldToken = await issue(first);
    const oldKid = decodeProtectedHeader(oldToken).kid;

    const rotated = await rbac(service, ['keys', 'rotate']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const [newKid] = rotated.stdout.split(' ');
    assert.ok(newKid && newKid !== oldKid, 'a new key id is printed first');
    assert.match(rotated.stdout, /^\S+ signs new reset tokens from now on/, 'success on stdout');
    assert.equal(rotated.stderr, '', 'stderr is for errors only');

    const listed = await rbac(service, ['keys', 'list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const keys = JSON.parse(listed.stdout) as ListedKey[];
    assert.deepEqual(
      keys.map((key) => [key.kid, key.signs, key.retired]),
      [
        [newKid, true, null],
        [oldKid, false, null],
      ],
    );

    const newToken = await issue(second);
    assert.equal(decodeProtectedHeader(newToken).kid, newKid, 'the running service signs with the new key at once');
    assert.ok(await usable(oldToken), 'a token signed by the old key still works after the rotation');

    const retired = await rbac(service, ['keys', 'retire', oldKid as string]);
    assert.equal(retired.code, 0, retired.stderr);
    assert.match(retired.stdout, /retired; 1 unused reset token/);
    assert.equal(retired.stderr, '', 'stderr is for errors only');
    assert.ok(!(await usable(oldToken)), "the retired key's unused token is refused");
    assert.ok(await usable(newToken), "the new key's token still works");

    const again = JSON.parse((await rbac(service, ['keys', 'list', '--json'])).stdout) as ListedKey[];
    assert.ok(again.find((key) => key.kid === oldKid)?.retired, 'listed as retired');
  });

  test('the only signing key cannot be retired, and an unknown kid is an error', async () => {
    const keys = JSON.parse((await rbac(service, ['keys', 'list', '--json'])).stdout) as ListedKey[];
    const signing = keys.filter((key) => key.retired === null);
    assert.equal(signing.length, 1);
    const refused = await rbac(service, ['keys', 'retire', signing[0]?.kid as string]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /only key that signs/);
    const unknown = await rbac(service, ['keys', 'retire', 'no-such-kid']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no signing key/);
  });
});

test('a key id never starts with "-" (it would read as an option in `rbac keys retire <kid>`): such a key pair is drawn again', async () => {
  // EC pairs are quick to make; which algorithm does not matter to the kid rule.
  const newPair = () => generateKeyPair('ES256', { extractable: true });
  const kidOf = async (pair: CryptoKeyPair) => calculateJwkThumbprint(await exportJWK(pair.publicKey));
  let dashed: CryptoKeyPair | undefined;
  while (!dashed) {
    const pair = await newPair();
    if ((await kidOf(pair)).startsWith('-')) dashed = pair;
  }
  // 1 pair in 64 has a dashed kid too: the plain one must not.
  let plain = await newPair();
  while ((await kidOf(plain)).startsWith('-')) plain = await newPair();
  const offered = [dashed, plain];
  const drawn = await drawKeyPair(async () => offered.shift() as CryptoKeyPair);
  assert.equal(offered.length, 0, 'the dashed pair was put aside and the next one drawn');
  assert.equal(drawn.kid, await kidOf(plain));
  assert.ok(!drawn.kid.startsWith('-'));
});
