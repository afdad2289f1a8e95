// PE's built-in api_user (CONTRACT §12): there from the first start and by
// migration 015, listed as PE lists it, never logging in with a password
// (401 api-user-login), never edited, revoked, reinstated or deleted
// (403 admin-user-immutable) — through the API or the command line.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { loginKey } from '../../src/logins.js';
import { openStore } from '../../src/store/database.js';
import { migrateTo, migrateToLatest } from '../../src/store/migrate.js';
import { API_USER_ID } from '../../src/users/api-user.js';
import { expectExit, storeArgs } from '../cli/support.js';
import { describeEachDatabase, withWorkspace, type Workspace } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { runCli } from '../kit/processes.js';
import type { TestService } from '../kit/service.js';
import { api, assertUserShape, type UserJson, usersSuite } from './support.js';

describeEachDatabase('api_user', (target) => {
  const suite = usersSuite(target);
  let service: TestService;
  let admin: string;
  before(() => ({ service, admin } = suite));

  describe("PE's built-in api_user", () => {
    test('exists from the first start and GET /users lists it as PE does: a local superuser with role 1 at PE\'s id', async () => {
      const listed = (await service.request({ method: 'GET', url: api('/users'), token: admin })).json() as UserJson[];
      const apiUser = listed.find((user) => user.login === 'api_user');
      assert.ok(apiUser, 'listed');
      assertUserShape(apiUser);
      assert.deepEqual(
        { id: apiUser.id, display_name: apiUser.display_name, email: apiUser.email, is_superuser: apiUser.is_superuser, is_remote: apiUser.is_remote, is_revoked: apiUser.is_revoked, role_ids: apiUser.role_ids, last_login: apiUser.last_login },
        { id: API_USER_ID, display_name: 'API User', email: '', is_superuser: true, is_remote: false, is_revoked: false, role_ids: [1], last_login: null },
      );
    });

    test('a password login as api_user, in any case, is 401 api-user-login before any password is checked', async () => {
      const before = service.hasher.counts.verify + service.hasher.counts.verifyDummy;
      for (const login of ['api_user', 'API_User']) {
        assertError(await service.request({ method: 'POST', url: api('/auth/token'), payload: { login, password: 'any password at all' } }), 401, 'api-user-login');
      }
      assert.equal(service.hasher.counts.verify + service.hasher.counts.verifyDummy, before, 'no hash computed');
      const row = await suite.userRow(API_USER_ID);
      assert.equal(row.failed_attempts, 0, 'no attempt counted');
    });

    test('api_user cannot be edited, revoked, reinstated or deleted, nor get a reset token: 403 admin-user-immutable, and it stays as it was', async () => {
      const current = await suite.fetchUser(API_USER_ID);
      const edits = [
        { ...current, display_name: 'Renamed' },
        { ...current, is_revoked: true },
        { ...current, role_ids: [] },
        current,
      ];
      for (const edit of edits) assertError(await suite.putUser(API_USER_ID, admin, edit), 403, 'admin-user-immutable');
      for (const command of ['revoke', 'reinstate']) {
        assertError(await service.request({ method: 'POST', url: api(`/command/users/${command}`), token: admin, payload: { user_id: API_USER_ID } }), 403, 'admin-user-immutable');
      }
      assertError(await service.request({ method: 'DELETE', url: api(`/users/${API_USER_ID}`), token: admin }), 403, 'admin-user-immutable');
      assertError(await service.request({ method: 'POST', url: api(`/users/${API_USER_ID}/password/reset`), token: admin, headers: { accept: 'application/json' } }), 403, 'admin-user-immutable');
      assert.deepEqual(await suite.fetchUser(API_USER_ID), current, 'unchanged');
    });
  });
});

