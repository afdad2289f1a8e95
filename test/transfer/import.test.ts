// Moving in (CONTRACT §16): a second instance of the service stands in for a
// running PE, served over HTTPS with its self-signed certificate, holding
// local, remote and revoked users, roles with PE's permission types, a
// directory group, directory settings (with a bind password, which PE never
// gives out) and a disclaimer. Imported into SQLite and PostgreSQL targets:
// ids, logins and revoked state kept, built-in users left alone, reset
// links for local users, one `imported` event per object naming its source;
// a re-run changes nothing and issues no new link; a dry run only reports;
// a taken role id, or a source going away mid-read, leaves the target as it
// was.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { listDirectories } from '../../src/directory/directories.js';
import { listRoles } from '../../src/roles/roles.js';
import * as directoryStore from '../../src/store/directories.js';
import type { PortableDocument } from '../../src/transfer/document.js';
import { importDocument, ImportRefused, type ImportOptions } from '../../src/transfer/import.js';
import { readFromPe } from '../../src/transfer/pe-source.js';
import { listUsers } from '../../src/users/users.js';
import { describeEachDatabase } from '../kit/databases.js';
import { BIND_PASSWORD, DEPLOYER_PERMISSIONS, HELPDESK_PERMISSIONS, snapshot, startPeStandIn, type PeStandIn } from '../kit/pe-stand-in.js';
import { ADMIN_PASSWORD, USER_PASSWORD, startTestService, type TestService } from '../kit/service.js';

const V1 = '/rbac-api/v1';

const options = (extra: Partial<ImportOptions> = {}): ImportOptions => ({ deliversResetLinks: true, resetLink: (token) => `https://rbac.example.test/reset?token=${token}`, ...extra });

