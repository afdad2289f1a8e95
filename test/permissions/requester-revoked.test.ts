// Every write a user can make checks, inside its transaction and under a
// lock held to its commit, that the user is still active (CONTRACT §3: once
// a revocation has answered, none of that user's writes commits). The test
// holds a revocation of the writer open in a transaction of its own, sends
// one write of each kind, and commits the revocation. On PostgreSQL each
// write must wait for the revocation (the requester's row lock) and then be
// refused, writing nothing; a write that answered while the revocation was
// still open never looked at the lock. On SQLite a write transaction holds
// the database's one write lock, so the write waits there. The race over
// two processes is in test/processes/concurrency.test.ts.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { SQLITE_FILE } from '../../src/store/database.js';
import { describeEachDatabase, type DatabaseTarget } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { USER_PASSWORD, startTestService, type TestService } from '../kit/service.js';
import { PE_DIRECTORY_ATTRIBUTES } from '../kit/slapd.js';

const ADMINISTRATORS = 1;
// Every table a write of a user can change; the users' revoked flags are left out (the revocation sets one).
const TABLES = ['users', 'roles', 'user_roles', 'groups', 'group_roles', 'login_tokens', 'reset_tokens', 'directories', 'settings', 'audit_events'] as const;
const DIRECTORY = {
  display_name: 'Never stored',
  hostname: 'ldap.example.com',
  port: 636,
  ssl: true,
  base_dn: 'dc=example,dc=com',
  ...PE_DIRECTORY_ATTRIBUTES,
};

/** A revocation of one user, held open in a transaction of another connection until committed. */
interface HeldRevocation {
  /** Resolves when the write under test waits for the revocation (PostgreSQL: a statement waits for a lock); SQLite shows no waiters, so it only lets the write start. */
  writeWaits(answered: Promise<unknown>): Promise<void>;
  commit(): Promise<void>;
}

/** Holds revocations on the service's own database, from outside the service. */
async function revocationHolder(service: TestService): Promise<{ hold(userId: string): Promise<HeldRevocation>; reinstate(userId: string): Promise<void>; close(): Promise<void> }> {
  if (service.dialect === 'sqlite') {
    const database = new SqliteDatabase(path.join(service.workspace.dataDir, SQLITE_FILE));
    return {
      async hold(userId) {
        database.exec('begin immediate');
        database.prepare('update users set is_revoked = 1 where id = ?').run(userId);
        return {
          writeWaits: () => sleep(50),
          commit: async () => void database.exec('commit'),
        };
      },
      reinstate: async (userId) => void database.prepare('update users set is_revoked = 0 where id = ?').run(userId),
      close: async () => void database.close(),
    };
  }
  const holder = new pg.Client({ connectionString: service.workspace.databaseUrl });
  // Outside a transaction, so each look at pg_stat_activity is a fresh one.
  const observer = new pg.Client({ connectionString: service.workspace.databaseUrl });
  await holder.connect();
  await observer.connect();
  const waiting = async () =>
    Number((await observer.query<{ n: string }>("select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'")).rows[0]?.n);
  return {
    async hold(userId) {
      await holder.query('begin');
      await holder.query('update users set is_revoked = 1 where id = $1', [userId]);
      return {
        async writeWaits(answered) {
          let done = false;
          void answered.finally(() => (done = true));
          while (!(await waiting())) {
            if (done) assert.fail('the write was answered while a revocation of its requester was under way: it did not wait for the lock');
            await sleep(5);
          }
        },
        commit: async () => void (await holder.query('commit')),
      };
    },
    reinstate: async (userId) => void (await holder.query('update users set is_revoked = 0 where id = $1', [userId])),
    async close() {
      await holder.end();
      await observer.end();
    },
  };
}

