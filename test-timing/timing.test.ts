// Timing side channels (run with `npm run test:timing`; slow by design, so
// not in the main suite): a client must not tell an unknown login from a
// wrong password, or an invalid reset token from an expired one, by how long
// the answer takes. Medians over 200+ tries each, interleaved so drift in
// the machine's speed hits both alike.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signResetToken } from '../src/password-reset/reset-token.js';
import { DATABASES } from '../test/kit/databases.js';
import { startTestService, type TestService } from '../test/kit/service.js';
import { DIRECTORY_USERS, directorySettingsFor, startSlapd, type Slapd } from '../test/kit/slapd.js';

const TRIES = 220;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** Interleaves the two kinds of request and returns both medians in ms. */
async function compare(a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<[number, number]> {
  const timesA: number[] = [];
  const timesB: number[] = [];
  for (let i = 0; i < 10; i++) await Promise.all([a(), b()]); // warm-up
  for (let i = 0; i < TRIES; i++) {
    if (i % 2) {
      timesA.push(await timed(a));
      timesB.push(await timed(b));
    } else {
      timesB.push(await timed(b));
      timesA.push(await timed(a));
    }
  }
  return [median(timesA), median(timesB)];
}

/** Indistinguishable: the medians differ by less than 1 ms or 15 %, whichever is larger (plus `extraMs` where a documented cost is allowed). */
function assertIndistinguishable([a, b]: [number, number], what: string, extraMs = 0) {
  const allowed = Math.max(1, 0.15 * Math.max(a, b)) + extraMs;
  process.stderr.write(`${what}: ${a.toFixed(2)} ms vs ${b.toFixed(2)} ms\n`);
  assert.ok(Math.abs(a - b) < allowed, `${what}: medians ${a.toFixed(2)} ms and ${b.toFixed(2)} ms differ by more than ${allowed.toFixed(2)} ms`);
}

for (const target of DATABASES) {
  describe(`timing [${target.dialect}]`, { skip: target.skip }, () => {
    let service: TestService;
    before(async () => {
      service = await startTestService(target.dialect, { failedAttemptsLockout: 1_000_000 });
    });
    after(() => service?.close());

    test('unknown login vs wrong password', async () => {
      await service.createUser('timing-known');
      const attempt = (login: string) => () =>
        service.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: { login, password: 'not the right password' } });
      assertIndistinguishable(await compare(attempt('timing-known'), attempt('timing-nobody')), `login [${target.dialect}]`);
    });

    test('invalid vs expired reset token', async () => {
      const id = await service.createUser('timing-reset');
      const expired = (await signResetToken(service.keys, id, 60, Date.now() - 3600_000)).token;
      const [header, payload] = expired.split('.');
      const invalid = `${header}.${payload}.${'A'.repeat(342)}`; // right shape, wrong signature
      const reset = (token: string) => () =>
        service.request({ method: 'POST', url: '/rbac-api/v1/auth/reset', payload: { token, password: 'lantern harbor morning tide' } });
      assertIndistinguishable(await compare(reset(invalid), reset(expired)), `reset token [${target.dialect}]`);
    });

    describe('with a directory (a real slapd)', () => {
      let slapd: Slapd;
      before(async () => {
        slapd = await startSlapd();
        const response = await service.request({
          method: 'POST',
          url: '/rbac-api/v1/command/ldap/create',
          token: await service.adminToken(),
          payload: directorySettingsFor(slapd, { display_name: 'Timing directory' }),
        });
        assert.equal(response.statusCode, 200, response.body);
      });
      after(() => slapd?.stop());

      const attempt = (login: string) => () =>
        service.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: { login, password: 'not the right password' } });

      test('a directory user with a wrong password vs a login the directory does not know', async () => {
        assertIndistinguishable(await compare(attempt(DIRECTORY_USERS.bob.login), attempt('timing-nobody-anywhere')), `directory login [${target.dialect}]`);
      });

      // A local login never asks the directory, so it can be quicker by what
      // the directory's work adds beyond the decoy hash it overlaps: here,
      // where slapd shares the two cores with the hash, up to about one
      // connection test (connect, bind, search). docs/decisions.md says why.
      test('a directory user with a wrong password vs a local user with a wrong password: apart by at most one directory round trip', async () => {
        const roundTrips: number[] = [];
        for (let i = 0; i < 21; i++) {
          const tested = await service.request({ method: 'GET', url: '/rbac-api/v1/ds/test', token: await service.adminToken() });
          roundTrips.push((tested.json() as { elapsed: number }).elapsed);
        }
        const roundTrip = median(roundTrips);
        process.stderr.write(`directory round trip [${target.dialect}]: ${roundTrip} ms\n`);
        assertIndistinguishable(await compare(attempt(DIRECTORY_USERS.bob.login), attempt('timing-known')), `directory vs local [${target.dialect}]`, roundTrip);
      });
    });
  });
}
