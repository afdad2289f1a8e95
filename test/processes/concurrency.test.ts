// Two service processes sharing one PostgreSQL database behave as one
// service under concurrency: of 100 concurrent resets with one token exactly
// one succeeds, and 50 concurrent wrong logins with lockout 10 revoke the
// account at exactly 10 — whichever process each request reaches.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { atOnce } from '../kit/concurrency.js';
import { POSTGRES, freshWorkspace, type Workspace } from '../kit/databases.js';
import { callApi as call } from '../kit/api.js';
import { spawnService, type ServiceProcess } from '../kit/processes.js';
import { ADMIN_PASSWORD, USER_PASSWORD } from '../kit/service.js';


describe('two service processes on one PostgreSQL database', { skip: POSTGRES.skip }, () => {
  let workspace: Workspace;
  let first: ServiceProcess;
  let second: ServiceProcess;
  let admin: string;

  before(async () => {
    workspace = await freshWorkspace('postgres');
    // Rate limits off: this test floods one account from one address on purpose.
    const extraArgs = ['--failed-attempts-lockout', '10', '--rate-limit-per-address', '0', '--rate-limit-per-account', '0'];
    first = await spawnService({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl, extraArgs });
    second = await spawnService({ dataDir: `${workspace.dataDir}/second`, databaseUrl: workspace.databaseUrl, extraArgs });
    admin = (JSON.parse((await call(first.url, 'POST', '/auth/token', { login: 'admin', password: ADMIN_PASSWORD })).text) as { token: string }).token;
  });
  after(async () => {
    await first?.stop();
    await second?.stop();
    await workspace?.cleanup();
  });

  const createUser = async (login: string) =>
    (JSON.parse((await call(first.url, 'POST', '/users', { login, password: USER_PASSWORD }, admin)).text) as { id: string }).id;

  test('100 concurrent resets with one token across both processes: exactly one succeeds', async () => {
    const id = await createUser('proc-reset');
    const token = (await call(second.url, 'POST', `/users/${id}/password/reset`, undefined, admin)).text;
    const responses = await atOnce(100, (i) => call(i % 2 ? first.url : second.url, 'POST', '/auth/reset', { token, password: `process passphrase ${i}` }));
    const statuses = responses.map((response) => response.status);
    assert.equal(statuses.filter((status) => status === 200).length, 1, statuses.join(','));
    assert.equal(statuses.filter((status) => status === 403).length, 99);
    const winner = statuses.indexOf(200);
    assert.equal((await call(first.url, 'POST', '/auth/token', { login: 'proc-reset', password: `process passphrase ${winner}` })).status, 200);
  });

  test('50 concurrent wrong logins across both processes with lockout 10: revoked at exactly 10', async () => {
    const id = await createUser('proc-lockout');
    const responses = await atOnce(50, (i) => call(i % 2 ? first.url : second.url, 'POST', '/auth/token', { login: 'proc-lockout', password: `wrong ${i}` }));
    assert.ok(responses.every((response) => [401, 429].includes(response.status)), responses.map((response) => response.status).join(','));
    const client = new pg.Client({ connectionString: workspace.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ is_revoked: number; failed_attempts: number }>('select is_revoked, failed_attempts from users where id = $1', [id]);
      assert.deepEqual(rows[0], { is_revoked: 1, failed_attempts: 10 });
      const failures = await client.query<{ count: string }>("select count(*) from audit_events where subject_id = $1 and type = 'login-failed'", [id]);
      assert.equal(Number(failures.rows[0]?.count), 10, 'exactly 10 password checks failed');
    } finally {
      await client.end();
    }
    const refused = await call(second.url, 'POST', '/auth/token', { login: 'proc-lockout', password: USER_PASSWORD });
    assert.equal((JSON.parse(refused.text) as { kind: string }).kind, 'user-revoked');
  });

  // A user who may edit only itself keeps PUTting its stale view of itself,
  // through both processes, while an administrator revokes it or takes a role
  // away. Once the administrator's change was answered 200 it must hold.
  const selfEditor = async (login: string) => {
    const id = await createUser(login);
    const own = JSON.parse(
      (await call(first.url, 'POST', '/roles', { display_name: `edit ${login}`, permissions: [{ object_type: 'users', action: 'edit', instance: id }], user_ids: [id] }, admin)).text,
    ) as { id: number };
    const extra = JSON.parse((await call(first.url, 'POST', '/roles', { display_name: `extra ${login}`, permissions: [], user_ids: [id] }, admin)).text) as { id: number };
    const token = (JSON.parse((await call(second.url, 'POST', '/auth/token', { login, password: USER_PASSWORD })).text) as { token: string }).token;
    return { id, token, ownRole: own.id, extraRole: extra.id };
  };

  /** Runs `send` in 8 loops (4 per process) until the administrator's change is answered, then lets the requests in flight finish. */
  async function raceAgainst(send: (url: string) => Promise<unknown>, change: () => Promise<{ status: number }>) {
    let stop = false;
    const loops = Array.from({ length: 8 }, async (_, i) => {
      while (!stop) await send(i % 2 ? first.url : second.url);
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    const answered = await change();
    stop = true;
    await Promise.all(loops);
    assert.equal(answered.status, 200);
  }

  const userOf = async (id: string) => JSON.parse((await call(first.url, 'GET', `/users/${id}`, undefined, admin)).text) as { is_revoked: boolean; role_ids: number[] };

  test('an answered revocation stays revoked while the user keeps PUTting is_revoked: false through both processes', async () => {
    for (let trial = 0; trial < 5; trial++) {
      const editor = await selfEditor(`proc-self-revoke-${trial}`);
      await raceAgainst(
        (url) => call(url, 'PUT', `/users/${editor.id}`, { is_revoked: false, display_name: `trial ${trial}` }, editor.token),
        () => call(first.url, 'PUT', `/users/${editor.id}`, { is_revoked: true }, admin),
      );
      assert.equal((await userOf(editor.id)).is_revoked, true, `trial ${trial}: the revocation was undone`);
    }
  });

  test('an answered role removal stays removed while the user keeps PUTting its old role_ids through both processes', async () => {
    for (let trial = 0; trial < 5; trial++) {
      const editor = await selfEditor(`proc-self-roles-${trial}`);
      const before = [editor.ownRole, editor.extraRole].sort((a, b) => a - b);
      await raceAgainst(
        (url) => call(url, 'PUT', `/users/${editor.id}`, { role_ids: before, display_name: `trial ${trial}` }, editor.token),
        () => call(first.url, 'PUT', `/users/${editor.id}`, { role_ids: [editor.ownRole] }, admin),
      );
      assert.deepEqual((await userOf(editor.id)).role_ids, [editor.ownRole], `trial ${trial}: the removed role came back`);
    }
  });

  test('20 concurrent identical PUTs of role_ids across both processes: every one 200, the roles given once', async () => {
    const id = await createUser('proc-same-roles');
    const roles = (
      await Promise.all(
        ['a', 'b'].map(async (name) => (JSON.parse((await call(first.url, 'POST', '/roles', { display_name: `same roles ${name}`, permissions: [] }, admin)).text) as { id: number }).id),
      )
    ).sort((a, b) => a - b);
    const responses = await atOnce(20, (i) => call(i % 2 ? first.url : second.url, 'PUT', `/users/${id}`, { role_ids: roles }, admin));
    assert.deepEqual(
      responses.map((response) => response.status),
      responses.map(() => 200),
      responses.map((response) => response.text).join('\n'),
    );
    assert.deepEqual((await userOf(id)).role_ids, roles);
  });

  test('a reset by token racing an administrator revoking the user, across both processes: never a 5xx, and the user ends revoked', async () => {
    for (let trial = 0; trial < 8; trial++) {
      const id = await createUser(`proc-reset-revoke-${trial}`);
      const token = (await call(first.url, 'POST', `/users/${id}/password/reset`, undefined, admin)).text;
      const [reset, revoke] = await Promise.all([
        call(trial % 2 ? first.url : second.url, 'POST', '/auth/reset', { token, password: `raced passphrase ${trial}` }),
        call(trial % 2 ? second.url : first.url, 'PUT', `/users/${id}`, { is_revoked: true }, admin),
      ]);
      assert.ok([200, 403].includes(reset.status), `trial ${trial}: reset ${reset.status} ${reset.text}`);
      assert.equal(revoke.status, 200, `trial ${trial}: revoke ${revoke.text}`);
      assert.equal((await userOf(id)).is_revoked, true, `trial ${trial}: the revocation was lost`);
    }
  });

  // A user holding user_roles:edit_members on one role keeps giving it to and
  // taking it from users through the first process while an administrator
  // revokes that user through the second. Each of the user's writes commits
  // a membership change and its audit event; once the revocation has
  // answered, none may commit any more: what the database holds when the
  // revoke answers is what it holds after the writes in flight have ended.
  test('once a revocation has answered, none of the revoked user\'s writes in flight through the other process commits', { timeout: 240_000 }, async () => {
    const client = new pg.Client({ connectionString: workspace.databaseUrl });
    await client.connect();
    try {
      const LANES = 12;
      for (let trial = 0; trial < 6; trial++) {
        const role = JSON.parse((await call(first.url, 'POST', '/roles', { display_name: `spammed ${trial}`, permissions: [] }, admin)).text) as { id: number };
        const spammerId = await createUser(`proc-spammer-${trial}`);
        const grant = { display_name: `spammer ${trial}`, permissions: [{ object_type: 'user_roles', action: 'edit_members', instance: String(role.id) }], user_ids: [spammerId] };
        assert.equal((await call(first.url, 'POST', '/roles', grant, admin)).status, 201);
        const targets = await Promise.all(
          Array.from({ length: LANES }, async (_, lane) => {
            const created = await call(first.url, 'POST', '/users', { login: `proc-spam-target-${trial}-${lane}`, password: null }, admin);
            return (JSON.parse(created.text) as { id: string }).id;
          }),
        );
        const token = (JSON.parse((await call(first.url, 'POST', '/auth/token', { login: `proc-spammer-${trial}`, password: USER_PASSWORD })).text) as { token: string }).token;

        // What the spammer's writes leave: the role's members and the events it is the actor of.
        const state = async () => {
          const members = await client.query<{ user_id: string }>('select user_id from user_roles where role_id = $1 order by user_id', [role.id]);
          const events = await client.query<{ count: string }>('select count(*) from audit_events where actor_id = $1', [spammerId]);
          return { members: members.rows.map((row) => row.user_id), events: Number(events.rows[0]?.count) };
        };

        let revoked = false;
        // A safety stop only: the lanes end once the revoke has answered.
        const giveUpAt = Date.now() + 60_000;
        let writes = 0;
        const refusals: string[] = [];
        const lanes = targets.map(async (target) => {
          for (let round = 0; !revoked && Date.now() < giveUpAt; round++) {
            const answer = await call(first.url, 'POST', `/command/roles/${round % 2 ? 'remove' : 'add'}-users`, { role_id: role.id, user_ids: [target] }, token);
            if (answer.status === 204) writes++;
            else refusals.push(`${answer.status} ${answer.text}`);
          }
        });
        while (writes < 3 * LANES) await new Promise((resolve) => setTimeout(resolve, 5));
        const revoke = await call(second.url, 'POST', '/command/users/revoke', { user_id: spammerId }, admin);
        const atRevoke = await state();
        const answeredWhileSpamming = Date.now() < giveUpAt;
        revoked = true;
        await Promise.all(lanes);
        assert.equal(revoke.status, 204, revoke.text);
        // Refused once revoked (by the token check, or inside the write), never a 5xx.
        assert.deepEqual(refusals.filter((refusal) => !/^401 .*"kind":"user-(revoked|unauthenticated)"/.test(refusal)), [], `trial ${trial}`);
        assert.ok(answeredWhileSpamming, `trial ${trial}: the revocation waited until the revoked user's writes stopped`);
        // Quiet: nothing of the spammer's is in flight any more.
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.deepEqual(await state(), atRevoke, `trial ${trial}: a write of the revoked user committed after the revocation answered`);
      }
    } finally {
      await client.end();
    }
  });

  test('a role given to a user who is being deleted, across both processes: never a 5xx', async () => {
    for (let trial = 0; trial < 8; trial++) {
      const id = await createUser(`proc-role-delete-${trial}`);
      const [role, removed] = await Promise.all([
        call(trial % 2 ? first.url : second.url, 'POST', '/roles', { display_name: `raced role ${trial}`, user_ids: [id] }, admin),
        call(trial % 2 ? second.url : first.url, 'DELETE', `/users/${id}`, undefined, admin),
      ]);
      assert.ok([201, 400, 409].includes(role.status), `trial ${trial}: role ${role.status} ${role.text}`);
      assert.equal(removed.status, 204, `trial ${trial}: delete ${removed.text}`);
    }
  });
});
