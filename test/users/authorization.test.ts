// The rules of src/users/authorization.ts, called directly on a store: who
// may create, edit, revoke, delete, reset the password of, assign roles to
// and read users, and that the operator at the server (requester null) may
// do everything.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, test } from 'node:test';
import { ServiceError } from '../../src/errors.js';
import type { Actor, UserAction } from '../../src/permissions/permissions.js';
import * as roles from '../../src/store/roles.js';
import * as users from '../../src/store/users.js';
import { inTransaction } from '../../src/store/transaction.js';
import {
  assertMayAssignRoles,
  assertMayCreateUsers,
  assertMayDeleteUser,
  assertMayEditUser,
  assertMayIssueResetToken,
  assertMayReadUser,
  assertRequesterActive,
  mayReadAllUsers,
  type EditedAspects,
} from '../../src/users/authorization.js';
import { describeEachDatabase, insertUser, suiteStore } from '../kit/databases.js';

const NOTHING: EditedAspects = { edits: false, roles: false, revocation: false, revokes: false };
const EDITS: EditedAspects = { ...NOTHING, edits: true };
const ROLES: EditedAspects = { ...NOTHING, roles: true };
const REVOKES: EditedAspects = { ...NOTHING, revocation: true, revokes: true };
const REINSTATES: EditedAspects = { ...NOTHING, revocation: true };

/** Resolves, or rejects with a ServiceError of this kind (and, if given, a message matching). */
async function refused(kind: string, work: () => unknown, message?: RegExp): Promise<void> {
  await assert.rejects(
    async () => work(),
    (error: unknown) => {
      assert.ok(error instanceof ServiceError, String(error));
      assert.equal(error.kind, kind);
      if (message) assert.match(error.message, message);
      return true;
    },
  );
}
const denied = (work: () => unknown, message?: RegExp) => refused('permission-denied', work, message);
const SUPERUSER_ONLY = /Only a superuser/;