describeEachDatabase('moving in from a running PE', (target) => {
  let pe: PeStandIn;
  let service: TestService;
  before(async () => {
    pe = await startPeStandIn();
    service = await startTestService(target.dialect);
  });
  after(async () => {
    await service?.close();
    await pe?.close();
  });
  const deps = () => ({ db: service.store.db, keys: service.keys, config: service.config });
  const read = () => readFromPe({ url: pe.url, token: pe.token, ca: pe.ca });

  test('an import over HTTPS keeps role ids, user ids, logins, emails, names, roles and revoked state, directory settings without the bind password, groups and the disclaimer; admin is left alone', async () => {
    const adminBefore = (await listUsers(service.store.db, null, {})).find((user) => user.login === 'admin');
    const document = await read();
    assert.ok(!JSON.stringify(document).includes(BIND_PASSWORD), 'the source never gives out the bind password');
    const report = await importDocument(deps(), document, options());
    assert.equal(report.applied, true);
    // PE lists api_user too: matched by login, left as it is.
    assert.deepEqual(report.builtIn, ['admin', 'api_user']);

    const { users, roles, groups, directories, disclaimer } = await snapshot(service);
    const role = (id: number) => roles.find((candidate) => candidate.id === id);
    assert.equal(role(pe.ids.helpdesk)?.display_name, 'Helpdesk', 'the role keeps its id');
    assert.deepEqual(role(pe.ids.helpdesk)?.permissions, HELPDESK_PERMISSIONS);
    assert.deepEqual(role(pe.ids.deployers)?.permissions, DEPLOYER_PERMISSIONS, "PE's permission types are kept as they are");
    assert.equal(role(pe.ids.deployers)?.description, 'Ships code');

    const user = (login: string) => users.find((candidate) => candidate.login === login);
    assert.deepEqual(
      { id: user('alice')?.id, email: user('alice')?.email, display_name: user('alice')?.display_name, role_ids: user('alice')?.role_ids, is_remote: user('alice')?.is_remote, is_revoked: user('alice')?.is_revoked },
      { id: pe.ids.alice, email: 'alice@example.test', display_name: 'Alice Liddell', role_ids: [pe.ids.helpdesk], is_remote: false, is_revoked: false },
    );
    assert.deepEqual({ id: user('carol')?.id, is_revoked: user('carol')?.is_revoked, role_ids: user('carol')?.role_ids }, { id: pe.ids.carol, is_revoked: true, role_ids: [3, pe.ids.helpdesk] });
    assert.deepEqual({ id: user('dave')?.id, is_remote: user('dave')?.is_remote, role_ids: user('dave')?.role_ids }, { id: pe.ids.dave, is_remote: true, role_ids: [pe.ids.deployers] });
    assert.deepEqual(user('admin'), adminBefore, 'the built-in admin is matched by login and never overwritten');
    await service.login('admin', ADMIN_PASSWORD);

    assert.deepEqual(
      groups.map((group) => ({ id: group.id, login: group.login, display_name: group.display_name, role_ids: group.role_ids, identity_provider_id: group.identity_provider_id })),
      [{ id: pe.ids.group, login: 'operations', display_name: 'Operations', role_ids: [pe.ids.deployers], identity_provider_id: pe.ids.directory }],
    );
    assert.deepEqual(directories, await listDirectories(pe.service.store.db, null), 'the directory settings, id included');
    assert.equal(await directoryStore.bindPasswordOf(service.store.db, pe.ids.directory), null, 'no bind password: the operator sets it');
    assert.equal(disclaimer, 'Authorized use only.');

    // Only alice gets a reset link: carol is revoked (a reset would reinstate her), dave is remote.
    assert.deepEqual(report.resetLinks.map((link) => [link.login, link.email]), [['alice', 'alice@example.test']]);
    const token = new URL(report.resetLinks[0]!.reset_url).searchParams.get('token');
    const reset = await service.request({ method: 'POST', url: `${V1}/auth/reset`, payload: { token, password: USER_PASSWORD } });
    assert.equal(reset.statusCode, 200, reset.body);
    await service.login('alice', USER_PASSWORD);

    // Every imported object is an `imported` event naming its source.
    const imported = await service.store.db.selectFrom('audit_events').select(['subject_login', 'details']).where('type', '=', 'imported').execute();
    const details = imported.map((row) => JSON.parse(row.details) as { object: string; source: string });
    assert.ok(details.every((detail) => detail.source === document.source && document.source.startsWith('https://localhost:')));
    assert.deepEqual(details.map((detail) => detail.object).sort(), ['directory', 'disclaimer', 'group', 'role', 'role', 'user', 'user', 'user']);
    assert.deepEqual(imported.filter((row) => row.subject_login !== null).map((row) => row.subject_login).sort(), ['alice', 'carol', 'dave']);

    // PE's activity service files each under its own object.
    const activity = (await service.request({ method: 'GET', url: '/activity-api/v1/events?service_id=rbac', token: await service.adminToken() })).json() as {
      commits: { object: { id: string | null; name: string | null }; events: { description: string; message: string }[] }[];
    };
    const importedRole = activity.commits.find((commit) => commit.events[0]?.description === 'imported' && commit.object.id === String(pe.ids.helpdesk));
    assert.equal(importedRole?.object.name, 'Helpdesk');
    assert.equal(importedRole?.events[0]?.message, `Imported role Helpdesk from ${document.source}.`);
    const importedUser = activity.commits.find((commit) => commit.events[0]?.description === 'imported' && commit.object.id === pe.ids.alice);
    assert.equal(importedUser?.events[0]?.message, `Imported user alice (${pe.ids.alice}) from ${document.source}.`);
  });

  test('a re-run changes nothing that is already equal and issues no new reset link; a dry run reports a change and writes nothing; the next run makes it', async () => {
    const before = await snapshot(service);
    const again = await importDocument(deps(), await read(), options());
    assert.deepEqual(again.changes, []);
    assert.deepEqual(again.resetLinks, [], 'alice set her password: no new link');
    assert.deepEqual(await snapshot(service), before, 'nothing written, not even an event');

    // The source changes: alice's email, and she leaves Helpdesk for Deployers.
    const edit = await pe.service.request({ method: 'PUT', url: `${V1}/users/${pe.ids.alice}`, token: pe.token, payload: { email: 'alice@new.example.test', role_ids: [pe.ids.deployers] } });
    assert.equal(edit.statusCode, 200, edit.body);
    const dry = await importDocument(deps(), await read(), options({ dryRun: true }));
    assert.deepEqual(dry.changes, ['update user "alice": email, role_ids']);
    assert.equal(dry.applied, false);
    assert.deepEqual(await snapshot(service), before, 'a dry run writes nothing');

    const applied = await importDocument(deps(), await read(), options());
    assert.deepEqual(applied.changes, ['update user "alice": email, role_ids']);
    const alice = (await listUsers(service.store.db, null, {})).find((user) => user.login === 'alice');
    assert.deepEqual({ email: alice?.email, role_ids: alice?.role_ids }, { email: 'alice@new.example.test', role_ids: [pe.ids.deployers] });
    await service.login('alice', USER_PASSWORD);
  });

  test('a user who has not used their link gets no new one while it works, and a new one (superseding it) once it has expired', async () => {
    const other = await startTestService(target.dialect);
    try {
      const otherDeps = { db: other.store.db, keys: other.keys, config: other.config };
      const first = await importDocument(otherDeps, await read(), options());
      assert.deepEqual(first.resetLinks.map((link) => link.login), ['alice']);
      const again = await importDocument(otherDeps, await read(), options());
      assert.deepEqual(again.resetLinks, [], 'her link still works');
      assert.deepEqual(again.changes, []);
      // Her link expires (back-dated, not waited for).
      await other.store.db.updateTable('reset_tokens').set({ expires_at: Date.now() - 1000 }).where('user_id', '=', pe.ids.alice).execute();
      const later = await importDocument(otherDeps, await read(), options());
      assert.deepEqual(later.resetLinks.map((link) => link.login), ['alice']);
      assert.deepEqual(later.changes, ['issue a new reset link to "alice", who has set no password and holds no working link']);
      const issued = await other.store.db.selectFrom('audit_events').select('details').where('type', '=', 'reset-token-issued').orderBy('id', 'desc').executeTakeFirstOrThrow();
      assert.equal((JSON.parse(issued.details) as { superseded: number }).superseded, 1, 'the expired link is superseded');
    } finally {
      await other.close();
    }
  });

  test('a role id taken here by another role stops the import before anything is written, and names it', async () => {
    const other = await startTestService(target.dialect);
    try {
      const token = await other.adminToken();
      // Roles made here until one holds the id the source's Helpdesk has.
      for (;;) {
        const made = await other.request({ method: 'POST', url: `${V1}/roles`, token, payload: { display_name: `Local role ${Math.random()}`, permissions: [] } });
        if ((made.json() as { id: number }).id >= pe.ids.helpdesk) break;
      }
      const before = await snapshot(other);
      await assert.rejects(importDocument({ db: other.store.db, keys: other.keys, config: other.config }, await read(), options()), (error: unknown) => {
        assert.ok(error instanceof ImportRefused);
        assert.match(error.message, new RegExp(`role id ${pe.ids.helpdesk} is taken here by "Local role`));
        return true;
      });
      assert.deepEqual(await snapshot(other), before, 'nothing written');
    } finally {
      await other.close();
    }
  });

  test('an import that fails after writing everything but the last step (here: making the reset link) leaves the target as it was: one transaction', async () => {
    const other = await startTestService(target.dialect);
    try {
      const before = await snapshot(other);
      const failing = options({
        resetLink: () => {
          throw new Error('the link cannot be made');
        },
      });
      await assert.rejects(importDocument({ db: other.store.db, keys: other.keys, config: other.config }, await read(), failing), /the link cannot be made/);
      assert.deepEqual(await snapshot(other), before, 'no user, role, group, directory, disclaimer, event or reset token remains');
    } finally {
      await other.close();
    }
  });

  test('a local user without a reset-links file to hand links to is refused, nothing written', async () => {
    const other = await startTestService(target.dialect);
    try {
      const before = await snapshot(other);
      await assert.rejects(importDocument({ db: other.store.db, keys: other.keys, config: other.config }, await read(), options({ deliversResetLinks: false })), /--reset-links/);
      assert.deepEqual(await snapshot(other), before);
    } finally {
      await other.close();
    }
  });

  test('a source that goes away mid-read (answers users, then closes the connection) fails the import, and the target is unchanged', async () => {
    const other = await startTestService(target.dialect);
    const document = await read();
    const vanishing: Server = createServer((request, response) => {
      if (request.url === `${V1}/users`) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(document.users));
        return;
      }
      // Half an answer, then the connection is gone.
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      response.write('[{"id": 7, "display_name": "Hel');
      response.socket?.destroy();
    });
    await new Promise<void>((resolve) => vanishing.listen(0, '127.0.0.1', resolve));
    try {
      const before = await snapshot(other);
      const url = `http://127.0.0.1:${(vanishing.address() as AddressInfo).port}`;
      await assert.rejects(
        (async () => importDocument({ db: other.store.db, keys: other.keys, config: other.config }, await readFromPe({ url, token: pe.token }), options()))(),
        /Reading \/rbac-api\/v1\/roles from .* failed.*Nothing was imported/,
      );
      assert.deepEqual(await snapshot(other), before);
    } finally {
      await new Promise((resolve) => vanishing.close(resolve));
      await other.close();
    }
  });

  test('a long import says how far it has got, every 500 changes', async () => {
    const other = await startTestService(target.dialect);
    try {
      const roles = Array.from({ length: 1001 }, (_, index) => ({ id: 1000 + index, display_name: `Bulk role ${index}`, description: '', permissions: [] }));
      const document: PortableDocument = { format_version: 1, source: 'bulk.json', exported_at: new Date().toISOString(), users: [], roles, groups: [], directories: [], disclaimer: null };
      const lines: string[] = [];
      const report = await importDocument({ db: other.store.db, keys: other.keys, config: other.config }, document, options({ progress: (line) => lines.push(line) }));
      assert.equal(report.changes.length, 1001);
      assert.deepEqual(lines, ['imported 500 of 1001 changes', 'imported 1000 of 1001 changes', 'imported 1001 of 1001 changes']);
      assert.equal((await listRoles(other.store.db)).length, 5 + 1001);
    } finally {
      await other.close();
    }
  });

  test('a document naming a role that neither side has is refused with the user named, nothing written', async () => {
    const before = await snapshot(service);
    const document: PortableDocument = { ...(await read()), roles: [] };
    const broken = { ...document, users: document.users.map((user) => (user.login === 'dave' ? { ...user, role_ids: [9999] } : user)) };
    await assert.rejects(importDocument(deps(), broken, options()), /user "dave" holds roles 9999/);
    assert.deepEqual(await snapshot(service), before);
  });
});
