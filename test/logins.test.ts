// Look-alike logins (docs/decisions.md, *Users, roles, permissions*): no one
// may create or rename a user to a login that looks like another user's —
// `аdmin` with a Cyrillic а, `admın` with a dotless ı — or that hides an
// invisible character (zero-width space, soft hyphen). Also the migration
// that gives existing users their skeleton.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { openStore } from '../src/store/database.js';
import { isUniqueViolation } from '../src/store/errors.js';
import { migrateTo, migrateToLatest } from '../src/store/migrate.js';
import { loginKey, loginSkeleton } from '../src/logins.js';
import { atOnce } from './kit/concurrency.js';
import { describeEachDatabase, freshWorkspace } from './kit/databases.js';
import { assertError } from './kit/errors.js';
import { USER_PASSWORD, startServiceWithAdmin, type TestService } from './kit/service.js';

const api = (path: string) => `/rbac-api/v1${path}`;

/** The four look-alikes of `admin` from the security review, and what each is refused as. */
const LOOK_ALIKES_OF_ADMIN = [
  { login: '\u0430dmin', what: 'Cyrillic а', status: 409, kind: 'conflict' },
  { login: 'admin\u200b', what: 'zero-width space', status: 400, kind: 'schema-violation' },
  { login: 'adm\u0131n', what: 'dotless ı', status: 409, kind: 'conflict' },
  { login: 'admin\u00ad', what: 'soft hyphen', status: 400, kind: 'schema-violation' },
] as const;

/** Invisible, control and formatting characters, each inside an otherwise new login. */
const INVISIBLE = [
  ['\u200b', 'zero-width space (Cf)'],
  ['\u00ad', 'soft hyphen (Cf)'],
  ['\u200d', 'zero-width joiner (Cf)'],
  ['\u202e', 'right-to-left override (Cf)'],
  ['\u0007', 'bell (Cc)'],
  ['\u2028', 'line separator (Zl)'],
  ['\u2029', 'paragraph separator (Zp)'],
  ['\ue000', 'private use (Co)'],
  ['\u0378', 'unassigned (Cn)'],
  ['\u3164', 'Hangul filler (Default_Ignorable_Code_Point)'],
  ['\ufe0f', 'variation selector (Default_Ignorable_Code_Point)'],
  ['\u034f', 'combining grapheme joiner (Default_Ignorable_Code_Point)'],
] as const;

