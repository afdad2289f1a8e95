// PE's disclaimer: GET /config/disclaimer ({"disclaimer"} or 404 when unset),
// POST /command/config/set-disclaimer and remove-disclaimer (204), who may
// (configuration:view to read, configuration:edit to change, superusers),
// bad bodies, the audit events, another instance on the same database seeing
// it, and the reset page showing it as escaped text under its CSP.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PAGE_SECURITY_HEADERS } from '../../src/http/routes/reset-page.js';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { USER_PASSWORD, startServiceWithAdmin, startTestService, type TestService } from '../kit/service.js';

const api = (path: string) => `/rbac-api/v1${path}`;

describeEachDatabase('disclaimer', (target) => {
  let service: TestService;
  let admin: string;
  before(async () => ({ service, admin } = await startServiceWithAdmin(target.dialect)));
  after(() => service?.close());

  const get = (token = admin) => service.request({ method: 'GET', url: api('/config/disclaimer'), token });
  const post = (command: 'set-disclaimer' | 'remove-disclaimer', token: string, payload?: unknown) =>
    service.request({
      method: 'POST',
      url: api(`/command/config/${command}`),
      token,
      ...(payload === undefined ? {} : { payload: JSON.stringify(payload), headers: { 'content-type': 'application/json' } }),
    });
  const set = (disclaimer: unknown, token = admin) => post('set-disclaimer', token, { disclaimer });
  const stored = async () => (await service.store.db.selectFrom('settings').select('value').where('name', '=', 'disclaimer').executeTakeFirst())?.value;
  const events = async () => (await service.store.db.selectFrom('audit_events').selectAll().where('type', 'like', 'disclaimer-%').orderBy('id').execute());
  const resetPage = () => service.request({ method: 'GET', url: '/auth/reset' });

  /** A logged-in user holding these permissions through a role written straight to the database (whatever permission types the API knows). */
  let roleCounter = 0;
  async function userWith(login: string, permissions: { object_type: string; action: string; instance: string }[]): Promise<string> {
    const id = await service.createUser(login);
    const role = await service.store.db
      .insertInto('roles')
      .values({ display_name: `disclaimer-test ${++roleCounter}`, description: '', permissions: JSON.stringify(permissions) })
      .returning('id')
      .executeTakeFirstOrThrow();
    await service.store.db.insertInto('user_roles').values({ user_id: id, role_id: role.id }).execute();
    return service.login(login, USER_PASSWORD);
  }

  describe('the disclaimer', () => {
    test('unset: GET is 404 not-found, and the reset page has no disclaimer', async () => {
      assertError(await get(), 404, 'not-found');
      assert.doesNotMatch((await resetPage()).body, /id="disclaimer"/);
      assert.doesNotMatch((await resetPage()).body, /\{\{DISCLAIMER\}\}/);
    });

    test('set: 204; GET answers {"disclaimer"} exactly; setting again replaces it; each is recorded with its actor and text', async () => {
      const response = await set('Not to be accessed by unauthorized users');
      assert.equal(response.statusCode, 204, response.body);
      assert.equal(response.body, '');
      const read = await get();
      assert.equal(read.statusCode, 200, read.body);
      assert.deepEqual(read.json(), { disclaimer: 'Not to be accessed by unauthorized users' });

      assert.equal((await set('Authorized use only.\nActivity is logged.')).statusCode, 204);
      assert.deepEqual((await get()).json(), { disclaimer: 'Authorized use only.\nActivity is logged.' });
      const recorded = (await events()).slice(-2);
      assert.deepEqual(recorded.map((event) => [event.type, event.actor_login, JSON.parse(event.details)]), [
        ['disclaimer-set', 'admin', { disclaimer: 'Not to be accessed by unauthorized users' }],
        ['disclaimer-set', 'admin', { disclaimer: 'Authorized use only.\nActivity is logged.' }],
      ]);
    });

    test('an empty disclaimer is a set one (PE shows an empty banner): GET answers it, the page shows an empty box', async () => {
      assert.equal((await set('')).statusCode, 204);
      assert.deepEqual((await get()).json(), { disclaimer: '' });
      assert.match((await resetPage()).body, /<section id="disclaimer" class="disclaimer" aria-label="Disclaimer"><\/section>/);
    });

    test('remove: 204 with no body or {}; GET is 404 again; recorded once, a second remove changes and records nothing', async () => {
      assert.equal((await set('to be removed')).statusCode, 204);
      const before = (await events()).length;
      const removed = await post('remove-disclaimer', admin);
      assert.equal(removed.statusCode, 204, removed.body);
      assertError(await get(), 404, 'not-found');
      assert.equal(await stored(), undefined);
      assert.equal((await post('remove-disclaimer', admin, {})).statusCode, 204);
      const recorded = (await events()).slice(before);
      assert.deepEqual(recorded.map((event) => [event.type, event.actor_login]), [['disclaimer-removed', 'admin']]);
      assert.doesNotMatch((await resetPage()).body, /id="disclaimer"/);
    });

    test('bad bodies are 400 schema-violation and change nothing; 10 000 characters are accepted, one more is not', async () => {
      assert.equal((await set('kept')).statusCode, 204);
      for (const payload of [{}, { disclaimer: 5 }, { disclaimer: null }, { disclaimer: ['x'] }, { disclaimer: 'x', extra: 1 }, [], 'text', { disclaimer: 'a\u0000b' }, { disclaimer: 'x'.repeat(10_001) }]) {
        assertError(await post('set-disclaimer', admin, payload), 400, 'schema-violation');
      }
      assertError(await post('set-disclaimer', admin), 400, 'schema-violation');
      for (const payload of [{ disclaimer: 'x' }, [], 'text', 5]) assertError(await post('remove-disclaimer', admin, payload), 400, 'schema-violation');
      assert.equal(await stored(), 'kept');
      const longest = 'é'.repeat(10_000);
      assert.equal((await set(longest)).statusCode, 204);
      assert.equal(await stored(), longest);
    });

    test('who may: configuration:edit sets and removes (and reads), configuration:view reads; others 403 and nothing changes; anonymous 401', async () => {
      assert.equal((await set('original')).statusCode, 204);
      const before = (await events()).length;
      const nobody = await userWith('disc-nobody', []);
      const usersAdmin = await userWith('disc-users', ['create', 'edit', 'disable', 'reset_password'].map((action) => ({ object_type: 'users', action, instance: '*' })));
      const viewer = await userWith('disc-viewer', [{ object_type: 'configuration', action: 'view', instance: '*' }]);
      const editor = await userWith('disc-editor', [{ object_type: 'configuration', action: 'edit', instance: '*' }]);

      for (const token of [nobody, usersAdmin]) {
        assertError(await get(token), 403, 'permission-denied');
        assertError(await set('changed', token), 403, 'permission-denied');
        assertError(await post('remove-disclaimer', token), 403, 'permission-denied');
      }
      assert.deepEqual((await get(viewer)).json(), { disclaimer: 'original' });
      assertError(await set('changed', viewer), 403, 'permission-denied');
      assertError(await post('remove-disclaimer', viewer), 403, 'permission-denied');
      assert.equal(await stored(), 'original');
      assert.equal((await events()).length, before, 'a refusal records nothing');

      for (const request of [
        service.request({ method: 'GET', url: api('/config/disclaimer') }),
        service.request({ method: 'POST', url: api('/command/config/set-disclaimer'), payload: { disclaimer: 'anonymous' } }),
        service.request({ method: 'POST', url: api('/command/config/remove-disclaimer') }),
      ]) {
        assertError(await request, 401, 'user-unauthenticated');
      }
      assert.equal(await stored(), 'original');

      assert.equal((await set('by the editor', editor)).statusCode, 204);
      assert.deepEqual((await get(editor)).json(), { disclaimer: 'by the editor' });
      assert.equal((await events()).at(-1)?.actor_login, 'disc-editor');
      assert.equal((await post('remove-disclaimer', editor)).statusCode, 204);
      assertError(await get(viewer), 404, 'not-found');
    });

    test('another instance on the same database answers with the disclaimer set through this one, on the API and the page', async () => {
      const second = await startTestService(target.dialect, {}, { workspace: service.workspace });
      try {
        assert.equal((await set('seen everywhere')).statusCode, 204);
        const read = await second.request({ method: 'GET', url: api('/config/disclaimer'), token: await second.adminToken() });
        assert.deepEqual(read.json(), { disclaimer: 'seen everywhere' });
        assert.match((await second.request({ method: 'GET', url: '/auth/reset' })).body, /seen everywhere/);
      } finally {
        await second.close();
      }
    });

    test('the reset page shows the disclaimer as text: markup in it is escaped, and the page keeps its CSP', async () => {
      const hostile = `Authorized use only</p><script>alert(1)</script><img src=x onerror="alert('x')"> & $& $1 {{POLICY}}`;
      assert.equal((await set(hostile)).statusCode, 204);
      const page = await resetPage();
      assert.equal(page.statusCode, 200);
      assert.equal(page.headers['content-security-policy'], PAGE_SECURITY_HEADERS['content-security-policy']);
      assert.equal(page.headers['cache-control'], 'no-store');
      const section = /<section id="disclaimer"[^>]*>([\s\S]*?)<\/section>/.exec(page.body)?.[1];
      assert.equal(
        section,
        'Authorized use only&#60;/p&#62;&#60;script&#62;alert(1)&#60;/script&#62;&#60;img src=x onerror=&#34;alert(&#39;x&#39;)&#34;&#62; &#38; $&#38; $1 {{POLICY}}',
      );
      assert.equal(page.body.match(/<script/g)?.length, 1, 'only the page’s own script tag');
      assert.doesNotMatch(page.body, /onerror="/);
    });
  });
});
