// changedAspects (src/users/users.ts): what an edit really changes, compared
// with the user as it is. A field sent with its current value is no change,
// so a client that sends the whole record back needs no permission for the
// parts it left alone.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { changedAspects, type User } from '../../src/users/users.js';

const CURRENT: User = {
  id: '00000000-0000-4000-8000-000000000001',
  login: 'alice',
  email: 'alice@example.com',
  display_name: 'Alice',
  role_ids: [3, 1, 2],
  is_group: false,
  is_remote: false,
  is_superuser: false,
  is_revoked: false,
  last_login: null, inherited_role_ids: [], group_ids: [],
  failed_attempts: 0,
  locked_at: null,
  lockout_lifts_at: null,
  revoked_by: null,
  password_change_required: false,
};
const NOTHING = { edits: false, roles: false, revocation: false, revokes: false };

test('an empty change, and every field sent back unchanged, change nothing', () => {
  assert.deepEqual(changedAspects(CURRENT, {}), NOTHING);
  const { login, email, display_name, role_ids, is_revoked } = CURRENT;
  assert.deepEqual(changedAspects(CURRENT, { login, email, display_name, role_ids, is_revoked }), NOTHING);
  assert.deepEqual(changedAspects(CURRENT, { login: undefined, email: undefined, display_name: undefined, role_ids: undefined, is_revoked: undefined }), NOTHING);
});

test('a login equal to the current one once trimmed is no edit; another login, email or display name is', () => {
  assert.deepEqual(changedAspects(CURRENT, { login: '  alice\t' }), NOTHING);
  assert.deepEqual(changedAspects(CURRENT, { login: 'Alice' }), { ...NOTHING, edits: true });
  assert.deepEqual(changedAspects(CURRENT, { login: 'alice2' }), { ...NOTHING, edits: true });
  assert.deepEqual(changedAspects(CURRENT, { email: 'alice@example.org' }), { ...NOTHING, edits: true });
  assert.deepEqual(changedAspects(CURRENT, { email: '' }), { ...NOTHING, edits: true });
  assert.deepEqual(changedAspects(CURRENT, { display_name: 'Alice B.' }), { ...NOTHING, edits: true });
});

test('the same role ids in another order or with duplicates are no role change; one more, one fewer or another one is', () => {
  for (const role_ids of [[1, 2, 3], [2, 3, 1], [1, 1, 2, 3, 3], [3, 2, 1, 2]]) {
    assert.deepEqual(changedAspects(CURRENT, { role_ids }), NOTHING, JSON.stringify(role_ids));
  }
  for (const role_ids of [[1, 2], [1, 2, 3, 4], [1, 2, 4], [], [1, 1, 2, 2]]) {
    assert.deepEqual(changedAspects(CURRENT, { role_ids }), { ...NOTHING, roles: true }, JSON.stringify(role_ids));
  }
  assert.deepEqual(changedAspects({ ...CURRENT, role_ids: [] }, { role_ids: [] }), NOTHING);
  assert.deepEqual(changedAspects({ ...CURRENT, role_ids: [] }, { role_ids: [5, 5] }), { ...NOTHING, roles: true });
  // numeric order, not string order
  assert.deepEqual(changedAspects({ ...CURRENT, role_ids: [10, 9] }, { role_ids: [9, 10] }), NOTHING);
});

test('is_revoked equal to the current state is no revocation; revoking and reinstating are, and only revoking revokes', () => {
  assert.deepEqual(changedAspects(CURRENT, { is_revoked: false }), NOTHING);
  assert.deepEqual(changedAspects({ ...CURRENT, is_revoked: true }, { is_revoked: true }), NOTHING);
  assert.deepEqual(changedAspects(CURRENT, { is_revoked: true }), { ...NOTHING, revocation: true, revokes: true });
  assert.deepEqual(changedAspects({ ...CURRENT, is_revoked: true }, { is_revoked: false }), { ...NOTHING, revocation: true, revokes: false });
});

test('aspects combine: each is judged on its own field', () => {
  assert.deepEqual(changedAspects(CURRENT, { login: ' alice ', email: 'new@example.com', role_ids: [3, 2, 1], is_revoked: true }), {
    edits: true,
    roles: false,
    revocation: true,
    revokes: true,
  });
  assert.deepEqual(changedAspects(CURRENT, { display_name: 'Alice', role_ids: [1], is_revoked: false }), { ...NOTHING, roles: true });
});
