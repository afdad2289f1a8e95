import { sql, type Kysely } from 'kysely';

// Which directory a remote user comes from (CONTRACT §11): written by each
// directory login, read when a directory is deleted — PE removes the
// directory's users with it. Null for local users and for remote users made
// through the API. Remote users from before this column: when exactly one
// directory is set they can only have come from it, so they get its id;
// with several, their next login records theirs.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('directory_id', 'text', (column) => column.references('directories.id').onDelete('set null'))
    .execute();
  await db.schema.createIndex('users_directory').on('users').column('directory_id').execute();
  await sql`update users set directory_id = (select id from directories)
            where is_remote = 1 and (select count(*) from directories) = 1`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('users_directory').execute();
  await db.schema.alterTable('users').dropColumn('directory_id').execute();
}