describeEachDatabase('authorization rules', (target) => {
  const store = suiteStore(target.dialect);
  const db = () => store().db;
  const actors: Record<string, Actor> = {};
  /** A user holding users:<action> on `instance` for each of `actions` (one role). */
  async function makeActor(login: string, grants: { action: UserAction; instance?: string }[] = [], isSuperuser = false): Promise<Actor> {
    const id = await insertUser(db(), login, { is_superuser: isSuperuser });
    if (grants.length > 0) {
      const permissions = grants.map(({ action, instance }) => ({ object_type: 'users', action, instance: instance ?? '*' }));
      await users.addRoles(db(), id, [await roles.insert(db(), { display_name: `role of ${login}`, description: '', permissions })]);
    }
    return (actors[login] = { id, login, is_superuser: isSuperuser, is_remote: false });
  }
  let target1: Actor, otherUser: Actor, superTarget: Actor;
  const missing = randomUUID();

  before(async () => {
    target1 = await makeActor('target');
    otherUser = await makeActor('other');
    superTarget = await makeActor('super-target', [], true);
    await makeActor('root', [], true);
    await makeActor('plain');
    await makeActor('creator', [{ action: 'create' }]);
    await makeActor('editor', [{ action: 'edit' }]);
    await makeActor('disabler', [{ action: 'disable' }]);
    await makeActor('resetter', [{ action: 'reset_password' }]);
    await makeActor('target-editor', [{ action: 'edit', instance: target1.id }]);
  });
  const as = (login: string) => actors[login] as Actor;

  test('assertMayCreateUsers: users:create or a superuser or the operator; nobody else, even with users:edit', async () => {
    for (const by of [as('creator'), as('root'), null]) await assertMayCreateUsers(db(), by);
    for (const login of ['editor', 'plain', 'disabler']) await denied(() => assertMayCreateUsers(db(), as(login)), /users:create/);
  });

  test('assertMayAssignRoles: a superuser or the operator gives any role; users permissions alone give none; giving nothing needs nothing', async () => {
    const administrators = [1];
    await assertMayAssignRoles(db(), as('root'), administrators);
    await assertMayAssignRoles(db(), null, administrators);
    for (const login of ['creator', 'editor', 'disabler', 'plain']) {
      await assertMayAssignRoles(db(), as(login), []);
      await denied(() => assertMayAssignRoles(db(), as(login), administrators), /user_roles:edit_members/);
    }
  });

  test('assertMayEditUser: users:edit edits login, email and display name, but does not revoke', async () => {
    const editor = as('editor');
    await assertMayEditUser(db(), editor, target1.id, true, EDITS);
    await assertMayEditUser(db(), editor, target1.id, true, NOTHING);
    await denied(() => assertMayEditUser(db(), editor, target1.id, true, REVOKES), /users:disable/);
    await denied(() => assertMayEditUser(db(), editor, target1.id, true, REINSTATES), /users:disable/);
    // Which roles may change is assertMayAssignRoles's to decide, with the role ids (above).
    await assertMayEditUser(db(), editor, target1.id, true, ROLES);
  });

  test('assertMayEditUser: users:disable revokes and reinstates, but does not edit; nobody revokes themselves', async () => {
    const disabler = as('disabler');
    await assertMayEditUser(db(), disabler, target1.id, true, REVOKES);
    await assertMayEditUser(db(), disabler, target1.id, true, REINSTATES);
    await denied(() => assertMayEditUser(db(), disabler, target1.id, true, EDITS), /users:edit/);
    await denied(() => assertMayEditUser(db(), disabler, disabler.id, true, REVOKES), /your own account/);
    await assertMayEditUser(db(), disabler, disabler.id, true, REINSTATES);
    await denied(() => assertMayEditUser(db(), as('root'), as('root').id, true, REVOKES), /your own account/);
  });

  test('assertMayEditUser: someone holding neither users:edit nor users:disable gets 403, before 404, for a missing id too', async () => {
    for (const login of ['plain', 'creator', 'resetter']) {
      await denied(() => assertMayEditUser(db(), as(login), target1.id, true, EDITS), /users:edit or users:disable/);
      await denied(() => assertMayEditUser(db(), as(login), missing, false, EDITS), /users:edit or users:disable/);
    }
    // users:edit on one user only: another user, and an unknown id, are 403
    const targetEditor = as('target-editor');
    await assertMayEditUser(db(), targetEditor, target1.id, true, EDITS);
    await denied(() => assertMayEditUser(db(), targetEditor, otherUser.id, true, EDITS));
    await denied(() => assertMayEditUser(db(), targetEditor, missing, false, EDITS));
  });

  test('assertMayEditUser: a holder of users:edit or users:disable on every user, a superuser and the operator get 404 for a missing id', async () => {
    for (const by of [as('editor'), as('disabler'), as('root'), null]) {
      await refused('not-found', () => assertMayEditUser(db(), by, missing, false, EDITS));
      await refused('not-found', () => assertMayEditUser(db(), by, missing, false, NOTHING));
    }
  });

  test('assertMayEditUser: a superuser target is superuser-only, for edits and revocations alike', async () => {
    await denied(() => assertMayEditUser(db(), as('editor'), superTarget.id, true, EDITS), SUPERUSER_ONLY);
    await denied(() => assertMayEditUser(db(), as('disabler'), superTarget.id, true, REVOKES), SUPERUSER_ONLY);
    for (const by of [as('root'), null]) {
      for (const aspects of [EDITS, ROLES, REVOKES, REINSTATES]) await assertMayEditUser(db(), by, superTarget.id, true, aspects);
    }
  });

  test('assertMayEditUser: the operator may do everything to an existing user, revocation included', async () => {
    for (const aspects of [EDITS, ROLES, REVOKES, REINSTATES, { edits: true, roles: true, revocation: true, revokes: true }]) {
      await assertMayEditUser(db(), null, target1.id, true, aspects);
    }
  });

  test('assertMayDeleteUser: users:disable (a superuser for a superuser), a superuser, the operator', async () => {
    for (const by of [as('disabler'), as('root'), null]) await assertMayDeleteUser(db(), by, target1.id);
    for (const by of [as('root'), null]) await assertMayDeleteUser(db(), by, superTarget.id);
    await denied(() => assertMayDeleteUser(db(), as('disabler'), superTarget.id), SUPERUSER_ONLY);
    for (const login of ['editor', 'plain', 'creator', 'resetter']) await denied(() => assertMayDeleteUser(db(), as(login), target1.id), /users:disable/);
  });

  test('assertMayIssueResetToken: users:reset_password (a superuser for a superuser), a superuser, the operator', async () => {
    for (const by of [as('resetter'), as('root'), null]) await assertMayIssueResetToken(db(), by, target1.id);
    for (const by of [as('root'), null]) await assertMayIssueResetToken(db(), by, superTarget.id);
    await denied(() => assertMayIssueResetToken(db(), as('resetter'), superTarget.id), SUPERUSER_ONLY);
    for (const login of ['editor', 'disabler', 'plain']) await denied(() => assertMayIssueResetToken(db(), as(login), target1.id), /users:reset_password/);
  });

  test('mayReadAllUsers / assertMayReadUser: everyone reads their own record; any users permission, a superuser or the operator read all', async () => {
    for (const by of [as('creator'), as('editor'), as('resetter'), as('target-editor'), as('root'), null]) {
      assert.equal(await mayReadAllUsers(db(), by), true, by?.login ?? 'operator');
      await assertMayReadUser(db(), by, target1.id);
      await assertMayReadUser(db(), by, 'all');
    }
    const plain = as('plain');
    assert.equal(await mayReadAllUsers(db(), plain), false);
    await assertMayReadUser(db(), plain, plain.id);
    await denied(() => assertMayReadUser(db(), plain, target1.id));
    await denied(() => assertMayReadUser(db(), plain, missing));
    await denied(() => assertMayReadUser(db(), plain, 'all'), /Listing users/);
  });

  test('assertRequesterActive: a revoked or deleted requester is user-revoked; an active one and the operator pass; only inside a transaction', async () => {
    const revoked = await makeActor('revoked-requester', [{ action: 'edit' }]);
    const inWrite = (by: Parameters<typeof assertRequesterActive>[1]) => inTransaction(db(), (trx) => assertRequesterActive(trx, by));
    await inWrite(revoked);
    await users.setRevoked(db(), revoked.id, true);
    await refused('user-revoked', () => inWrite(revoked));
    await refused('user-revoked', () => inWrite({ ...revoked, id: missing }));
    await inWrite(as('plain'));
    await inWrite(null);
    // Its lock would end with the statement: outside a transaction it is a programming error.
    await assert.rejects(async () => assertRequesterActive(db(), as('plain')), /needs a transaction/);
  });
});
