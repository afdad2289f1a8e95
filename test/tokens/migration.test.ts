// Migration 010: tokens issued before it get a public id and a last activity,
// keep working, and can be listed, introspected and revoked by id.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { hashLoginToken, newLoginToken } from '../../src/login/login-tokens.js';
import { openStore } from '../../src/store/database.js';
import { migrateTo } from '../../src/store/migrate.js';
import { describeEachDatabase, freshWorkspace } from '../kit/databases.js';
import { startTestService } from '../kit/service.js';
import { UUID } from '../users/support.js';
import { V1, V2, works } from './support.js';

describeEachDatabase('login tokens from before migration 010', (target) => {
  test('get a unique public id and last_active = creation, and work as any other', async () => {
    const workspace = await freshWorkspace(target.dialect);
    try {
      const tokens = [newLoginToken(), newLoginToken()];
      const userId = randomUUID();
      const created = Date.now() - 3_600_000;
      const old = openStore({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl });
      try {
        await migrateTo(old, '007_password_history');
        await old.db
          .insertInto('users')
          .values({ id: userId, login: 'pre-010', login_key: 'pre-010', email: '', display_name: '', is_remote: 0, is_superuser: 0, is_revoked: 0, password_hash: null, last_login: null, created_at: created })
          .execute();
        // The table as it was: no id, no last_active.
        const rows = tokens.map((token) => ({ token_hash: hashLoginToken(token), user_id: userId, created_at: created, expires_at: Date.now() + 3_600_000, revoked_at: null, label: null, description: null, client: null }));
        await old.db.insertInto('login_tokens').values(rows as never).execute();
      } finally {
        await old.close();
      }

      const service = await startTestService(target.dialect, {}, { workspace });
      try {
        const rows = await service.store.db.selectFrom('login_tokens').selectAll().where('user_id', '=', userId).execute();
        assert.equal(rows.length, 2);
        for (const row of rows) {
          assert.match(row.id, UUID);
          assert.equal(Number(row.last_active), created);
        }
        assert.notEqual(rows[0]?.id, rows[1]?.id);
        const [first, second] = tokens as [string, string];
        assert.ok(await works(service, first));
        assert.equal((await service.request({ method: 'POST', url: `${V2}/auth/token/authenticate`, payload: { token: first } })).statusCode, 200);
        const listed = (await service.request({ method: 'GET', url: `${V1}/users/${userId}/tokens`, token: first })).json() as { items: { id: string }[] };
        assert.deepEqual(listed.items.map((item) => item.id).sort(), rows.map((row) => row.id).sort());
        const secondId = rows.find((row) => row.token_hash === hashLoginToken(second))?.id;
        assert.equal((await service.request({ method: 'DELETE', url: `${V2}/tokens?revoke_tokens_by_ids=${secondId}`, token: first })).statusCode, 204);
        assert.ok(!(await works(service, second)));
        assert.ok(await works(service, first));
      } finally {
        await service.close();
      }
    } finally {
      await workspace.cleanup();
    }
  });
});
