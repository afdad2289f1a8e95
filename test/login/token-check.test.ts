// The token check of every authenticated request and every introspection:
// one prepared statement (the token, its user's flags and role ids), run on
// the driver's statement where that is safe. It caches no row: a change
// committed anywhere shows in the next check, and a change not committed
// (another request's open transaction) never does.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { authenticateLoginToken } from '../../src/login/login-tokens.js';
import { ServiceError } from '../../src/errors.js';
import { inTransaction } from '../../src/store/transaction.js';
import { describeEachDatabase } from '../kit/databases.js';
import { USER_PASSWORD, startTestService, type TestService } from '../kit/service.js';

describeEachDatabase('the token check', (target) => {
  let service: TestService;
  before(async () => {
    service = await startTestService(target.dialect);
  });
  after(() => service?.close());

  const outcome = (check: Promise<unknown>) => check.then(
    () => 'accepted',
    (error: unknown) => (error instanceof ServiceError ? error.kind : String(error)),
  );

  test("a check while another request's transaction is open reads only what is committed", async () => {
    const id = await service.createUser('check-uncommitted');
    const token = await service.login('check-uncommitted', USER_PASSWORD);
    const db = service.store.db;
    await db.updateTable('users').set({ is_revoked: 1 }).where('id', '=', id).execute();

    let during: Promise<string> | undefined;
    await assert.rejects(
      inTransaction(db, async (trx) => {
        // An uncommitted reinstatement that will roll back.
        await trx.updateTable('users').set({ is_revoked: 0 }).where('id', '=', id).execute();
        during = outcome(authenticateLoginToken(db, token));
        await new Promise((resolve) => setTimeout(resolve, 50));
        throw new Error('rolled back');
      }),
      /rolled back/,
    );
    assert.equal(await during, 'user-revoked', 'the revoked user stayed revoked for the check');
    assert.equal(await outcome(authenticateLoginToken(db, token)), 'user-revoked');

    await db.updateTable('users').set({ is_revoked: 0 }).where('id', '=', id).execute();
    assert.equal(await outcome(authenticateLoginToken(db, token)), 'accepted', 'a committed reinstatement shows at once');
  });

  test('revoking the token, revoking the user, and taking a role away each show in the very next check', async () => {
    const id = await service.createUser('check-next');
    const token = await service.login('check-next', USER_PASSWORD);
    const db = service.store.db;
    const current = async () => {
      const response = await service.request({ method: 'GET', url: '/rbac-api/v1/users/current', token });
      return { status: response.statusCode, roles: response.statusCode === 200 ? (response.json() as { role_ids: number[] }).role_ids : undefined };
    };
    const introspected = async () => (await service.request({ method: 'POST', url: '/rbac-api/v2/auth/token/authenticate', payload: { token } })).statusCode;
    // Prepared by the first checks; every later one runs the same statement.
    assert.deepEqual(await current(), { status: 200, roles: [] });

    await db.insertInto('user_roles').values({ user_id: id, role_id: 1 }).execute();
    assert.deepEqual(await current(), { status: 200, roles: [1] });
    await db.deleteFrom('user_roles').where('user_id', '=', id).execute();
    assert.deepEqual(await current(), { status: 200, roles: [] });

    await db.updateTable('users').set({ is_revoked: 1 }).where('id', '=', id).execute();
    assert.equal((await current()).status, 401);
    assert.equal(await introspected(), 403);
    await db.updateTable('users').set({ is_revoked: 0 }).where('id', '=', id).execute();
    assert.equal((await current()).status, 200);

    await db.updateTable('login_tokens').set({ revoked_at: Date.now() }).where('user_id', '=', id).execute();
    assert.equal((await current()).status, 401);
    assert.equal(await introspected(), 403);
  });
});
