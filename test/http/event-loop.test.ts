// No single request holds the event loop for long, whatever it holds
// (CONTRACT §7): a request carrying 1,000 ids, and a page of 1,000 activity
// events, let the loop turn while they run — on SQLite too, where every
// statement runs on the event loop. Nothing here is timed: the clock
// (performance.now, which src/event-loop.ts reads) is moved 1 ms at each
// reading, so every turn counts as long and the work must let the loop turn
// between its slices; a chain of setImmediate callbacks beside the request
// counts the turns. Done in one go (one statement, one serialisation), the
// request would run in one or two turns.

import assert from 'node:assert/strict';
import { before, mock, test } from 'node:test';
import { BUSY_MS, stringifyInSlices, yieldIfBusy } from '../../src/event-loop.js';
import { describeEachDatabase, insertUser } from '../kit/databases.js';
import { rolesSuite } from '../roles/support.js';

const LIST = 1000;

/** The moved clock: it never goes back, from one request to the next, as the real one does not. */
let clock = 0;

/** Runs `work` with the clock moved 1 ms at each reading; how many turns the event loop made meanwhile, and the work's result. */
async function turnsDuring<T>(work: () => Promise<T>): Promise<{ turns: number; result: T }> {
  clock = Math.max(clock, performance.now());
  let turns = 0;
  let counting = true;
  const count = () => {
    turns++;
    if (counting) setImmediate(count);
  };
  const now = mock.method(performance, 'now', () => (clock += 1));
  setImmediate(count);
  try {
    const result = await work();
    return { turns, result };
  } finally {
    counting = false;
    now.mock.restore();
  }
}

test('yieldIfBusy waits for the next turn once the turn has run BUSY_MS, and not before', async () => {
  let at = 0;
  const now = mock.method(performance, 'now', () => at);
  try {
    await new Promise((resolve) => setImmediate(resolve));
    let ran = false;
    await yieldIfBusy(); // opens the turn at 0
    setImmediate(() => (ran = true));
    at = BUSY_MS - 1;
    await yieldIfBusy();
    assert.equal(ran, false, 'a turn shorter than BUSY_MS goes on');
    at = BUSY_MS;
    await yieldIfBusy();
    assert.equal(ran, true, 'a turn of BUSY_MS lets the loop turn');
  } finally {
    now.mock.restore();
  }
});

test('stringifyInSlices writes what JSON.stringify writes', async () => {
  const page = { commits: Array.from({ length: 250 }, (_, i) => ({ id: `c${i}`, name: i % 2 ? null : 'quote " and \\ and \u2028', n: i })), pagination: { total: 250, limit: 1000, offset: 0 } };
  assert.equal(await stringifyInSlices(page, 'commits'), JSON.stringify(page));
  assert.equal(await stringifyInSlices({ commits: [], 'total-rows': 0 }, 'commits'), JSON.stringify({ commits: [], 'total-rows': 0 }));
});

describeEachDatabase('a request of 1,000 entries lets the event loop turn while it runs', (target) => {
  const suite = rolesSuite(target);
  const userIds: string[] = [];
  before(async () => {
    const { db } = suite.service.store;
    for (let i = 0; i < LIST; i++) userIds.push(await insertUser(db, `loop-user-${i}`));
    const at = Date.now() - 60_000;
    const events = Array.from({ length: LIST }, (_, i) => ({
      at: at + i,
      type: 'role-assigned',
      actor_id: suite.adminId,
      actor_login: 'admin',
      actor_certname: null,
      subject_id: userIds[i] as string,
      subject_login: `loop-user-${i}`,
      source_address: '192.0.2.1',
      details: JSON.stringify({ role_id: 1 }),
    }));
    for (let i = 0; i < events.length; i += 200) await db.insertInto('audit_events').values(events.slice(i, i + 200)).execute();
  });

  test('add-users with 1,000 users: written in slices, the loop turning between them', async () => {
    const role = await suite.createRole([]);
    const { turns, result } = await turnsDuring(() => suite.command('roles/add-users', suite.admin, { role_id: role, user_ids: userIds }));
    assert.equal(result.statusCode, 204, result.body);
    assert.equal((await suite.fetchRole(role)).user_ids.length, LIST);
    assert.ok(turns >= 10, `the event loop turned ${turns} times`);
  });

  test('a page of 1,000 activity events (v1, v2, CSV): read, built and written in slices, the loop turning between them', async () => {
    for (const url of ['/activity-api/v1/events?service_id=rbac&limit=1000', '/activity-api/v2/events?limit=1000', '/activity-api/v2/events.csv?limit=1000']) {
      const { turns, result } = await turnsDuring(() => suite.service.request({ method: 'GET', url, token: suite.admin }));
      assert.equal(result.statusCode, 200, result.body.slice(0, 300));
      if (url.includes('.csv')) assert.equal(result.body.trimEnd().split('\n').length, LIST + 1);
      else {
        const page = result.json() as { commits: unknown[] };
        assert.equal(page.commits.length, LIST);
        assert.match(String(result.headers['content-type']), /^application\/json; charset=utf-8$/);
      }
      assert.ok(turns >= 10, `${url}: the event loop turned ${turns} times`);
    }
  });
});
