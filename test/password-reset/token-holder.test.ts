// POST /auth/reset/holder (src/password-reset/token-holder.ts): the reset
// page's question "whose password does this token set?". A usable token gets
// its holder's login and stays usable; a spent, superseded, revoked-user,
// malformed or made-up token gets the same 403 invalid-token as /auth/reset;
// a body without a token is 400. On SQLite and PostgreSQL.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { startTestService, type TestService } from '../kit/service.js';

const NEW_PASSWORD = 'lantern harbor morning tide';

describeEachDatabase('POST /auth/reset/holder', (target) => {
  let service: TestService;
  before(async () => {
    service = await startTestService(target.dialect);
  });
  after(() => service?.close());

  const holder = (token: unknown) => service.request({ method: 'POST', url: '/rbac-api/v1/auth/reset/holder', payload: { token } });

  test("a usable token: 200 with its holder's login, not cached, and the token is not spent", async () => {
    const id = await service.createUser('Holder-Alice');
    const token = await service.resetToken(id);
    for (let i = 0; i < 2; i++) {
      const response = await holder(token);
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), { login: 'Holder-Alice', revoked_by: null, lockout_lifts_at: null, password_change_required: false, password_expired: false, password_maximum_age_days: null });
      assert.equal(response.headers['cache-control'], 'no-store');
    }
    const reset = await service.request({ method: 'POST', url: '/rbac-api/v1/auth/reset', payload: { token, password: NEW_PASSWORD } });
    assert.equal(reset.statusCode, 200, 'the token still works after being asked about');
    assertError(await holder(token), 403, 'invalid-token');
  });

  test('superseded, revoked user, malformed or made-up tokens: 403 invalid-token, as the reset gives', async () => {
    const id = await service.createUser('holder-bob');
    const first = await service.resetToken(id);
    const second = await service.resetToken(id);
    assertError(await holder(first), 403, 'invalid-token');
    assert.equal((await holder(second)).statusCode, 200);
    const revoke = await service.request({ method: 'POST', url: '/rbac-api/v1/command/users/revoke', token: await service.adminToken(), payload: { user_id: id } });
    assert.equal(revoke.statusCode, 204, revoke.body);
    assertError(await holder(second), 403, 'invalid-token');
    for (const made of ['not-a-token', 'AAAA.AA.AAA', `${second.slice(0, -2)}xx`]) assertError(await holder(made), 403, 'invalid-token');
  });

  test('no token, a token that is not a string, or another key: 400 schema-violation', async () => {
    assertError(await service.request({ method: 'POST', url: '/rbac-api/v1/auth/reset/holder', payload: {} }), 400, 'schema-violation');
    assertError(await holder(42), 400, 'schema-violation');
    assertError(await service.request({ method: 'POST', url: '/rbac-api/v1/auth/reset/holder', payload: { token: 'x', login: 'admin' } }), 400, 'schema-violation');
  });
});
