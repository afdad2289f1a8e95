// Look-alike logins (docs/decisions.md, *Users, roles, permissions* and
// *Look-alike logins fold accents, small capitals, case and foreign
// capitals*): no one may create or rename a user to a login that looks like
// another user's — `аdmin` with a Cyrillic а, `admın` with a dotless ı,
// `ádmin`, `admiɴ` with a small capital, `ADΜIN` with a Greek Μ — or that hides
// an invisible character (zero-width space, soft hyphen). Also the migrations
// that give existing users their skeleton (005) and compute it anew (014).

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import unhomoglyph from 'unhomoglyph';
import { letterFormsSource } from '../scripts/letter-forms.js';
import { defaultConfig } from '../src/config/config.js';
import { createLogger } from '../src/http/logging.js';
import { loginKey, loginSkeleton } from '../src/logins.js';
import { startService } from '../src/server.js';
import { openStore } from '../src/store/database.js';
import { isUniqueViolation } from '../src/store/errors.js';
import { migrateTo, migrateToLatest } from '../src/store/migrate.js';
import { atOnce } from './kit/concurrency.js';
import { expectExit, storeArgs } from './cli/support.js';
import { describeEachDatabase, freshWorkspace, withWorkspace } from './kit/databases.js';
import { runCli } from './kit/processes.js';
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

/**
 * Look-alikes of `admin` that TR39's confusables alone leave apart: a reader
 * cannot tell them from `admin` (or `ADMIN`, the same login) in a list of users.
 */
const FOLDED_LOOK_ALIKES_OF_ADMIN = [
  { login: '\u00e1dmin', what: 'á, a with an acute accent' },
  { login: 'a\u0301dmin', what: 'a and a combining acute accent' },
  { login: 'adm\u0130n', what: 'İ, capital I with a dot above' },
  { login: 'admi\u0274', what: 'ɴ, small capital N' },
  { login: '\u1d00\u1d05\u1d0d\u026a\u0274', what: 'small capitals throughout' },
  { login: 'a\u0111min', what: 'đ, d with a stroke' },
  { login: 'ad\u0271in', what: 'ɱ, m with a hook' },
  { login: 'AD\u041cIN', what: 'Cyrillic capital М' },
  { login: '\u0410D\u041c\u0406N', what: 'Cyrillic capitals А, М and І' },
  { login: 'ADMI\u039d', what: 'Greek capital Ν' },
  { login: '\u0391D\u039c\u0399\u039d', what: 'Greek capitals Α, Μ, Ι and Ν' },
] as const;