/** A database as the version before 015 left it (at 014), with `admin` and the users' own users. */
async function databaseAt014(workspace: Workspace, logins: readonly string[]): Promise<void> {
  const old = openStore({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl });
  try {
    await migrateTo(old, '014_login_skeletons_v2');
    // Only the columns the schema had then.
    for (const [index, login] of logins.entries()) {
      await old.db
        .insertInto('users')
        .values({ id: randomUUID(), login, login_key: loginKey(login), email: '', display_name: '', is_remote: 0, is_superuser: login === 'admin' ? 1 : 0, is_revoked: 0, password_hash: null, last_login: null, created_at: 1_000 + index })
        .execute();
    }
  } finally {
    await old.close();
  }
}

async function withStore<T>(workspace: Workspace, work: (store: ReturnType<typeof openStore>) => Promise<T>): Promise<T> {
  const store = openStore({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl, poolSize: 1 });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

describeEachDatabase('migration 015: api_user on an existing database', (target) => {
  test('adds api_user with PE\'s id and role 1, and audit events get actor_certname', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      await databaseAt014(workspace, ['admin', 'alice']);
      await withStore(workspace, async (store) => {
        const notices: string[] = [];
        await migrateToLatest(store, (notice) => notices.push(notice));
        assert.deepEqual(notices, []);
        const row = await store.db.selectFrom('users').selectAll().where('login', '=', 'api_user').executeTakeFirstOrThrow();
        assert.deepEqual([row.id, row.is_superuser, row.is_remote, row.password_hash, row.display_name], [API_USER_ID, 1, 0, null, 'API User']);
        const roles = await store.db.selectFrom('user_roles').select('role_id').where('user_id', '=', API_USER_ID).execute();
        assert.deepEqual(roles, [{ role_id: 1 }]);
        await store.db.insertInto('audit_events').values({ at: 1, type: 'logout', actor_id: null, actor_login: null, actor_certname: 'node1.example.com', subject_id: null, subject_login: null, source_address: null, details: '{}' }).execute();
      });
    });
  });

  test('run after the later migrations (numbers are handed out before the work lands), it adds api_user all the same', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      await withStore(workspace, async (store) => {
        await migrateToLatest(store);
        // As if 015 had never run: no api_user, no actor_certname, no record of it.
        await store.db.deleteFrom('users').where('id', '=', API_USER_ID).execute();
        await store.db.schema.alterTable('audit_events').dropColumn('actor_certname').execute();
        await sql`delete from kysely_migration where name = '015_api_user'`.execute(store.db);
        assert.deepEqual(await migrateToLatest(store), ['015_api_user']);
        const row = await store.db.selectFrom('users').selectAll().where('id', '=', API_USER_ID).executeTakeFirstOrThrow();
        assert.deepEqual([row.login, row.is_superuser, row.revoked_by, row.password_change_required], ['api_user', 1, null, 0]);
      });
    });
  });

  test('a user of the database\'s own with the login api_user is kept as it is, and the migration says so', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      await databaseAt014(workspace, ['admin', 'API_User']);
      await withStore(workspace, async (store) => {
        const notices: string[] = [];
        await migrateToLatest(store, (notice) => notices.push(notice));
        assert.equal(notices.length, 1, notices.join('\n'));
        assert.match(notices[0] as string, /PE's api_user was not added: the user "API_User" \([0-9a-f-]{36}\) already exists and is kept as it is/);
        const rows = await store.db.selectFrom('users').select(['id', 'login', 'is_superuser']).where('login_key', '=', 'api_user').execute();
        assert.equal(rows.length, 1);
        assert.notEqual(rows[0]?.id, API_USER_ID);
        assert.equal(rows[0]?.is_superuser, 0, 'the users\' own user is untouched');
      });
    });
  });

  test('`rbac users revoke api_user` and `rbac users delete api_user` are refused (exit 1) too', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      const store = storeArgs(workspace);
      for (const command of ['revoke', 'delete']) {
        const result = await runCli(['users', command, 'api_user', ...store]);
        expectExit(result, 1, `users ${command} api_user`);
        assert.match(result.stderr, /api_user cannot be edited, revoked or deleted/);
      }
    });
  });
});
