// The audit trail, GET /events: superusers only, newest first, paginated with
// ?limit=&offset=, each event with time, type, actor, subject and source
// address; security events of the password flows are all there, and no
// event carries a password or a token.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { recordEvent } from '../../src/audit/audit.js';
import type { SecurityEvent } from '../../src/store/events.js';
import { inTransaction, onEventsCommitted } from '../../src/store/transaction.js';
import { describeEachDatabase } from '../kit/databases.js';
import { ADMIN_PASSWORD, USER_PASSWORD, startServiceWithAdmin, type TestService } from '../kit/service.js';

const URL = '/rbac-api/v1/events';

interface Party {
  id: string | null;
  login: string | null;
}

interface ListedEvent {
  id: number;
  time: string;
  type: string;
  actor: Party | null;
  subject: Party | null;
  source_address: string | null;
  details: Record<string, unknown>;
}

interface EventPage {
  events: ListedEvent[];
  pagination: { limit: number; offset: number; total: number };
}

describeEachDatabase('events', (target) => {
  let service: TestService;
  let admin: string;
  before(async () => ({ service, admin } = await startServiceWithAdmin(target.dialect, { failedAttemptsLockout: 3 })));
  after(() => service?.close());

  const list = async (query = '', token = admin) => {
    const response = await service.request({ method: 'GET', url: `${URL}${query}`, token });
    assert.equal(response.statusCode, 200, response.body);
    return response.json() as EventPage;
  };
  const all = async () => (await list('?limit=1000')).events;

  test('superusers only: 403 permission-denied for other users, 401 without a token', async () => {
    await service.createUser('events-plain-user');
    const token = await service.login('events-plain-user', USER_PASSWORD);
    const denied = await service.request({ method: 'GET', url: URL, token });
    assert.equal(denied.statusCode, 403);
    assert.equal((denied.json() as { kind: string }).kind, 'permission-denied');
    assert.ok(!denied.body.includes('"events"'));
    const anonymous = await service.request({ method: 'GET', url: URL });
    assert.equal(anonymous.statusCode, 401);
    assert.equal((anonymous.json() as { kind: string }).kind, 'user-unauthenticated');
  });

  test('each event has id, ISO time, type, actor, subject, source_address and details', async () => {
    await service.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: { login: 'admin', password: 'a wrong admin guess' } });
    const page = await list();
    assert.ok(page.events.length > 0);
    for (const event of page.events) {
      assert.deepEqual(Object.keys(event).sort(), ['actor', 'details', 'id', 'source_address', 'subject', 'time', 'type']);
      assert.equal(typeof event.id, 'number');
      assert.match(event.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(typeof event.details, 'object');
    }
    const failed = page.events.find((event) => event.type === 'login-failed' && event.subject?.login === 'admin');
    assert.ok(failed, 'the failed admin login is listed');
    assert.equal(failed.source_address, '127.0.0.1');
    assert.ok(Math.abs(Date.parse(failed.time) - Date.now()) < 60_000);
  });

  test('newest first: ids and times never increase down the list', async () => {
    // Events written with times out of id order still come out newest first.
    const now = Date.now();
    await recordEvent(service.store.db, { type: 'account-revoked', subject: { id: null, login: 'events-order-later' } }, now + 1000);
    await recordEvent(service.store.db, { type: 'account-revoked', subject: { id: null, login: 'events-order-earlier' } }, now - 1000);
    const events = await all();
    for (let i = 1; i < events.length; i++) {
      const [newer, older] = [events[i - 1]!, events[i]!];
      assert.ok(Date.parse(newer.time) >= Date.parse(older.time), `${newer.time} before ${older.time}`);
      if (newer.time === older.time) assert.ok(newer.id > older.id, 'same time: higher id first');
    }
    const later = events.findIndex((event) => event.subject?.login === 'events-order-later');
    const earlier = events.findIndex((event) => event.subject?.login === 'events-order-earlier');
    assert.ok(later >= 0 && earlier > later, 'ordered by time, not by id');
    assert.equal(events[0]!.subject?.login, 'events-order-later', 'the newest is first');
  });

  test('pagination: limit and offset select a window; total counts every event', async () => {
    for (let i = 0; i < 5; i++) {
      await service.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: { login: `events-nobody-${i}`, password: 'whatever it is' } });
    }
    const everything = await all();
    const total = everything.length;
    assert.ok(total >= 7);

    const first = await list('?limit=3');
    assert.deepEqual(first.pagination, { limit: 3, offset: 0, total });
    assert.deepEqual(first.events, everything.slice(0, 3));

    const second = await list('?limit=3&offset=3');
    assert.deepEqual(second.pagination, { limit: 3, offset: 3, total });
    assert.deepEqual(second.events, everything.slice(3, 6));

    const pages: ListedEvent[] = [];
    for (let offset = 0; offset < total; offset += 2) pages.push(...(await list(`?limit=2&offset=${offset}`)).events);
    assert.deepEqual(pages.map((event) => event.id), everything.map((event) => event.id), 'pages neither overlap nor skip');

    const beyond = await list(`?limit=5&offset=${total}`);
    assert.deepEqual(beyond.events, []);
    assert.equal(beyond.pagination.total, total);
  });

  test('default limit is 100; limit is kept between 1 and 1000', async () => {
    assert.equal((await list()).pagination.limit, 100);
    assert.equal((await list()).pagination.offset, 0);
    const zero = await list('?limit=0');
    assert.equal(zero.pagination.limit, 1);
    assert.equal(zero.events.length, 1);
    assert.equal((await list('?limit=5000')).pagination.limit, 1000);
  });

  test('a bad limit or offset is a 400 schema-violation', async () => {
    for (const query of ['?limit=abc', '?offset=-1', '?limit=1.5', '?unknown=1']) {
      const response = await service.request({ method: 'GET', url: `${URL}${query}`, token: admin });
      assert.equal(response.statusCode, 400, query);
      assert.equal((response.json() as { kind: string }).kind, 'schema-violation', query);
    }
  });

  test('the password flows are all audited, with actor, subject and source address, and never a password or token', async () => {
    const secrets: string[] = [ADMIN_PASSWORD, USER_PASSWORD, admin];
    const id = await service.createUser('events-flows');
    const userToken = await service.login('events-flows', USER_PASSWORD);
    secrets.push(userToken);

    // Change own password, with one wrong current password first.
    const wrongCurrent = 'a wrong current passphrase';
    const changed = 'the changed passphrase here';
    secrets.push(wrongCurrent, changed);
    await service.request({ method: 'PUT', url: '/rbac-api/v1/users/current/password', token: userToken, payload: { current_password: wrongCurrent, password: changed } });
    await service.request({ method: 'PUT', url: '/rbac-api/v1/users/current/password', token: userToken, payload: { current_password: USER_PASSWORD, password: changed } });

    // Lock the account out with wrong logins.
    for (let i = 0; i < 3; i++) {
      const guess = `a wrong login guess ${i}`;
      secrets.push(guess);
      await service.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: { login: 'events-flows', password: guess } });
    }

    // Reset: issue, one rejected attempt, use.
    const issued = await service.request({ method: 'POST', url: `/rbac-api/v1/users/${id}/password/reset`, token: admin });
    assert.equal(issued.statusCode, 201);
    const resetToken = issued.body;
    const afterReset = 'the passphrase after reset';
    secrets.push(resetToken, afterReset, 'not-a-real-reset-token');
    await service.request({ method: 'POST', url: '/rbac-api/v1/auth/reset', payload: { token: 'not-a-real-reset-token', password: afterReset } });
    const reset = await service.request({ method: 'POST', url: '/rbac-api/v1/auth/reset', payload: { token: resetToken, password: afterReset } });
    assert.equal(reset.statusCode, 200);

    // Validation leaves no trace with secrets either.
    await service.request({ method: 'POST', url: '/rbac-api/v1/command/validate-password', token: admin, payload: { password: 'validated passphrase' } });
    secrets.push('validated passphrase');

    const events = await all();
    const about = events.filter((event) => event.subject?.id === id);
    const types = new Set(about.map((event) => event.type));
    for (const type of ['user-created', 'login-failed', 'password-changed', 'account-locked', 'reset-token-issued', 'reset-token-used', 'account-unrevoked']) {
      assert.ok(types.has(type), `${type} is recorded`);
    }
    assert.ok(events.some((event) => event.type === 'reset-rejected'), 'reset-rejected is recorded');
    for (const event of events.filter((e) => ['login-failed', 'password-changed', 'account-locked', 'reset-token-issued', 'reset-token-used', 'reset-rejected'].includes(e.type))) {
      assert.equal(event.source_address, '127.0.0.1', `${event.type} has the source address`);
    }
    const issuedEvent = about.find((event) => event.type === 'reset-token-issued')!;
    assert.equal(issuedEvent.actor?.login, 'admin', 'the issuer is the actor');
    assert.equal(issuedEvent.subject?.login, 'events-flows');
    const ownChange = about.find((event) => event.type === 'password-changed' && event.details.via === 'change-own-password')!;
    assert.ok(ownChange, 'the own change is recorded as such');
    assert.deepEqual(ownChange.actor, { id, login: 'events-flows' });

    const text = JSON.stringify(events);
    for (const secret of secrets) assert.ok(!text.includes(secret), `no secret in events: ${secret.slice(0, 12)}…`);
    // Nor any part of the reset token's signature, nor its payload.
    const [, payload, signature] = resetToken.split('.');
    assert.ok(payload && !text.includes(payload));
    assert.ok(signature && !text.includes(signature));
    // And the raw table agrees.
    const rows = JSON.stringify(await service.store.db.selectFrom('audit_events').selectAll().execute());
    for (const secret of secrets) assert.ok(!rows.includes(secret));
  });

  test('user and role administration is audited: edits with their fields, renames, roles created, assigned and removed', async () => {
    const id = await service.createUser('events-admin');
    const role = await service.request({ method: 'POST', url: '/rbac-api/v1/roles', token: admin, payload: { display_name: 'Events role', permissions: [], user_ids: [id] } });
    assert.equal(role.statusCode, 201, role.body);
    const roleId = (role.json() as { id: number }).id;
    const other = (await service.request({ method: 'POST', url: '/rbac-api/v1/roles', token: admin, payload: { display_name: 'Events role 2' } })).json() as { id: number };
    const put = (payload: Record<string, unknown>) => service.request({ method: 'PUT', url: `/rbac-api/v1/users/${id}`, token: admin, payload });
    assert.equal((await put({ login: 'events-renamed', email: 'renamed@example.com' })).statusCode, 200);
    assert.equal((await put({ role_ids: [other.id] })).statusCode, 200);

    const events = await all();
    const about = events.filter((event) => event.subject?.id === id).map((event) => [event.type, event.details]);
    assert.deepEqual(about.slice(0, 4), [
      ['role-removed', { role_id: roleId }],
      ['role-assigned', { role_id: other.id }],
      ['user-edited', { fields: ['login', 'email'], previous_login: 'events-admin' }],
      ['role-assigned', { role_id: roleId }],
    ]);
    const created = events.find((event) => event.type === 'role-created' && event.details.role_id === roleId);
    assert.equal(created?.actor?.login, 'admin');
    assert.equal(created?.source_address, '127.0.0.1');
    assert.equal(created?.details.display_name, 'Events role');
  });

  test('signing key rotation and retirement are audited', async () => {
    const context = { actor: null, sourceAddress: 'cli' };
    const oldKid = (await service.keys.activeKey()).kid;
    const newKid = await service.keys.rotate(context, Date.now() + 1);
    await service.keys.retire(oldKid, context);
    const events = await all();
    const rotated = events.find((event) => event.type === 'signing-key-rotated');
    const retired = events.find((event) => event.type === 'signing-key-retired');
    assert.deepEqual(rotated?.details, { kid: newKid });
    assert.deepEqual(retired?.details, { kid: oldKid, reset_tokens_cancelled: 0 });
    assert.equal(retired?.source_address, 'cli');
  });

  test('events are published (for the metrics) when their transaction commits, and never when it rolls back', async () => {
    const heard: (readonly SecurityEvent[])[] = [];
    onEventsCommitted(service.store.db, (events) => heard.push(events));
    try {
      const db = service.store.db;
      const event = (marker: string) => ({ type: 'account-revoked' as const, subject: { id: null, login: `publish-${marker}` } });
      await assert.rejects(
        inTransaction(db, async (trx) => {
          await recordEvent(trx, event('rolled-back'));
          throw new Error('the change fails after its event was written');
        }),
        /the change fails/,
      );
      assert.equal(heard.length, 0, 'nothing published for a rolled back change');
      assert.equal((await db.selectFrom('audit_events').select('id').where('subject_login', '=', 'publish-rolled-back').execute()).length, 0);

      await inTransaction(db, async (trx) => {
        await recordEvent(trx, event('committed'));
        assert.equal(heard.length, 0, 'not before the commit');
      });
      assert.equal(heard.length, 1);
      assert.deepEqual(heard[0]?.map((published) => published.subject?.login), ['publish-committed']);

      await assert.rejects(
        db.transaction().execute((trx) => recordEvent(trx, event('unpublishable'))),
        /inTransaction/,
        'a transaction that could not publish its events refuses them',
      );
      assert.equal((await db.selectFrom('audit_events').select('id').where('subject_login', '=', 'publish-unpublishable').execute()).length, 0);
    } finally {
      onEventsCommitted(service.store.db, () => {});
    }
  });
});