/** Different logins that must stay possible side by side: they differ in a letter a reader sees. */
const DISTINCT_LOGINS = [
  ['anna', 'anne'],
  ['lena', 'lina'],
  ['jose', 'josef'],
  ['\u0915\u092e\u0932', '\u0915\u094b\u092e\u0932'], // Hindi कमल, कोमल: the vowel sign is a letter of its own
  ['\u0e01\u0e34\u0e19', '\u0e01\u0e31\u0e19'], // Thai กิน, กัน: vowel marks spell different words
  ['\u03c3\u03bf\u03c6\u03af\u03b1', '\u0441\u043e\u0444\u0438\u044f'], // Greek σοφία, Cyrillic София
  ['\u0431\u043e\u0440\u0438\u0441', '\u0431\u043e\u0440\u044f'], // Cyrillic борис, боря
  ['\u5c71\u7530', '\u5c71\u672c'], // 山田, 山本
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

test('the skeleton folds what TR39 leaves apart: accents, small capitals and hooked letters, Unicode case folding, Cyrillic and Greek capitals', () => {
  const same = [
    ['admin', '\u00e1dmin', 'a\u0301dmin', 'adm\u0130n', 'admi\u0274', '\u1d00\u1d05\u1d0d\u026a\u0274', 'a\u0111min', 'ad\u0271in', 'AD\u041cIN', '\u0410D\u041c\u0406N', 'ADMI\u039d', '\u0391D\u039c\u0399\u039d'],
    ['strasse', 'Stra\u00dfe', 'STRA\u1e9eE'],
    ['\u03c3\u03bf\u03c6\u03bf\u03c2', '\u03c3\u03bf\u03c6\u03bf\u03c3', '\u03a3\u039f\u03a6\u039f\u03a3'],
    ['marta', 'Marta', '\u041carta', 'M\u00e1rta', 'mart\u1d00'],
    ['ivan', 'Ivan', '\u0406van', '\u0399van'],
    ['user0', 'userO', 'usero'],
  ];
  for (const group of same) {
    for (const login of group) assert.equal(loginSkeleton(login), loginSkeleton(group[0] as string), `${login} reads as ${group[0]}`);
  }
  for (const [first, second] of DISTINCT_LOGINS) assert.notEqual(loginSkeleton(first), loginSkeleton(second), `${first} and ${second}`);
});

test('the skeleton keeps what the login key means: logins of one key that read alike share it, and loginKey is what it was', () => {
  assert.equal(loginKey('Stra\u00dfe'), 'stra\u00dfe');
  assert.equal(loginKey('\u00c1DMIN'), '\u00e1dmin');
  assert.notEqual(loginKey('strasse'), loginKey('Stra\u00dfe'), 'still two accounts: only the look-alike rule is stronger');
  for (const [a, b] of [['Admin', 'ADMIN'], ['J\u00f6rg', 'J\u00d6RG'], ['\u00c5sa', '\u00e5sa']]) assert.equal(loginSkeleton(a as string), loginSkeleton(b as string));
});

test('src/letter-forms.ts is exactly what scripts/letter-forms.ts derives from the current Unicode character names', () => {
  assert.equal(readFileSync(new URL('../src/letter-forms.ts', import.meta.url), 'utf8'), letterFormsSource());
});

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

  test('accented, dotted, small-capital, hooked and Cyrillic or Greek capital look-alikes of admin are refused on create: 409 conflict', async () => {
    const before = await logins();
    for (const { login, what } of FOLDED_LOOK_ALIKES_OF_ADMIN) {
      const body = assertError(await postUser(login), 409, 'conflict');
      assert.match(body.msg, /looks like the login of an existing user/, what);
    }
    assert.deepEqual(await logins(), before, 'nothing was created');
  });

  test('accented, dotted, small-capital, hooked and Cyrillic or Greek capital look-alikes of admin are refused on rename, and the login stays', async () => {
    const id = await service.createUser('rename-to-folded-look-alike');
    for (const { login, what } of FOLDED_LOOK_ALIKES_OF_ADMIN) {
      const body = assertError(await putUser(id, login), 409, 'conflict');
      assert.match(body.msg, /looks like the login of an existing user/, what);
    }
    const row = await service.store.db.selectFrom('users').select(['login', 'login_skeleton']).where('id', '=', id).executeTakeFirstOrThrow();
    assert.deepEqual(row, { login: 'rename-to-folded-look-alike', login_skeleton: loginSkeleton('rename-to-folded-look-alike') });
  });

  test('logins that differ only by Unicode case folding look alike: Straße next to STRASSE, and Σ with final ς', async () => {
    await service.createUser('Stra\u00dfe');
    await service.createUser('\u03c3\u03bf\u03c6\u03bf\u03c2');
    for (const login of ['STRASSE', 'strasse', 'STRA\u1e9eE', '\u03c3\u03bf\u03c6\u03bf\u03c3', '\u03a3\u039f\u03a6\u039f\u03a3']) {
      assertError(await postUser(login), 409, 'conflict');
    }
  });

  test('re-spelling a login in other capitals is refused when it then reads like another user\u2019s: adмin (Cyrillic м) to adМin', async () => {
    // Cyrillic м reads as a small capital, not as m: allowed next to admin.
    const id = await service.createUser('ad\u043cin');
    const body = assertError(await putUser(id, 'ad\u041cin'), 409, 'conflict');
    assert.match(body.msg, /looks like the login of an existing user/);
    const row = await service.store.db.selectFrom('users').select(['login', 'login_skeleton']).where('id', '=', id).executeTakeFirstOrThrow();
    assert.deepEqual(row, { login: 'ad\u043cin', login_skeleton: loginSkeleton('ad\u043cin') });
    // A re-spelling that reads the same as before is still allowed.
    const renamed = await putUser(id, 'AD\u043cIN');
    assert.equal(renamed.statusCode, 200, renamed.body);
  });

  test('distinct logins stay possible side by side: anna and anne, Hindi and Thai words that differ by a vowel sign, Greek next to Cyrillic', async () => {
    for (const [first, second] of DISTINCT_LOGINS) {
      for (const login of [first, second]) {
        const response = await postUser(login);
        assert.equal(response.statusCode, 201, `${login}: ${response.body}`);
      }
    }
    const id = await service.createUser('distinct-rename');
    for (const login of ['distinct-renamed', '\u0e01\u0e38\u0e19']) {
      const renamed = await putUser(id, login);
      assert.equal(renamed.statusCode, 200, `${login}: ${renamed.body}`);
    }
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
      const rows = ['\u0430dmin', 'admin', 'userl', 'user1', 'plain'].map((login, index) => olderUserRow(login, index));
      // The column does not exist yet: insert without it.
      await store.db.insertInto('users').values(rows).execute();
      assert.ok((await migrateToLatest(store)).includes('005_login_skeleton'));

      // PE's api_user, added by 015, aside.
      const after = await store.db.selectFrom('users').select(['login', 'login_skeleton']).where('login', '!=', 'api_user').orderBy('created_at').execute();
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

/** The skeleton as migration 005 and the code before 014 computed it: TR39's alone, on the NFKC-lower-cased login. */
const skeletonBefore014 = (login: string) => unhomoglyph(loginKey(login).normalize('NFD')).normalize('NFD');

/** Users of a database before 014, oldest first: each with the skeleton the code of then gave it (none if grandfathered by 005). */
const USERS_BEFORE_014 = [
  { login: 'admin', skeleton: skeletonBefore014('admin') },
  { login: '\u00e1dmin', skeleton: skeletonBefore014('\u00e1dmin') },
  { login: 'Stra\u00dfe', skeleton: skeletonBefore014('Stra\u00dfe') },
  { login: 'strasse', skeleton: skeletonBefore014('strasse') },
  { login: '\u0274ina', skeleton: skeletonBefore014('\u0274ina') },
  { login: 'nina', skeleton: skeletonBefore014('nina') },
  { login: 'userl', skeleton: skeletonBefore014('userl') },
  { login: 'user1', skeleton: null },
  { login: 'plain', skeleton: skeletonBefore014('plain') },
] as const;

/** Which of them 014 leaves without a skeleton, and whose login each looks like. */
const GRANDFATHERED_BY_014 = [
  { login: '\u00e1dmin', looksLike: 'admin' },
  { login: 'strasse', looksLike: 'Stra\u00dfe' },
  { login: 'nina', looksLike: '\u0274ina' },
  { login: 'user1', looksLike: 'userl' },
];

/** The notices 014 gives for them, in that order. */
const NOTICES_OF_014 = GRANDFATHERED_BY_014.map(
  ({ login, looksLike }) =>
    `The login "${login}" looks like the older login "${looksLike}" under the stronger look-alike rule: its user keeps it, without a skeleton (grandfathered).`,
);

/** A users row with the columns of the first schema only (later migrations add more), created in `index` order; admin a superuser. */
const olderUserRow = (login: string, index: number) => ({
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
});

/** A database as it was before 014 (the last migration before it applied), holding USERS_BEFORE_014. */
async function databaseBefore014(store: ReturnType<typeof openStore>): Promise<void> {
  await migrateTo(store, '013_directory_binding');
  await insertUsersBefore014(store);
}

async function insertUsersBefore014(store: ReturnType<typeof openStore>): Promise<void> {
  // The columns users had at 013 only: later migrations add more, which the store's insert writes.
  const rows = USERS_BEFORE_014.map(({ login, skeleton }, index) => ({ ...olderUserRow(login, index), login_skeleton: skeleton }));
  await store.db.insertInto('users').values(rows).execute();
  assert.notEqual(skeletonBefore014('\u00e1dmin'), skeletonBefore014('admin'), 'before 014 they did not collide');
}

// PE's api_user, added by 015 when the migrations run on, is not one of the users these tests made.
const allUserColumns = (store: ReturnType<typeof openStore>) => store.db.selectFrom('users').selectAll().where('login', '!=', 'api_user').orderBy('created_at').execute();

describeEachDatabase('migration 014_login_skeletons_v2', (target) => {
  test('every skeleton is computed anew; of two logins that now look alike the older keeps the skeleton, the newer is grandfathered and named in a notice; nothing else changes', async () => {
    const workspace = await freshWorkspace(target.dialect);
    const store = openStore({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl });
    try {
      await databaseBefore014(store);
      const before = await allUserColumns(store);
      const notices: string[] = [];
      const applied = await migrateToLatest(store, (notice) => notices.push(notice));
      assert.ok(applied.includes('014_login_skeletons_v2'), `applied: ${applied.join(', ')}`);

      const after = await allUserColumns(store);
      const grandfathered = new Set(GRANDFATHERED_BY_014.map((entry) => entry.login));
      assert.deepEqual(
        after.map((row) => ({ login: row.login, login_skeleton: row.login_skeleton })),
        USERS_BEFORE_014.map(({ login }) => ({ login, login_skeleton: grandfathered.has(login) ? null : loginSkeleton(login) })),
      );
      // Nothing lost: every user is there with everything but the skeleton as it was (logins and login keys too).
      // Compared on the columns users had before 014: later migrations add their own.
      const columnsBefore = Object.keys(before[0] ?? {}).filter((column) => column !== 'login_skeleton');
      const withoutSkeleton = (rows: typeof before) => rows.map((row) => Object.fromEntries(columnsBefore.map((column) => [column, row[column as keyof typeof row]])));
      assert.deepEqual(withoutSkeleton(after), withoutSkeleton(before));
      assert.equal(loginSkeleton('\u00e1dmin'), loginSkeleton('admin'), 'the two really look alike now');

      assert.deepEqual(notices, NOTICES_OF_014);

      // The index holds: a new row with admin's skeleton is refused by the database itself.
      await assert.rejects(
        store.db
          .insertInto('users')
          .values({ ...(before[0] as (typeof before)[number]), id: randomUUID(), login: 'ADM\u0399N', login_key: loginKey('ADM\u0399N'), login_skeleton: loginSkeleton('admin') })
          .execute(),
        (error: unknown) => isUniqueViolation(error, 'users', 'login_skeleton'),
      );
    } finally {
      await store.close();
      await workspace.cleanup();
    }
  });

  test('a database that ran a later-numbered migration (016) before 014 existed gets 014 at its next start', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      const store = openStore({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl });
      try {
        await migrateToLatest(store);
        // As the service before 014 left it: every other migration applied, the skeletons of then.
        await sql`delete from kysely_migration where name = '014_login_skeletons_v2'`.execute(store.db);
        await insertUsersBefore014(store);
        const notices: string[] = [];
        assert.deepEqual(await migrateToLatest(store, (notice) => notices.push(notice)), ['014_login_skeletons_v2']);
        assert.deepEqual(notices, NOTICES_OF_014);
        const grandfathered = new Set(GRANDFATHERED_BY_014.map((entry) => entry.login));
        assert.deepEqual(
          (await allUserColumns(store)).map((row) => ({ login: row.login, login_skeleton: row.login_skeleton })),
          USERS_BEFORE_014.map(({ login }) => ({ login, login_skeleton: grandfathered.has(login) ? null : loginSkeleton(login) })),
        );
      } finally {
        await store.close();
      }
    });
  });

  test('the service migrating such a database at start logs a warning naming each grandfathered login and the one it looks like', async () => {
    const workspace = await freshWorkspace(target.dialect);
    const lines: string[] = [];
    try {
      const store = openStore({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl });
      try {
        await databaseBefore014(store);
      } finally {
        await store.close();
      }
      const logger = createLogger('info', { write: (line: string) => lines.push(line) });
      const config = defaultConfig({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl, port: 0, metricsPort: 0, insecureHttp: true, logLevel: 'info' });
      const service = await startService(config, { logger, adminPassword: USER_PASSWORD });
      await service.close();
    } finally {
      await workspace.cleanup();
    }
    const warnings = lines.map((line) => JSON.parse(line) as { level: number; msg?: string }).filter((entry) => entry.msg?.includes('grandfathered'));
    assert.deepEqual(
      warnings.map((entry) => [entry.level, entry.msg]),
      NOTICES_OF_014.map((notice) => [40, notice]),
      'each logged as a warning',
    );
  });

  test('rbac migrate on such a database prints each grandfathered login and the one it looks like', async () => {
    await withWorkspace(target.dialect, async (workspace) => {
      const store = openStore({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl });
      try {
        await databaseBefore014(store);
      } finally {
        await store.close();
      }
      const result = await runCli(['migrate', ...storeArgs(workspace)]);
      expectExit(result, 0, 'rbac migrate');
      assert.match(result.stdout, /^applied: .*014_login_skeletons_v2/m);
      const printed = result.stderr.split('\n').filter((line) => line.includes('grandfathered'));
      assert.deepEqual(printed, NOTICES_OF_014.map((notice) => `rbac: ${notice}`), result.stderr);
    });
  });
});
