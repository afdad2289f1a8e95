// What the password history (number-of-previous-passwords) costs the change
// and reset flows: both flows on a service with the setting at 0 and on one
// with it at the default 5, on users who have changed their password often
// enough to fill a history of 5, under the same load, in one run. Every
// request sets a password the user never had, so nothing is refused.

import { randomBytes } from 'node:crypto';
import { mapLimit } from '../test/kit/concurrency.js';
import { type Connection, expectClean, load, perConnection } from './lib/load.js';
import { ADMIN_PASSWORD } from '../test/kit/passwords.js';
import { type Dialect, type FlowResult, type Service, type Settings, counted, createUser, login, loginStatus, PASSWORD_A, startService } from './ours.js';

/** The settings compared: none kept, and PE's default. */
export const HISTORY_SETTINGS = [0, 5] as const;

export interface HistoryRun {
  /** number-of-previous-passwords. */
  kept: number;
  change: FlowResult;
  /** One reset per two requests: each reset's token is issued just before it (the same at both settings). */
  reset: FlowResult;
  /** Resets a second (answered 200). */
  resetRate: number;
}

const V1 = '/rbac-api/v1';
const json = { 'content-type': 'application/json' };

/** A user walking through passwords it never had: the current one, and the one being set. */
interface Walk {
  login: string;
  id: string;
  current: string;
  pending: string;
  count: number;
}

const passwordNumber = (n: number) => `${PASSWORD_A} ${n}`;

/** The pending password becomes the current one, and the next one is new. */
function step(walk: Walk): void {
  walk.current = walk.pending;
  walk.pending = passwordNumber(++walk.count);
}

/**
 * Puts each walk back in step with the database after a run stopped with
 * requests unanswered: a change or reset that went through unseen made the
 * pending password the current one.
 */
async function resynchronise(service: Service, walks: Walk[]): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 500)); // let the requests in flight finish
  await mapLimit(walks, 4, async (walk) => {
    if ((await loginStatus(service, walk.login, walk.current)) !== 200) step(walk);
  });
}

export type HistorySettings = Pick<Settings, 'hashConnections' | 'seconds' | 'warmupSeconds'>;

export async function runHistoryCost(dialect: Dialect, settings: HistorySettings, log: (line: string) => void): Promise<HistoryRun[]> {
  const runs: HistoryRun[] = [];
  for (const kept of HISTORY_SETTINGS) runs.push(await runWithHistory(dialect, kept, settings, log));
  return runs;
}

async function runWithHistory(dialect: Dialect, kept: number, settings: HistorySettings, log: (line: string) => void): Promise<HistoryRun> {
  const { hashConnections: hc, seconds, warmupSeconds } = settings;
  const service = await startService(dialect, ['--failed-attempts-lockout', '1000000', '--number-of-previous-passwords', String(kept)]);
  try {
    const url = service.url;
    const adminToken = await login(service, 'admin', ADMIN_PASSWORD);
    const tag = randomBytes(3).toString('hex');
    const walks: Walk[] = await mapLimit(Array.from({ length: hc }, (_, i) => `bench-${tag}-h${i}`), 4, async (name) => ({
      login: name,
      id: await createUser(service, adminToken, name, PASSWORD_A),
      current: PASSWORD_A,
      pending: passwordNumber(1),
      count: 1,
    }));
    const tokens = await mapLimit(walks, 4, (walk) => login(service, walk.login, walk.current));

    const changeConnection = (i: number): Connection => {
      const walk = walks[i % hc]!;
      const headers = { ...json, 'x-authentication': tokens[i % hc]! };
      return {
        next: () => ({ method: 'PUT', path: `${V1}/users/current/password`, headers, body: JSON.stringify({ current_password: walk.current, password: walk.pending }) }),
        // 403: the current password is wrong, because a change sent before a run stopped went through unseen.
        answered: (status) => (status === 200 || status === 403 ? step(walk) : undefined),
      };
    };
    const changeOptions = { url, connections: hc, ...perConnection(changeConnection) };

    log(`  ${dialect}, number-of-previous-passwords ${kept}: filling each user's history`);
    // About six changes each, at both settings (the warm-up adds more): with 5 kept, every later check verifies 5 hashes.
    await load({ ...changeOptions, amount: hc * (Math.max(...HISTORY_SETTINGS) + 1) });
    await resynchronise(service, walks);

    log(`  ${dialect}, number-of-previous-passwords ${kept}: PUT /users/current/password`);
    await load({ ...changeOptions, duration: warmupSeconds });
    await resynchronise(service, walks);
    // On a busy machine a change may outlast the pause after the warm-up: one refusal per connection is allowed for it.
    const change = await counted(service, async () => expectClean('history change', await load({ ...changeOptions, duration: seconds }), hc));
    await resynchronise(service, walks);

    log(`  ${dialect}, number-of-previous-passwords ${kept}: POST /auth/reset, each with a token issued just before`);
    const resetTokens: (string | undefined)[] = walks.map(() => undefined);
    let resets = 0;
    const resetConnection = (i: number): Connection => {
      const n = i % hc;
      const walk = walks[n]!;
      return {
        next: () =>
          resetTokens[n] === undefined
            ? { method: 'POST', path: `${V1}/users/${walk.id}/password/reset`, headers: { 'x-authentication': adminToken } }
            : { method: 'POST', path: `${V1}/auth/reset`, headers: json, body: JSON.stringify({ token: resetTokens[n], password: walk.pending }) },
        answered(status, body) {
          if (status === 201) resetTokens[n] = body;
          if (status === 200) resets++;
          // 403: the token was spent by a reset sent before a run stopped; 400: that reset went
          // through unseen, and its password, now the current one, is refused (the token is not spent).
          if (status === 200 || status === 403) resetTokens[n] = undefined;
          if (status === 200 || status === 400) step(walk);
        },
      };
    };
    const resetOptions = { url, connections: hc, ...perConnection(resetConnection) };
    await load({ ...resetOptions, duration: warmupSeconds });
    await resynchronise(service, walks);
    resetTokens.fill(undefined); // a token whose reset went through unseen is spent
    resets = 0;
    const reset = await counted(service, async () => expectClean('history reset', await load({ ...resetOptions, duration: seconds }), 2 * hc));
    // counted() spreads the hashes over both kinds of request; per reset they are twice that.
    return { kept, change, reset: { ...reset, hashesPerRequest: reset.hashes / Math.max(1, resets) }, resetRate: resets / reset.seconds };
  } finally {
    await service.stop();
  }
}
