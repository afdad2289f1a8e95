// `rbac tokens list|revoke <login>`, driven as a subprocess on SQLite and
// PostgreSQL against the store of a service running in-process: the listing
// matches GET /users/:sid/tokens and never shows a token; revoked tokens stop
// working through the API, and the revocation is recorded.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ListedToken } from '../../src/tokens/tokens.js';
import { runLimited } from '../kit/concurrency.js';
import { describeEachDatabase } from '../kit/databases.js';
import type { CliResult } from '../kit/processes.js';
import { USER_PASSWORD } from '../kit/passwords.js';
import { apiEvents, expectExit, expectRefusal, getAsAdmin, withApiService } from './support.js';

describeEachDatabase('rbac tokens', (target) => {
  test("list shows the user's live tokens as GET /users/:sid/tokens does, never a token; revoke revokes them all, prints how many, and is recorded; unknown logins exit 1", async () => {
    await withApiService(target.dialect, async (service, run) => {
      const aliceId = await service.createUser('alice');
      await service.createUser('bob');
      const loginWithLabel = async (label: string) => {
        const response = await service.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: { login: 'alice', password: USER_PASSWORD, label, client: 'curl' } });
        assert.equal(response.statusCode, 200, response.body);
        return (response.json() as { token: string }).token;
      };
      const aliceTokens = [await loginWithLabel('laptop'), await loginWithLabel('ci')];
      const adminToken = await service.adminToken();
      const current = (token: string) => service.request({ method: 'GET', url: '/rbac-api/v1/users/current', token }).then((response) => response.statusCode);

      const [json, table, bobs, bobRevoke, nobodyList, nobodyRevoke] = await runLimited([
        () => run('tokens', 'list', 'alice', '--json'),
        () => run('tokens', 'list', 'Alice'),
        () => run('tokens', 'list', 'bob'),
        () => run('tokens', 'revoke', 'bob'),
        () => run('tokens', 'list', 'nobody'),
        () => run('tokens', 'revoke', 'nobody'),
      ]);
      expectExit(json as CliResult, 0, 'tokens list --json');
      const listed = JSON.parse((json as CliResult).stdout) as ListedToken[];
      const fromApi = (await getAsAdmin<{ items: ListedToken[] }>(service, `/users/${aliceId}/tokens`)).body.items;
      assert.deepEqual(listed, fromApi, 'the items of GET /users/:sid/tokens');
      assert.deepEqual(
        listed.map((token) => [token.label, token.client]),
        [
          ['laptop', 'curl'],
          ['ci', 'curl'],
        ],
      );
      expectExit(table as CliResult, 0, 'tokens list');
      const rows = (table as CliResult).stdout.trim().split('\n').map((line) => line.split(/\s{2,}/));
      assert.deepEqual(rows[0], ['ID', 'CREATED', 'EXPIRES', 'LAST ACTIVE', 'LABEL', 'CLIENT']);
      assert.deepEqual(
        rows.slice(1).map((row) => [row[0], row[4], row[5]]),
        listed.map((token) => [token.id, token.label, token.client]),
      );
      for (const output of [json, table] as CliResult[]) {
        for (const token of aliceTokens) assert.ok(!output.stdout.includes(token) && !output.stderr.includes(token), 'no token is ever printed');
      }
      expectExit(bobs as CliResult, 0, 'tokens list bob');
      assert.equal((bobs as CliResult).stdout, 'ID  CREATED  EXPIRES  LAST ACTIVE  LABEL  CLIENT\n', 'bob has none: the header only');
      expectExit(bobRevoke as CliResult, 0, 'tokens revoke bob');
      assert.equal((bobRevoke as CliResult).stdout, '0 login tokens of bob revoked.\n', 'nothing to revoke: recorded nowhere (below)');
      expectRefusal(nobodyList as CliResult, 1, /^rbac: No user has the login "nobody"\.$/m, 'tokens list nobody');
      expectRefusal(nobodyRevoke as CliResult, 1, /^rbac: No user has the login "nobody"\.$/m, 'tokens revoke nobody');

      const revoked = await run('tokens', 'revoke', 'alice');
      expectExit(revoked, 0, 'tokens revoke alice');
      assert.equal(revoked.stdout, '2 login tokens of alice revoked.\n');
      for (const token of aliceTokens) assert.equal(await current(token), 401, "alice's tokens stop working");
      assert.equal(await current(adminToken), 200, "others' tokens keep working");
      assert.deepEqual((await getAsAdmin<{ items: ListedToken[] }>(service, `/users/${aliceId}/tokens`)).body.items, []);
      const fresh = await service.login('alice', USER_PASSWORD);
      assert.equal(await current(fresh), 200, 'alice may log in again: her account is not revoked');

      const again = await run('tokens', 'revoke', 'alice');
      expectExit(again, 0, 'tokens revoke alice again');
      assert.equal(again.stdout, '1 login token of alice revoked.\n', 'the new one only');

      const events = await apiEvents(service, 'tokens-revoked');
      assert.deepEqual(
        events.map((event) => ({ actor: event.actor, subject: event.subject, source: event.source_address, count: event.details.count, via: event.details.via })),
        [
          { actor: null, subject: { id: aliceId, login: 'alice' }, source: 'cli', count: 2, via: 'rbac tokens revoke' },
          { actor: null, subject: { id: aliceId, login: 'alice' }, source: 'cli', count: 1, via: 'rbac tokens revoke' },
        ],
      );
      assert.deepEqual(events[0]?.details.token_ids, listed.map((token) => token.id).sort(), "the revoked tokens' public ids");
    });
  });
});
