// Every security event of CONTRACT §8 is in the activity service (§14): a
// flow that produces each event type src/audit/ knows, through the API where
// there is a route and through the same functions the CLI and the scheduler
// call where there is none, then each type found in /activity-api/v1/events
// and v2 with PE's keys, the object PE's console would file it under, and a
// message in plain words — on SQLite and PostgreSQL.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AUDIT_EVENT_TYPES } from '../../src/audit/audit.js';
import { expireIdleAccounts } from '../../src/users/account-expiry.js';
import { importDocument } from '../../src/transfer/import.js';
import { resetAdminPassword } from '../../src/users/admin-password.js';
import { unbindFromDirectory } from '../../src/users/users.js';
import { describeEachDatabase } from '../kit/databases.js';
import { DIRECTORY_USERS, PE_DIRECTORY_ATTRIBUTES, directorySettingsFor, startSlapd, type Slapd } from '../kit/slapd.js';
import { ADMIN_PASSWORD, USER_PASSWORD, startServiceWithAdmin, type TestService } from '../kit/service.js';

interface ActivityEvent {
  type: string;
  what: string;
  description: string;
  message: string;
}
interface CommitV1 {
  object: { id: string | null; name: string | null };
  subject: { id: string | null; name: string | null };
  timestamp: string;
  events: ActivityEvent[];
}
interface CommitV2 {
  objects: { id: string | null; name: string | null; type: string }[];
  events: ActivityEvent[];
}

const V1 = '/rbac-api/v1';
const UNREACHABLE_DIRECTORY = {
  display_name: 'unreachable',
  hostname: '127.0.0.1',
  port: 1,
  ssl: false,
  start_tls: true,
  base_dn: 'dc=example,dc=test',
  ...PE_DIRECTORY_ATTRIBUTES,
};

// A real directory for the events of directory users (bound at their first login).
let slapd: Slapd;
before(async () => {
  slapd = await startSlapd();
});
after(() => slapd?.stop());

