// DELETE /rbac-api/v2/tokens: each parameter, from the query and from a JSON
// body, revokes exactly the tokens it names; refusals revoke nothing; and
// DELETE /rbac-api/v2/tokens/:token for superusers.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { USER_PASSWORD } from '../kit/service.js';
import { UNKNOWN_ID, usersSuite } from '../users/support.js';
import { V1, V2, newToken, tokenRow, working } from './support.js';

describeEachDatabase('revoking login tokens by name', (target) => {
  const suite = usersSuite(target);
  const revoke = (token: string, query = '', payload?: unknown) =>
    suite.service.request({ method: 'DELETE', url: `${V2}/tokens${query}`, token, ...(payload === undefined ? {} : { payload: payload as never }) });

  // Two users, each with labelled tokens, and a holder of users:disable.
  let bob: { id: string; token: string };
  before(async () => {
    await suite.actorWith('alice', []);
    bob = await suite.actorWith('bob', []);
    await suite.actorWith('token-disabler', [suite.users('disable')]);
  });

  /** A fresh set of tokens: alice's a1 (laptop), a2 (ci), a3 (ci); bob's b1 (laptop), b2; and the callers'. */
  async function tokens() {
    // Fresh logins: a test may have revoked every token a user had.
    const a = await suite.service.login('alice', USER_PASSWORD);
    const b = await suite.service.login('bob', USER_PASSWORD);
    const d = await suite.service.login('token-disabler', USER_PASSWORD);
    return {
      a1: await newToken(suite.service, a, { label: 'laptop' }),
      a2: await newToken(suite.service, a, { label: 'ci' }),
      a3: await newToken(suite.service, a, { label: 'ci' }),
      b1: await newToken(suite.service, b, { label: 'laptop' }),
      b2: await newToken(suite.service, b),
      aliceCaller: await newToken(suite.service, a),
      bobCaller: await newToken(suite.service, b),
      disablerCaller: await newToken(suite.service, d),
    };
  }
  const all = ['a1', 'a2', 'a3', 'aliceCaller', 'b1', 'b2', 'bobCaller', 'disablerCaller'];
  const without = (...names: string[]) => all.filter((name) => !names.includes(name)).sort();
  const idOf = async (token: string) => (await tokenRow(suite.service, token)).id;

  test("revoke_tokens: whole tokens, anyone's, by whoever holds them (query, comma-separated, and body)", async () => {
    const t = await tokens();
    assert.equal((await revoke(t.aliceCaller, `?revoke_tokens=${t.a1},${t.b1}`)).statusCode, 204);
    assert.deepEqual(await working(suite.service, t), without('a1', 'b1'));
    assert.equal((await revoke(t.aliceCaller, '', { revoke_tokens: [t.b2] })).statusCode, 204);
    assert.deepEqual(await working(suite.service, t), without('a1', 'b1', 'b2'));
    // Again: idempotent.
    assert.equal((await revoke(t.aliceCaller, `?revoke_tokens=${t.b2}`)).statusCode, 204);
  });

  test("revoke_tokens_by_labels: only the caller's own tokens with those labels", async () => {
    const t = await tokens();
    assert.equal((await revoke(t.aliceCaller, '?revoke_tokens_by_labels=ci')).statusCode, 204);
    assert.deepEqual(await working(suite.service, t), without('a2', 'a3'));
    assert.equal((await revoke(t.aliceCaller, '', { revoke_tokens_by_labels: ['laptop', 'no such label'] })).statusCode, 204);
    assert.deepEqual(await working(suite.service, t), without('a1', 'a2', 'a3'), "bob's laptop token is not alice's");
  });

  test("revoke_tokens_by_usernames: every token of those users — one's own freely, another's with users:disable", async () => {
    let t = await tokens();
    assert.equal((await revoke(t.aliceCaller, '?revoke_tokens_by_usernames=ALICE')).statusCode, 204);
    assert.deepEqual(await working(suite.service, t), without('a1', 'a2', 'a3', 'aliceCaller'));
    t = await tokens();
    assert.equal((await revoke(t.disablerCaller, '', { revoke_tokens_by_usernames: ['alice', 'bob'] })).statusCode, 204);
    assert.deepEqual(await working(suite.service, t), ['disablerCaller']);
  });

  test("revoke_tokens_by_ids: tokens by their public id; a user id names all that user's tokens (as PE's documents read it)", async () => {
    let t = await tokens();
    assert.equal((await revoke(t.aliceCaller, `?revoke_tokens_by_ids=${await idOf(t.a2)}`)).statusCode, 204);
    assert.deepEqual(await working(suite.service, t), without('a2'));
    assert.equal((await revoke(t.disablerCaller, '', { revoke_tokens_by_ids: [(await idOf(t.b1)).toUpperCase(), await idOf(t.a1)] })).statusCode, 204);
    assert.deepEqual(await working(suite.service, t), without('a1', 'a2', 'b1'));
    t = await tokens();
    assert.equal((await revoke(t.disablerCaller, `?revoke_tokens_by_ids=${bob.id}`)).statusCode, 204);
    assert.deepEqual(await working(suite.service, t), without('b1', 'b2', 'bobCaller'));
  });

  test('parameters combine, from the query and the body together', async () => {
    const t = await tokens();
    const response = await revoke(t.disablerCaller, `?revoke_tokens=${t.a1}&revoke_tokens_by_labels=nothing`, { revoke_tokens: [t.a2], revoke_tokens_by_ids: [await idOf(t.b2)] });
    assert.equal(response.statusCode, 204, response.body);
    assert.deepEqual(await working(suite.service, t), without('a1', 'a2', 'b2'));
  });

  test("another user's tokens without users:disable on them: 403, and nothing at all is revoked", async () => {
    const t = await tokens();
    const attempts: [string, unknown?][] = [
      ['?revoke_tokens_by_usernames=bob'],
      ['', { revoke_tokens_by_usernames: ['alice', 'bob'] }],
      [`?revoke_tokens_by_ids=${await idOf(t.b1)}&revoke_tokens=${t.a1}`],
      ['', { revoke_tokens_by_ids: [bob.id], revoke_tokens_by_labels: ['ci'] }],
      [`?revoke_tokens_by_ids=${UNKNOWN_ID}`],
      ['?revoke_tokens_by_usernames=nobody-has-this-login'],
    ];
    for (const [query, payload] of attempts) assertError(await revoke(t.aliceCaller, query, payload), 403, 'permission-denied');
    // users:disable does not reach a superuser.
    assertError(await revoke(t.disablerCaller, '?revoke_tokens_by_usernames=admin'), 403, 'permission-denied');
    assert.deepEqual(await working(suite.service, t), all.slice().sort());
  });

  test('a name that is no one: 404 for a holder of users:disable, and nothing revoked', async () => {
    const t = await tokens();
    assertError(await revoke(t.disablerCaller, `?revoke_tokens_by_usernames=nobody-has-this-login&revoke_tokens=${t.a1}`), 404, 'not-found');
    assertError(await revoke(t.disablerCaller, `?revoke_tokens_by_ids=${UNKNOWN_ID},${bob.id}`), 404, 'not-found');
    assert.deepEqual(await working(suite.service, t), all.slice().sort());
  });

  test('no parameter, or only empty ones, is 400 and revokes nothing (DELETE /rbac-api/v1/tokens/current logs out)', async () => {
    const t = await tokens();
    for (const [query, payload] of [['', undefined], ['', {}], ['?revoke_tokens=', undefined], ['', { revoke_tokens: [] }], ['?revoke_tokens=,,', { revoke_tokens_by_labels: [] }]] as const) {
      assertError(await revoke(t.aliceCaller, query, payload), 400, 'schema-violation');
    }
    assert.deepEqual(await working(suite.service, t), all.slice().sort());
  });

  test('bad input is 400, never a 5xx, and revokes nothing', async () => {
    const t = await tokens();
    const attempts: [string, unknown?, string?][] = [
      [`?revoke_tokens=${t.a1},not a token!`],
      ['', { revoke_tokens: [t.a1, 'short'] }],
      [`?revoke_tokens_by_ids=${await idOf(t.a1)},12345`, undefined, 'invalid-uuid'],
      ['', { revoke_tokens_by_ids: ['x'.repeat(1000)] }, 'invalid-uuid'],
      ['?revoke_token=x'],
      ['', { revoke_tokens: t.a1 }],
      ['', { revoke_tokens: [1] }],
      ['', { revoke_tokens_by_usernames: ['a\u0000b'] }],
      ['', { something: ['x'] }],
      ['', [t.a1]],
      ['?revoke_tokens=a%00b'],
      ['', { revoke_tokens: Array.from({ length: 1001 }, () => t.a1) }],
    ];
    for (const [query, payload, kind] of attempts) {
      const response = await revoke(t.aliceCaller, query, payload);
      assert.equal(response.statusCode, 400, `${query} ${JSON.stringify(payload)?.slice(0, 80)}: ${response.body}`);
      if (kind) assertError(response, 400, kind);
    }
    const raw = (payload: string) => suite.service.request({ method: 'DELETE', url: `${V2}/tokens`, token: t.aliceCaller, headers: { 'content-type': 'application/json' }, payload });
    assertError(await raw('{"revoke_tokens": ['), 400, 'malformed-request');
    assertError(await raw('"revoke_tokens"'), 400, 'schema-violation');
    assertError(await raw('null'), 400, 'schema-violation');
    assert.deepEqual(await working(suite.service, t), all.slice().sort());
  });

  test('needs a token of its own', async () => {
    const t = await tokens();
    assertError(await suite.service.request({ method: 'DELETE', url: `${V2}/tokens?revoke_tokens=${t.a1}` }), 401, 'user-unauthenticated');
    assert.deepEqual(await working(suite.service, t), all.slice().sort());
  });

  test('DELETE /rbac-api/v2/tokens/:token: superusers revoke that token, and only it; others get 403', async () => {
    const t = await tokens();
    assertError(await suite.service.request({ method: 'DELETE', url: `${V2}/tokens/${t.b1}`, token: t.disablerCaller }), 403, 'permission-denied');
    assertError(await suite.service.request({ method: 'DELETE', url: `${V2}/tokens/${t.a1}`, token: t.aliceCaller }), 403, 'permission-denied');
    assert.deepEqual(await working(suite.service, t), all.slice().sort());
    assert.equal((await suite.service.request({ method: 'DELETE', url: `${V2}/tokens/${t.b1}`, token: suite.admin })).statusCode, 204);
    assert.deepEqual(await working(suite.service, t), without('b1'));
    assert.equal((await suite.service.request({ method: 'DELETE', url: `${V2}/tokens/${t.b1}`, token: suite.admin })).statusCode, 204, 'again');
    assertError(await suite.service.request({ method: 'DELETE', url: `${V2}/tokens/not%20a%20token`, token: suite.admin }), 400, 'schema-violation');
    assert.ok((await suite.service.request({ method: 'DELETE', url: `${V2}/tokens/${'a'.repeat(200)}`, token: suite.admin })).statusCode < 500);
  });

  test("each revocation is audited per user whose tokens it revoked, naming the tokens by id (never the token)", async () => {
    const t = await tokens();
    assert.equal((await revoke(t.disablerCaller, `?revoke_tokens=${t.a1},${t.b1},${t.b2}`)).statusCode, 204);
    const listed = await suite.service.request({ method: 'GET', url: `${V1}/events?limit=10`, token: suite.admin });
    for (const secret of Object.values(t)) assert.ok(!listed.body.includes(secret));
    type Listed = { type: string; actor: { login: string }; subject: { login: string }; details: { count: number; token_ids: string[]; via: string } };
    const events = (listed.json() as { events: Listed[] }).events.filter((event) => event.type === 'tokens-revoked').slice(0, 2);
    const bySubject = Object.fromEntries(events.map((event) => [event.subject.login, [event.actor.login, event.details.count, event.details.via, event.details.token_ids]]));
    assert.deepEqual(bySubject, {
      alice: ['token-disabler', 1, 'DELETE /rbac-api/v2/tokens', [await idOf(t.a1)]],
      bob: ['token-disabler', 2, 'DELETE /rbac-api/v2/tokens', [await idOf(t.b1), await idOf(t.b2)].sort()],
    });
  });
});