const codePoint = (char: string) => `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

describeEachDatabase('look-alike logins', (target) => {
  let service: TestService;
  let admin: string;
  before(async () => ({ service, admin } = await startServiceWithAdmin(target.dialect)));
  after(() => service?.close());

  const postUser = (login: string) => service.request({ method: 'POST', url: api('/users'), token: admin, payload: { login, password: USER_PASSWORD } });
  const putUser = (id: string, login: string) => service.request({ method: 'PUT', url: api(`/users/${id}`), token: admin, payload: { id, login } });
  const logins = async () => (await service.store.db.selectFrom('users').select('login').orderBy('login').execute()).map((row) => row.login);

  test('each look-alike of admin is refused on create: 409 conflict saying it looks like an existing login, or 400 for an invisible character', async () => {
    const before = await logins();
    for (const { login, what, status, kind } of LOOK_ALIKES_OF_ADMIN) {
      const body = assertError(await postUser(login), status, kind);
      if (kind === 'conflict') assert.match(body.msg, /looks like the login of an existing user/, what);
      else assert.match(body.msg, /invisible/, what);
    }
    assert.deepEqual(await logins(), before, 'nothing was created');
  });

  test('each look-alike of admin is refused on rename, and the login stays', async () => {
    const id = await service.createUser('rename-to-look-alike');
    for (const { login, what, status, kind } of LOOK_ALIKES_OF_ADMIN) {
      const body = assertError(await putUser(id, login), status, kind);
      if (kind === 'conflict') assert.match(body.msg, /looks like the login of an existing user/, what);
    }
    const row = await service.store.db.selectFrom('users').select(['login', 'login_skeleton']).where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.login, 'rename-to-look-alike');
    assert.equal(row.login_skeleton, loginSkeleton('rename-to-look-alike'));
  });

  test('look-alikes of any user are refused, not only of admin: Latin l for digit 1, rn for m, mixed scripts', async () => {
    await service.createUser('operator1');
    await service.createUser('Marta');
    for (const login of ['operatorl', 'OPERATORl', 'rnarta', 'M\u0430rta', 'Mart\u0251']) {
      assertError(await postUser(login), 409, 'conflict');
    }
    assert.ok(!(await logins()).some((login) => ['operatorl', 'rnarta'].includes(loginKey(login))));
  });

  test('an invisible, control or formatting character is 400 schema-violation naming it, on create and on rename', async () => {
    const id = await service.createUser('invisible-rename');
    const before = await logins();
    for (const [char, what] of INVISIBLE) {
      const login = `new${char}user`;
      const created = assertError(await postUser(login), 400, 'schema-violation');
      assert.ok(created.msg.includes(codePoint(char)), `${what}: ${created.msg}`);
      const renamed = assertError(await putUser(id, login), 400, 'schema-violation');
      assert.ok(renamed.msg.includes(codePoint(char)), `${what}: ${renamed.msg}`);
    }
    assert.deepEqual(await logins(), before, 'nothing was created or renamed');
  });

  test('innocent different logins are accepted on create and rename, in any script', async () => {
    for (const login of ['administrator', 'admins', 'dmitri', 'андрей', 'José.García', '山田太郎']) {
      const response = await postUser(login);
      assert.equal(response.statusCode, 201, `${login}: ${response.body}`);
      await service.login(login, USER_PASSWORD);
    }
    const id = await service.createUser('innocent-rename');
    const renamed = await putUser(id, 'innocent-renamed');
    assert.equal(renamed.statusCode, 200, renamed.body);
  });

  test('a user may be renamed to a look-alike of its own login', async () => {
    const id = await service.createUser('self-lookalike1');
    const response = await putUser(id, 'self-lookalikel');
    assert.equal(response.statusCode, 200, response.body);
    assert.equal((response.json() as { login: string }).login, 'self-lookalikel');
  });

  test('concurrent creation of admin2 and аdmin2 (Cyrillic а) leaves exactly one, the other 409, never a 5xx', async () => {
    const candidates = ['admin2', '\u0430dmin2'];
    const responses = await atOnce(8, (i) => postUser(candidates[i % 2] as string));
    const statuses = responses.map((response) => response.statusCode).sort();
    assert.deepEqual(statuses, [201, ...Array<number>(7).fill(409)], responses.map((response) => response.body).join('\n'));
    for (const response of responses.filter((candidate) => candidate.statusCode === 409)) assertError(response, 409, 'conflict');
    const holders = await service.store.db.selectFrom('users').select('login').where('login_skeleton', '=', loginSkeleton('admin2')).execute();
    assert.equal(holders.length, 1);
    assert.equal((await logins()).filter((login) => candidates.includes(login)).length, 1);
  });

  test('concurrent renames of two users to admin3 and аdmin3 (Cyrillic а): exactly one succeeds', async () => {
    const ids = [await service.createUser('race-rename-a'), await service.createUser('race-rename-b')];
    const responses = await Promise.all([putUser(ids[0] as string, 'admin3'), putUser(ids[1] as string, '\u0430dmin3')]);
    assert.deepEqual(responses.map((response) => response.statusCode).sort(), [200, 409], responses.map((response) => response.body).join('\n'));
    const holders = await service.store.db.selectFrom('users').select('id').where('login_skeleton', '=', loginSkeleton('admin3')).execute();
    assert.equal(holders.length, 1);
  });
});

describeEachDatabase('migration 005_login_skeleton', (target) => {
  test('existing users get their skeleton; ones that already look like admin or an older user keep none, and the migration succeeds', async () => {
    const workspace = await freshWorkspace(target.dialect);
    const store = openStore({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl });
    try {
      await migrateTo(store, '004_live_reset_tokens_index');
      // The look-alike of admin is older than admin: admin keeps the skeleton all the same.
      const rows = ['\u0430dmin', 'admin', 'userl', 'user1', 'plain'].map((login, index) => ({
        id: randomUUID(),
        login,
        login_key: loginKey(login),
        email: '',
        display_name: '',
        is_remote: 0 as const,
        is_superuser: login === 'admin' ? (1 as const) : (0 as const),
        is_revoked: 0 as const,
        password_hash: null,
        last_login: null,
        created_at: 1_000 + index,
      }));
      // The column does not exist yet: insert without it.
      await store.db.insertInto('users').values(rows).execute();
      assert.ok((await migrateToLatest(store)).includes('005_login_skeleton'));

      const after = await store.db.selectFrom('users').select(['login', 'login_skeleton']).orderBy('created_at').execute();
      assert.deepEqual(after, [
        { login: '\u0430dmin', login_skeleton: null },
        { login: 'admin', login_skeleton: loginSkeleton('admin') },
        { login: 'userl', login_skeleton: loginSkeleton('userl') },
        { login: 'user1', login_skeleton: null },
        { login: 'plain', login_skeleton: loginSkeleton('plain') },
      ]);
      assert.equal(loginSkeleton('user1'), loginSkeleton('userl'), 'the two really look alike');
      // The index holds: a second row with admin's skeleton is refused by the database itself,
      // in the form the service turns into 409 when a concurrent request wins.
      await assert.rejects(
        store.db
          .insertInto('users')
          .values({ ...(rows[1] as (typeof rows)[number]), id: randomUUID(), login: 'adm\u0131n', login_key: loginKey('adm\u0131n'), login_skeleton: loginSkeleton('admin') })
          .execute(),
        (error: unknown) => isUniqueViolation(error, 'users', 'login_skeleton'),
      );
    } finally {
      await store.close();
      await workspace.cleanup();
    }
  });
});
