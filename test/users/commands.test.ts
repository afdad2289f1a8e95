// POST /command/users/revoke and reinstate ({user_id}): PUT's is_revoked on
// its own — users:disable on the user, nobody revokes themselves, revoking
// stops the user's login tokens and cancels its reset tokens, reinstating
// clears the failed-attempt count — answered 204; 404 for an unknown user,
// 400 for a bad body; refusals change nothing.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { USER_PASSWORD, type TestService } from '../kit/service.js';
import { UNKNOWN_ID, api, usersSuite } from './support.js';

describeEachDatabase('users', (target) => {
  const suite = usersSuite(target);
  let service: TestService;
  let admin: string;
  let adminId: string;
  before(() => ({ service, admin, adminId } = suite));
  const { users, actorWith, userRow } = suite;

  const command = (name: 'revoke' | 'reinstate', token: string, payload: unknown) =>
    service.request({ method: 'POST', url: api(`/command/users/${name}`), token, payload: JSON.stringify(payload), headers: { 'content-type': 'application/json' } });
  const eventsOf = async (subjectId: string) =>
    (await service.store.db.selectFrom('audit_events').select('type').where('subject_id', '=', subjectId).orderBy('id').execute()).map((row) => row.type);
  const currentStatus = async (token: string) => (await service.request({ method: 'GET', url: api('/users/current'), token })).statusCode;

  describe('revoke and reinstate commands', () => {
    test('revoke: 204 with no body; the user is revoked, its login tokens stop working, its reset token is cancelled, the event is recorded', async () => {
      const user = await actorWith('cmd-revoke', []);
      const resetToken = await service.resetToken(user.id);
      const response = await command('revoke', admin, { user_id: user.id });
      assert.equal(response.statusCode, 204, response.body);
      assert.equal(response.body, '');
      assert.equal((await userRow(user.id)).is_revoked, 1);
      assert.equal(await currentStatus(user.token), 401);
      assertError(await service.request({ method: 'POST', url: api('/auth/token'), payload: { login: 'cmd-revoke', password: USER_PASSWORD } }), 401, 'user-revoked');
      const reset = await service.request({ method: 'POST', url: api('/auth/reset'), payload: { token: resetToken, password: 'a brand new passphrase here' } });
      assertError(reset, 403, 'invalid-token');
      const events = await eventsOf(user.id);
      assert.ok(events.includes('account-revoked'), events.join());
      assert.ok(events.includes('reset-tokens-cancelled'), events.join());
    });

    test('reinstate: 204; the user logs in again with a fresh set of attempts; its old tokens stay revoked', async () => {
      const user = await actorWith('cmd-reinstate', []);
      assert.equal((await command('revoke', admin, { user_id: user.id })).statusCode, 204);
      await service.store.db.updateTable('users').set({ failed_attempts: 9 }).where('id', '=', user.id).execute();
      const response = await command('reinstate', admin, { user_id: user.id });
      assert.equal(response.statusCode, 204, response.body);
      const row = await userRow(user.id);
      assert.equal(row.is_revoked, 0);
      assert.equal(row.failed_attempts, 0);
      assert.equal(await currentStatus(user.token), 401, 'a token revoked with its user stays revoked');
      assert.equal(await currentStatus(await service.login('cmd-reinstate', USER_PASSWORD)), 200);
      assert.deepEqual((await eventsOf(user.id)).filter((type) => type.startsWith('account-')), ['account-revoked', 'account-unrevoked']);
    });

    test('reinstating a user locked by failed logins lifts the lockout', async () => {
      const id = await service.createUser('cmd-locked', { password: USER_PASSWORD });
      for (let i = 0; i < service.config.failedAttemptsLockout; i++) {
        await service.request({ method: 'POST', url: api('/auth/token'), payload: { login: 'cmd-locked', password: `wrong password ${i}` } });
      }
      assert.equal((await userRow(id)).is_revoked, 1);
      assert.equal((await command('reinstate', admin, { user_id: id })).statusCode, 204);
      const row = await userRow(id);
      assert.equal(row.is_revoked, 0);
      assert.equal(row.failed_attempts, 0);
      assert.equal(row.locked_at, null);
      await service.login('cmd-locked', USER_PASSWORD);
    });

    test('already in the asked state: 204, nothing written, no event', async () => {
      const id = await service.createUser('cmd-idempotent');
      const before = await eventsOf(id);
      assert.equal((await command('reinstate', admin, { user_id: id })).statusCode, 204);
      assert.equal((await command('revoke', admin, { user_id: id })).statusCode, 204);
      assert.equal((await command('revoke', admin, { user_id: id })).statusCode, 204);
      assert.equal((await userRow(id)).is_revoked, 1);
      assert.deepEqual((await eventsOf(id)).slice(before.length).filter((type) => type.startsWith('account-')), ['account-revoked']);
    });

    test('users:disable is needed (on that user or "*"), whatever the state; refusals change nothing', async () => {
      const target = await service.createUser('cmd-target');
      const other = await service.createUser('cmd-other');
      const editor = await actorWith('cmd-editor', [users('edit'), users('create'), users('reset_password')]);
      const nobody = await actorWith('cmd-nobody', []);
      const narrow = await actorWith('cmd-narrow', [users('disable', target)]);
      for (const actor of [editor, nobody]) {
        assertError(await command('revoke', actor.token, { user_id: target }), 403, 'permission-denied');
        assertError(await command('reinstate', actor.token, { user_id: target }), 403, 'permission-denied');
      }
      assert.equal((await userRow(target)).is_revoked, 0);
      assertError(await command('revoke', narrow.token, { user_id: other }), 403, 'permission-denied');
      assert.equal((await userRow(other)).is_revoked, 0);

      assert.equal((await command('revoke', narrow.token, { user_id: target })).statusCode, 204);
      assert.equal((await userRow(target)).is_revoked, 1);
      assertError(await command('reinstate', editor.token, { user_id: target }), 403, 'permission-denied');
      assert.equal((await userRow(target)).is_revoked, 1);
      assert.equal((await command('reinstate', narrow.token, { user_id: target })).statusCode, 204);
      assert.equal((await userRow(target)).is_revoked, 0);
    });

    test('a superuser is revoked only by a superuser; nobody revokes themselves', async () => {
      const superId = await service.createUser('cmd-super');
      await service.store.db.updateTable('users').set({ is_superuser: 1 }).where('id', '=', superId).execute();
      const disabler = await actorWith('cmd-disabler', [users('disable')]);
      assertError(await command('revoke', disabler.token, { user_id: superId }), 403, 'permission-denied');
      assert.equal((await userRow(superId)).is_revoked, 0);

      assertError(await command('revoke', admin, { user_id: adminId }), 403, 'permission-denied');
      assertError(await command('revoke', disabler.token, { user_id: disabler.id.toUpperCase() }), 403, 'permission-denied');
      assert.equal((await userRow(adminId)).is_revoked, 0);
      assert.equal((await userRow(disabler.id)).is_revoked, 0);
      assert.equal(await currentStatus(disabler.token), 200);

      assert.equal((await command('revoke', admin, { user_id: superId })).statusCode, 204);
      assert.equal((await userRow(superId)).is_revoked, 1);
    });

    test('an unknown user is 404, a user_id that is no UUID 400 invalid-uuid, a bad body 400 schema-violation', async () => {
      for (const name of ['revoke', 'reinstate'] as const) {
        assertError(await command(name, admin, { user_id: UNKNOWN_ID }), 404, 'not-found');
        assertError(await command(name, admin, { user_id: 'not-a-uuid' }), 400, 'invalid-uuid');
        for (const payload of [{}, { user_id: 5 }, { user_id: null }, { user_id: [UNKNOWN_ID] }, { user_id: UNKNOWN_ID, extra: true }, [], 'x'.repeat(100), { user_id: 'x'.repeat(65) }]) {
          assertError(await command(name, admin, payload), 400, 'schema-violation');
        }
        assertError(await command(name, admin, { user_id: 'a\u0000b' }), 400, 'schema-violation');
      }
      const unauthenticated = await service.request({ method: 'POST', url: api('/command/users/revoke'), payload: { user_id: UNKNOWN_ID } });
      assertError(unauthenticated, 401, 'user-unauthenticated');
    });
  });
});
