// A role holds at most 1,000 permissions (CONTRACT §7). An add that would
// take a role past that is 400 schema-violation and changes nothing, not
// even the part that would have fitted; adding what the role holds already
// adds nothing and is no refusal; a remove of all 1,000 permissions of a
// full role works. The bound on each list a request sends is in
// test/http/list-bounds.test.ts; this is the bound on what a role
// accumulates over many requests (and what `rbac roles create` can give it
// in one).

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, test } from 'node:test';
import { ServiceError } from '../../src/errors.js';
import { createRole } from '../../src/roles/roles.js';
import { inTransaction } from '../../src/store/transaction.js';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { rolesSuite, type Permission } from './support.js';

const LIMIT = 1000;
/** `n` distinct permissions, each on one user. */
const distinct = (n: number): Permission[] => Array.from({ length: n }, () => ({ object_type: 'users', action: 'edit', instance: randomUUID() }));

describeEachDatabase('a role holds at most 1,000 permissions', (target) => {
  const suite = rolesSuite(target);
  let admin: string;
  before(() => ({ admin } = suite));

  let counter = 0;
  /** A role holding these permissions, created by admin; its id. */
  const roleWith = async (permissions: Permission[]) => {
    const response = await suite.postRole(admin, { display_name: `bounded role ${++counter}`, permissions });
    assert.equal(response.statusCode, 201, response.body.slice(0, 300));
    return (response.json() as { id: number }).id;
  };
  const add = (role: number, permissions: Permission[]) => suite.command('roles/add-permissions', admin, { role_id: role, permissions });
  const remove = (role: number, permissions: Permission[]) => suite.command('roles/remove-permissions', admin, { role_id: role, permissions });
  const permissionsOf = async (role: number) => (await suite.fetchRole(role)).permissions;

  test('add-permissions fills a role to exactly 1,000; one more is 400 schema-violation and changes nothing', async () => {
    const held = distinct(LIMIT - 1);
    const role = await roleWith(held);
    const last = distinct(1);
    assert.equal((await add(role, last)).statusCode, 204);
    assert.deepEqual(await permissionsOf(role), [...held, ...last]);

    const since = await suite.lastEventId();
    const refused = assertError(await add(role, distinct(1)), 400, 'schema-violation');
    assert.match(refused.msg, /at most 1000 permissions/);
    assert.deepEqual(refused.details, { limit: LIMIT, permissions: LIMIT + 1 });
    assert.deepEqual(await permissionsOf(role), [...held, ...last], 'the role is as it was');
    assert.deepEqual(await suite.eventsSince(since, 'role-edited'), [], 'nothing recorded');
  });

  test('an add that would cross 1,000 is refused whole: not even the permissions that would fit are added', async () => {
    const held = distinct(LIMIT - 10);
    const role = await roleWith(held);
    const since = await suite.lastEventId();
    assertError(await add(role, distinct(20)), 400, 'schema-violation');
    assert.deepEqual(await permissionsOf(role), held);
    assert.deepEqual(await suite.eventsSince(since, 'role-edited'), []);
  });

  test('a full role takes again what it holds (nothing added, no refusal), and a swap that ends at 1,000 works', async () => {
    const held = distinct(LIMIT);
    const role = await roleWith(held);
    const since = await suite.lastEventId();
    assert.equal((await add(role, held.slice(0, 5))).statusCode, 204);
    assert.deepEqual(await permissionsOf(role), held);
    assert.deepEqual(await suite.eventsSince(since, 'role-edited'), [], 'no change, nothing recorded');

    // PUT replaces the whole list: 1,000 in, 1,000 out.
    const replaced = distinct(LIMIT);
    const response = await suite.putRole(role, admin, { permissions: replaced });
    assert.equal(response.statusCode, 200, response.body.slice(0, 300));
    assert.deepEqual(await permissionsOf(role), replaced);
  });

  test('a remove of 1,000 permissions from a role holding 1,000 empties it, recorded once', async () => {
    const held = distinct(LIMIT);
    const role = await roleWith(held);
    const since = await suite.lastEventId();
    assert.equal((await remove(role, [...held].reverse())).statusCode, 204);
    assert.deepEqual(await permissionsOf(role), []);
    const [event, ...more] = await suite.eventsSince(since, 'role-edited');
    assert.deepEqual(more, []);
    assert.equal((event?.details.permissions_removed as string[]).length, LIMIT);
  });

  test('duplicates in one request count once: 1,000 distinct permissions sent twice over fill the role exactly', async () => {
    const role = await roleWith([]);
    const wanted = distinct(LIMIT / 2);
    assert.equal((await add(role, [...wanted, ...wanted])).statusCode, 204);
    const more = distinct(LIMIT / 2);
    assert.equal((await add(role, [...more, ...more])).statusCode, 204);
    assert.equal((await permissionsOf(role)).length, LIMIT);
    assertError(await add(role, distinct(1)), 400, 'schema-violation');
  });

  test('creating a role with 1,001 permissions, as `rbac roles create` can ask (its --permission repeats without a bound), is refused and creates nothing', async () => {
    const count = async () => (await suite.service.store.db.selectFrom('roles').select('id').execute()).length;
    const before = await count();
    await assert.rejects(
      inTransaction(suite.service.store.db, (trx) => createRole(trx, null, { display_name: 'Too large', permissions: distinct(LIMIT + 1) }, { actor: null, sourceAddress: 'cli' })),
      (error) => error instanceof ServiceError && error.kind === 'schema-violation' && /at most 1000 permissions/.test(error.message),
    );
    assert.equal(await count(), before);
    const created = await inTransaction(suite.service.store.db, (trx) => createRole(trx, null, { display_name: 'Just fits', permissions: distinct(LIMIT) }, { actor: null, sourceAddress: 'cli' }));
    assert.equal(created.permissions.length, LIMIT);
  });
});
