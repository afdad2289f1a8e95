import type { Kysely } from 'kysely';

// Remote users from a directory service (CONTRACT §11):
// - directories: the LDAP connections set through PE's /command/ldap/* and
//   /ds routes. `settings` is the JSON of PE's fields without the bind
//   password; `bind_password` is kept apart so that no read of the settings
//   can carry it out by mistake.
// - groups: directory groups imported by name, with roles (group_roles).
// - user_groups: which imported groups each remote user was in at their last
//   login; members inherit the groups' roles through it.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('directories')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('bind_password', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('groups')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('login', 'text', (c) => c.notNull())
    // Directory names compare without regard to case, as LDAP's do.
    .addColumn('login_key', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('directory_id', 'text', (c) => c.references('directories.id').onDelete('set null'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('groups_login_key').on('groups').column('login_key').unique().execute();

  await db.schema
    .createTable('group_roles')
    .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
    .addColumn('role_id', 'integer', (c) => c.notNull().references('roles.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('group_roles_pk', ['group_id', 'role_id'])
    .execute();
  await db.schema.createIndex('group_roles_role').on('group_roles').column('role_id').execute();

  await db.schema
    .createTable('user_groups')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('user_groups_pk', ['user_id', 'group_id'])
    .execute();
  await db.schema.createIndex('user_groups_group').on('user_groups').column('group_id').execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('user_groups').execute();
  await db.schema.dropTable('group_roles').execute();
  await db.schema.dropTable('groups').execute();
  await db.schema.dropTable('directories').execute();
}
