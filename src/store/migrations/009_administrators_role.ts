import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../dialect.js';

// PE's default role Administrators, at id 1, holding every permission on "*"
// (the service treats role 1 as holding every permission there is, whatever
// this list says, so types added later need no migration), and the bootstrap
// `admin` as its member.
//
// A database may already have a role with id 1, created by its users: that
// role moves to a new id with its name, description, permissions and members
// (docs/decisions.md). No permission names a role yet (user_roles is new with
// this version), so nothing else refers to the old id. A role of the users'
// already named "Administrators" becomes "Administrators (role N)".

const ID = 1;
const NAME = 'Administrators';
const PERMISSIONS = [
  ['users', 'create'],
  ['users', 'edit'],
  ['users', 'disable'],
  ['users', 'reset_password'],
  ['user_roles', 'create'],
  ['user_roles', 'edit'],
  ['user_roles', 'edit_members'],
  ['user_groups', 'import'],
  ['user_groups', 'delete'],
  ['directory_service', 'edit'],
  ['configuration', 'view'],
  ['configuration', 'edit'],
  ['tokens', 'override_lifetime'],
].map(([object_type, action]) => ({ object_type, action, instance: '*' }));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  const existing = await db.selectFrom('roles').selectAll().where('id', '=', ID).executeTakeFirst();
  if (existing) {
    // Free the name first (it is unique), then copy the role under a new id and move its members.
    await db.updateTable('roles').set({ display_name: `role ${ID} moved by migration 009` }).where('id', '=', ID).execute();
    const { id } = await db
      .insertInto('roles')
      .values({ display_name: existing.display_name, description: existing.description, permissions: existing.permissions })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db.updateTable('user_roles').set({ role_id: id }).where('role_id', '=', ID).execute();
    await db.deleteFrom('roles').where('id', '=', ID).execute();
  }
  const namesake = await db.selectFrom('roles').select('id').where('display_name', '=', NAME).executeTakeFirst();
  if (namesake) await db.updateTable('roles').set({ display_name: `${NAME} (role ${namesake.id})` }).where('id', '=', namesake.id).execute();

  await db
    .insertInto('roles')
    .values({ id: ID, display_name: NAME, description: 'Every permission. Its permissions cannot change and it cannot be deleted.', permissions: JSON.stringify(PERMISSIONS) })
    .execute();
  // An explicit id does not move PostgreSQL's sequence: the next role would get id 1 again.
  if (isPostgres(db)) await sql`select setval(pg_get_serial_sequence('roles', 'id'), (select max(id) from roles))`.execute(db);

  const admin = await db.selectFrom('users').select('id').where('login_key', '=', 'admin').executeTakeFirst();
  if (admin) await db.insertInto('user_roles').values({ user_id: admin.id, role_id: ID }).execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.deleteFrom('roles').where('id', '=', ID).execute();
}
