// Crash safety: kill -9 the service while it serves a stream of resets and
// password changes, restart it, and check that nothing is half-done: each
// password is the old or the new one, a reset token is spent exactly when its
// password change committed, the audit trail matches, and the database is
// intact.

import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { decodeJwt } from 'jose';
import { SQLITE_FILE } from '../../src/store/database.js';
import { describeEachDatabase, freshWorkspace } from '../kit/databases.js';
import { callApi as call } from '../kit/api.js';
import { spawnService } from '../kit/processes.js';
import { ADMIN_PASSWORD, USER_PASSWORD } from '../kit/service.js';

const USERS = 24;
const NO_LIMITS = ['--rate-limit-per-address', '0', '--rate-limit-per-account', '0', '--failed-attempts-lockout', '100'];

type Row = Record<string, unknown>;

describeEachDatabase('kill -9 in the middle of password changes', (target) => {
  test('after a restart every change is all there or not there at all', async () => {
    const workspace = await freshWorkspace(target.dialect);
    try {
      const first = await spawnService({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl, extraArgs: NO_LIMITS });
      const admin = (JSON.parse((await call(first.url, 'POST', '/auth/token', { login: 'admin', password: ADMIN_PASSWORD })).text) as { token: string }).token;

      interface Plan {
        login: string;
        id: string;
        newPassword: string;
        via: 'reset' | 'change';
        resetToken?: string;
        loginToken?: string;
      }
      const plans: Plan[] = [];
      for (let i = 0; i < USERS; i++) {
        const login = `crash-user-${i}`;
        const created = await call(first.url, 'POST', '/users', { login, password: USER_PASSWORD }, admin);
        const { id } = JSON.parse(created.text) as { id: string };
        const plan: Plan = { login, id, newPassword: `new crash passphrase ${i}`, via: i % 2 ? 'reset' : 'change' };
        if (plan.via === 'reset') plan.resetToken = (await call(first.url, 'POST', `/users/${id}/password/reset`, undefined, admin)).text;
        else plan.loginToken = (JSON.parse((await call(first.url, 'POST', '/auth/token', { login, password: USER_PASSWORD })).text) as { token: string }).token;
        plans.push(plan);
      }

      // Fire every change at once, and kill the process when about a third have been answered.
      let answered = 0;
      const inFlight = plans.map((plan) =>
        (plan.via === 'reset'
          ? call(first.url, 'POST', '/auth/reset', { token: plan.resetToken, password: plan.newPassword })
          : call(first.url, 'PUT', '/users/current/password', { current_password: USER_PASSWORD, password: plan.newPassword }, plan.loginToken)
        )
          .then((answer) => {
            answered++;
            return answer;
          })
          .catch(() => ({ status: 0, text: '' })),
      );
      const deadline = Date.now() + 5000;
      while (answered < USERS / 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
      first.child.kill('SIGKILL');
      const answers = await Promise.all(inFlight);
      await first.stop();

      const second = await spawnService({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl, extraArgs: NO_LIMITS });
      try {
        let changed = 0;
        for (const [i, plan] of plans.entries()) {
          const oldWorks = (await call(second.url, 'POST', '/auth/token', { login: plan.login, password: USER_PASSWORD })).status === 200;
          const newWorks = (await call(second.url, 'POST', '/auth/token', { login: plan.login, password: plan.newPassword })).status === 200;
          assert.ok(oldWorks !== newWorks, `${plan.login}: exactly one of old and new password works (old ${oldWorks}, new ${newWorks})`);
          if (answers[i]?.status === 200) assert.ok(newWorks, `${plan.login}: a change answered 200 must have committed`);
          if (newWorks) changed++;
        }

        // What the database says must agree with what the logins showed.
        const rows = async (sql: string): Promise<Row[]> => {
          if (target.dialect === 'sqlite') {
            const database = new SqliteDatabase(path.join(workspace.dataDir, SQLITE_FILE), { readonly: true });
            try {
              return database.prepare(sql).all() as Row[];
            } finally {
              database.close();
            }
          }
          const client = new pg.Client({ connectionString: workspace.databaseUrl });
          await client.connect();
          try {
            return (await client.query(sql)).rows as Row[];
          } finally {
            await client.end();
          }
        };
        const tokens = await rows('select jti, user_id, spent_at from reset_tokens');
        const events = await rows("select type, subject_id, details from audit_events where type in ('reset-token-used', 'password-changed')");
        for (const plan of plans) {
          const newWorks = (await call(second.url, 'POST', '/auth/token', { login: plan.login, password: plan.newPassword })).status === 200;
          const changedEvents = events.filter((event) => event.subject_id === plan.id && event.type === 'password-changed');
          assert.equal(changedEvents.length, newWorks ? 1 : 0, `${plan.login}: one password-changed event per committed change`);
          if (plan.via === 'reset') {
            const jti = decodeJwt(plan.resetToken as string).jti;
            const row = tokens.find((token) => token.jti === jti);
            assert.ok(row, `${plan.login}: the token's row survived`);
            assert.equal(row.spent_at !== null, newWorks, `${plan.login}: token spent exactly when the password changed`);
            const used = events.filter((event) => event.subject_id === plan.id && event.type === 'reset-token-used');
            assert.equal(used.length, newWorks ? 1 : 0);
          }
        }

        if (target.dialect === 'sqlite') {
          const [check] = await rows('pragma integrity_check');
          assert.deepEqual(check, { integrity_check: 'ok' });
          assert.deepEqual(await rows('pragma foreign_key_check'), []);
        } else {
          // Constraints hold: every row still satisfies them (revalidating each CHECK and foreign key).
          const orphans = await rows('select count(*)::int as n from login_tokens t left join users u on u.id = t.user_id where u.id is null');
          assert.equal(orphans[0]?.n, 0);
          const bad = await rows('select count(*)::int as n from users where is_remote not in (0, 1) or (is_remote = 1 and password_hash is not null) or failed_attempts < 0');
          assert.equal(bad[0]?.n, 0);
        }
        // The kill happened mid-stream often enough to be a real test; record how far it got.
        process.stderr.write(`[${target.dialect}] ${changed} of ${USERS} changes had committed when the process was killed\n`);
      } finally {
        await second.stop();
      }
    } finally {
      await workspace.cleanup();
    }
  });
});
