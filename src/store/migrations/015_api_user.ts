import type { Kysely } from 'kysely';
import { loginKey, loginSkeleton } from '../../logins.js';
import type { MigrationNotice } from '../migrate.js';

// PE's built-in api_user (CONTRACT §12): the superuser a request with an
// allowlisted client certificate acts as, at the id PE gives it
// (src/users/api-user.ts), holding the default role Administrators as in
// PE. A database where a user of its own already has that login or id keeps
// that user as it is, and the operator is told that certificates will
// authenticate nobody until it is renamed or removed.
//
// Audit events get the column that names the certname an api_user request
// carried (actor_certname).
//
// Numbers are handed out before the work lands: this may run after 016–019,
// so it writes only columns that exist since 014 and leaves the later ones to
// their defaults.

const ID = 'af94921f-bd76-4b58-b5ce-e17c029a2790';
const LOGIN = 'api_user';
const ADMINISTRATORS_ROLE_ID = 1;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, notice: MigrationNotice): Promise<void> {
  await db.schema.alterTable('audit_events').addColumn('actor_certname', 'text').execute();

  const taken = await db
    .selectFrom('users')
    .select(['id', 'login'])
    .where((eb) => eb.or([eb('id', '=', ID), eb('login_key', '=', loginKey(LOGIN))]))
    .execute();
  if (taken.length > 0) {
    const kept = taken.map((row: { id: string; login: string }) => `"${row.login}" (${row.id})`).join(' and ');
    notice(`PE's api_user was not added: the user ${kept} already exists and is kept as it is; allowlisted client certificates authenticate nobody, and that login is refused a password login (401 api-user-login), until it is renamed or removed.`);
    return;
  }
  // A grandfathered look-alike may hold the skeleton: api_user then has none, as in 014.
  const skeleton = loginSkeleton(LOGIN);
  const lookAlike = await db.selectFrom('users').select('id').where('login_skeleton', '=', skeleton).executeTakeFirst();
  await db
    .insertInto('users')
    .values({
      id: ID,
      login: LOGIN,
      login_key: loginKey(LOGIN),
      login_skeleton: lookAlike ? null : skeleton,
      email: '',
      display_name: 'API User',
      is_remote: 0,
      is_superuser: 1,
      is_revoked: 0,
      password_hash: null,
      failed_attempts: 0,
      created_at: Date.now(),
    })
    .execute();
  const administrators = await db.selectFrom('roles').select('id').where('id', '=', ADMINISTRATORS_ROLE_ID).executeTakeFirst();
  if (administrators) await db.insertInto('user_roles').values({ user_id: ID, role_id: ADMINISTRATORS_ROLE_ID }).execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.deleteFrom('users').where('id', '=', ID).execute();
  await db.schema.alterTable('audit_events').dropColumn('actor_certname').execute();
}