describeEachDatabase('every security event in the activity service', (target) => {
  let service: TestService;
  let admin: string;
  before(async () => ({ service, admin } = await startServiceWithAdmin(target.dialect, { failedAttemptsLockout: 2 })));
  after(() => service?.close());

  /** A request as admin, as another user (their token), or with none (null). */
  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: Record<string, unknown>, token: string | null = admin) =>
    service.request({ method, url, ...(token === null ? {} : { token }), ...(payload === undefined ? {} : { payload }) });
  const ok = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: Record<string, unknown>, token: string | null = admin) => {
    const response = await call(method, url, payload, token);
    assert.ok(response.statusCode < 300, `${method} ${url}: ${response.statusCode} ${response.body}`);
    return response;
  };

  test('a flow through users, roles, tokens, passwords, keys, the disclaimer, the directory and groups records every event type, and each is in v1 and v2 with its message', async () => {
    // Users and their logins: created, edited, logged in and out, tokens issued and revoked.
    const alice = await service.createUser('every-alice');
    const aliceToken = await service.login('every-alice', USER_PASSWORD);
    await ok('PUT', `${V1}/users/${alice}`, { email: 'alice@example.org' });
    await ok('POST', `${V1}/tokens`, { label: 'ci' }, aliceToken);
    await ok('DELETE', '/rbac-api/v2/tokens?revoke_tokens_by_labels=ci', undefined, aliceToken);
    await ok('DELETE', `${V1}/tokens/current`, undefined, await service.login('every-alice', USER_PASSWORD));
    await ok('PUT', `${V1}/users/current/password`, { current_password: USER_PASSWORD, password: 'a changed passphrase for alice' }, aliceToken);

    // Roles: created, edited, given, taken, deleted.
    const role = (await ok('POST', `${V1}/roles`, { display_name: 'Every role', permissions: [] })).json() as { id: number };
    await ok('PUT', `${V1}/roles/${role.id}`, { description: 'edited' });
    await ok('POST', `${V1}/command/roles/add-users`, { role_id: role.id, user_ids: [alice] });
    await ok('POST', `${V1}/command/roles/remove-users`, { role_id: role.id, user_ids: [alice] });

    // Lockout, revocation, reset tokens: issued, cancelled, rejected, used (reinstating).
    const bob = await service.createUser('every-bob');
    for (let i = 0; i < 2; i++) await call('POST', `${V1}/auth/token`, { login: 'every-bob', password: `wrong guess ${i}` }, null);
    await service.resetToken(bob);
    await ok('POST', `${V1}/command/users/reinstate`, { user_id: bob });
    await ok('POST', `${V1}/command/users/revoke`, { user_id: bob });
    const resetToken = await service.resetToken(bob);
    await call('POST', `${V1}/auth/reset`, { token: 'not.a.token', password: 'whatever it may be' }, null);
    await ok('POST', `${V1}/auth/reset`, { token: resetToken, password: 'a new passphrase for bob' }, null);
    const carol = await service.createUser('every-carol');
    await ok('DELETE', `${V1}/users/${carol}`);

    // The disclaimer, signing keys, the reset script.
    await ok('POST', `${V1}/command/config/set-disclaimer`, { disclaimer: 'Authorized use only.' });
    await ok('POST', `${V1}/command/config/remove-disclaimer`);
    const oldKid = (await service.keys.activeKey()).kid;
    await service.keys.rotate({ actor: null, sourceAddress: null }, Date.now() + 1);
    await service.keys.retire(oldKid, { actor: null, sourceAddress: null });
    await resetAdminPassword({ db: service.store.db, hasher: service.hasher, rules: service.config }, `${ADMIN_PASSWORD} again`, { operator: 'root' });
    admin = await service.login('admin', `${ADMIN_PASSWORD} again`);

    // The directory: created, updated, tested, unreachable at a login only it could check, deleted; a group imported, its roles changed, deleted.
    const directory = (await ok('POST', `${V1}/command/ldap/create`, UNREACHABLE_DIRECTORY)).json() as { id: string };
    await ok('POST', `${V1}/command/ldap/update`, { ...UNREACHABLE_DIRECTORY, id: directory.id, connect_timeout: 2 });
    assert.equal((await call('POST', `${V1}/command/ldap/test`, UNREACHABLE_DIRECTORY)).statusCode, 400);
    assert.equal((await call('POST', `${V1}/auth/token`, { login: 'only-in-the-directory', password: 'a directory password' }, null)).statusCode, 503);
    const group = (await ok('POST', `${V1}/command/groups/create`, { login: 'every-group', identity_provider_id: directory.id })).json() as { id: string };
    await ok('PUT', `${V1}/groups/${group.id}`, { role_ids: [role.id] });
    await ok('DELETE', `${V1}/groups/${group.id}`);
    await ok('POST', `${V1}/command/ldap/delete`, { id: directory.id });
    await ok('DELETE', `${V1}/roles/${role.id}`);

    // A directory user: bound to their entry at the first login, unbound by the operator (rbac users unbind).
    await ok('POST', `${V1}/command/ldap/create`, directorySettingsFor(slapd));
    const dave = DIRECTORY_USERS.dave;
    await ok('POST', `${V1}/auth/token`, { login: dave.login, password: dave.password }, null);
    const daveId = ((await ok('GET', `/rbac-api/v2/users?filter=${dave.login}`)).json() as { users: { id: string; login: string }[] }).users.find((user) => user.login === dave.login)?.id;
    assert.ok(daveId);
    assert.equal((await unbindFromDirectory(service.store.db, { userId: daveId }, { actor: null, sourceAddress: null })).length, 1);

    // Account expiry, as the scheduler runs it: everyone idle for a day, seen from two days on.
    const expired = await expireIdleAccounts({ db: service.store.db, config: { accountExpiryDays: 1 } }, new Date(Date.now() + 2 * 86_400_000));
    assert.ok(expired.length > 0);

    // An import (rbac import): a role carried over from another service.
    const imported = await importDocument(
      { db: service.store.db, keys: service.keys, config: service.config },
      { format_version: 1, source: 'https://pe.example.test:4433', exported_at: new Date().toISOString(), users: [], roles: [{ id: 900, display_name: 'Imported role', description: '', permissions: [] }], groups: [], directories: [], disclaimer: null },
      { resetLink: (token) => token },
    );
    assert.equal(imported.applied, true);

    const v1 = (await ok('GET', '/activity-api/v1/events?service_id=rbac&order=asc')).json() as { commits: CommitV1[]; 'total-rows': number };
    const v2 = (await ok('GET', '/activity-api/v2/events?order=asc')).json() as { commits: CommitV2[] };
    assert.equal(v1['total-rows'], v1.commits.length, 'one page holds them all');
    const seen = new Set(v1.commits.map((commit) => commit.events[0]?.description));
    const missing = AUDIT_EVENT_TYPES.filter((type) => !seen.has(type.replaceAll('-', '_')));
    assert.deepEqual(missing, [], 'every event type of the audit trail appears');

    for (const commit of v1.commits) {
      const [event] = commit.events;
      assert.ok(event, 'one event a commit');
      assert.match(event.message, /^[A-Z].*\.$/, `${event.description}: a sentence (${event.message})`);
      assert.doesNotMatch(event.message, /undefined|null|\[object/, `${event.description}: in plain words (${event.message})`);
      assert.ok(event.type.length > 0 && event.what.length > 0);
    }
    const v2Seen = new Set(v2.commits.map((commit) => commit.events[0]?.description));
    assert.deepEqual([...seen].sort(), [...v2Seen].sort(), 'v2 lists the same events');

    // Each is filed under the object PE's console shows it on.
    const first = (description: string) => v2.commits.find((commit) => commit.events[0]?.description === description);
    const objectTypes = (description: string) => first(description)?.objects.map((object) => object.type);
    assert.deepEqual(objectTypes('reset_token_issued'), ['users']);
    assert.deepEqual(objectTypes('role_assigned'), ['users', 'roles']);
    assert.deepEqual(objectTypes('role_deleted'), ['roles']);
    assert.deepEqual(objectTypes('group_roles_changed'), ['user_groups']);
    assert.deepEqual(objectTypes('directory_updated'), ['directory_server_settings']);
    assert.deepEqual(objectTypes('user_bound'), ['users', 'directory_server_settings']);
    assert.deepEqual(objectTypes('signing_key_retired'), ['signing_keys']);
    assert.deepEqual(objectTypes('disclaimer_set'), ['disclaimer']);
    assert.deepEqual(first('role_deleted')?.objects[0], { id: String(role.id), name: 'Every role', type: 'roles' });
    assert.deepEqual(first('group_deleted')?.objects[0], { id: group.id, name: 'every-group', type: 'user_groups' });
    assert.equal(first('role_edited')?.objects[0]?.name, 'Every role', 'a deleted role keeps the name its creation and deletion recorded');

    // A few messages in full.
    const message = (description: string) => v1.commits.find((commit) => commit.events[0]?.description === description)?.events[0]?.message;
    assert.equal(message('reset_token_issued'), `A password reset token was generated for user every-bob (${bob}).`);
    assert.equal(message('account_locked'), `User every-bob (${bob}) revoked after 2 failed login attempts.`);
    assert.equal(message('role_removed'), `User every-alice (${alice}) removed from role Every role.`);
    assert.match(message('admin_password_reset_by_script') ?? '', /^The password of admin \(.+\) was reset by the reset script, run by root on the server\.$/);
    assert.match(message('signing_key_retired') ?? '', new RegExp(`^Signing key ${oldKid} retired; \\d+ unused reset tokens? it signed cancelled\\.$`));
  });
});