describeEachDatabase('a write of a user whose revocation is under way', (target: DatabaseTarget) => {
  let service: TestService;
  let holder: Awaited<ReturnType<typeof revocationHolder>>;
  let admin: string;
  const ids = { writer: '', other: '', role: 0, group: '', directory: '' };

  const call = (method: string, url: string, token: string, payload?: unknown) =>
    service.request({ method: method as 'POST', url, token, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
  const created = async (method: string, url: string, payload: unknown) => {
    const response = await call(method, url, admin, payload);
    assert.ok([200, 201].includes(response.statusCode), response.body);
    return response.json() as { id: string };
  };
  /** Every row of every table a write can change (the revoked flags aside), in a stable order. */
  const everything = async () => {
    const tables: Record<string, unknown[]> = {};
    for (const table of TABLES) {
      const rows = (await service.store.db.selectFrom(table).selectAll().execute()) as Record<string, unknown>[];
      tables[table] = rows.map(({ is_revoked: _revoked, locked_at: _locked, ...row }) => JSON.stringify(row)).sort();
    }
    return tables;
  };

  before(async () => {
    service = await startTestService(target.dialect);
    admin = await service.adminToken();
    ids.writer = await service.createUser('revoked-writer', { role_ids: [ADMINISTRATORS] });
    ids.other = await service.createUser('revoked-writer-target');
    ids.role = Number((await created('POST', '/rbac-api/v1/roles', { display_name: 'Never changed', permissions: [] })).id);
    ids.group = (await created('POST', '/rbac-api/v1/command/groups/create', { login: 'never-changed' })).id;
    ids.directory = (await created('POST', '/rbac-api/v1/command/ldap/create', DIRECTORY)).id;
    assert.equal((await call('POST', '/rbac-api/v1/command/config/set-disclaimer', admin, { disclaimer: 'Never changed' })).statusCode, 204);
    holder = await revocationHolder(service);
  });
  after(async () => {
    await holder?.close();
    await service?.close();
  });

  // Each write a user can make, as a holder of every permission (the role Administrators) who is not a superuser.
  const writes: [string, string, (token: string) => unknown][] = [
    ['POST', '/rbac-api/v1/users', () => ({ login: 'never-created', password: null })],
    ['PUT', '/rbac-api/v1/users/:other', () => ({ display_name: 'never renamed' })],
    ['POST', '/rbac-api/v1/command/users/revoke', () => ({ user_id: ids.other })],
    ['DELETE', '/rbac-api/v1/users/:other', () => undefined],
    ['POST', '/rbac-api/v1/command/users/add-roles', () => ({ user_id: ids.other, role_ids: [ids.role] })],
    ['POST', '/rbac-api/v1/users/:other/password/reset', () => undefined],
    ['POST', '/rbac-api/v1/roles', () => ({ display_name: 'Never created' })],
    ['PUT', '/rbac-api/v1/roles/:role', () => ({ display_name: 'Never renamed' })],
    ['DELETE', '/rbac-api/v1/roles/:role', () => undefined],
    ['POST', '/rbac-api/v1/command/roles/add-users', () => ({ role_id: ids.role, user_ids: [ids.other] })],
    ['POST', '/rbac-api/v1/command/roles/add-permissions', () => ({ role_id: ids.role, permissions: [{ object_type: 'users', action: 'edit', instance: '*' }] })],
    ['POST', '/rbac-api/v1/command/roles/add-groups', () => ({ role_id: ids.role, group_ids: [ids.group] })],
    ['POST', '/rbac-api/v1/command/groups/create', () => ({ login: 'never-imported' })],
    ['PUT', '/rbac-api/v1/groups/:group', () => ({ role_ids: [ids.role] })],
    ['DELETE', '/rbac-api/v1/groups/:group', () => undefined],
    ['POST', '/rbac-api/v1/command/ldap/create', () => DIRECTORY],
    ['POST', '/rbac-api/v1/command/ldap/update', () => ({ ...DIRECTORY, id: ids.directory, display_name: 'Never renamed' })],
    ['POST', '/rbac-api/v1/command/ldap/delete', () => ({ id: ids.directory })],
    ['POST', '/rbac-api/v1/command/config/set-disclaimer', () => ({ disclaimer: 'never set' })],
    ['POST', '/rbac-api/v1/command/config/remove-disclaimer', () => ({})],
    ['POST', '/rbac-api/v1/tokens', () => ({ label: 'never issued' })],
    ['DELETE', '/rbac-api/v2/tokens', (token) => ({ revoke_tokens: [token] })],
    ['DELETE', '/rbac-api/v1/tokens/current', () => undefined],
  ];
  // A password change claims a login attempt first, one statement outside a
  // transaction, which on SQLite waits for the write lock inside the call
  // (busy_timeout): with the lock held by this same process it would wait
  // for itself. Its write is conditional on the user being active anyway
  // (users.setPassword's onlyIfActive).
  if (target.dialect === 'postgres') writes.push(['PUT', '/rbac-api/v1/users/current/password', () => ({ current_password: USER_PASSWORD, password: 'never the new passphrase' })]);

  for (const [method, route, body] of writes) {
    test(`${method} ${route} waits for the revocation of its requester, then is refused user-revoked and writes nothing`, async () => {
      // A fresh token each time: the request's token check writes nothing (its last use is recent).
      const login = await call('POST', '/rbac-api/v1/auth/token', '', { login: 'revoked-writer', password: USER_PASSWORD });
      assert.equal(login.statusCode, 200, login.body);
      const token = (login.json() as { token: string }).token;
      const url = route.replace(':other', ids.other).replace(':role', String(ids.role)).replace(':group', ids.group);
      const before = await everything();
      const revocation = await holder.hold(ids.writer);
      try {
        const answer = call(method, url, token, body(token));
        try {
          await revocation.writeWaits(answer);
        } finally {
          await revocation.commit();
        }
        assertError(await answer, 401, 'user-revoked');
        assert.deepEqual(await everything(), before, 'nothing was written');
      } finally {
        await holder.reinstate(ids.writer);
      }
    });
  }
});
