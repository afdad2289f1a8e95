import type { Kysely } from 'kysely';

// A remote user is bound to its directory entry (CONTRACT §11), not only to
// its login: the directory it logged in through, the entry's DN and, where
// the directory gives one, the entry's stable id (entryUUID, objectGUID,
// nsUniqueId: it survives a move). All null until the user's first successful
// directory login records them; remote users from before this migration, and
// those created through the API, are bound at their next one.
//
// directory_id refers to the directory without a delete action: deleting a
// directory deletes its bound users first (src/directory/directories.ts), so
// a delete that skipped them fails instead of leaving users bound to nothing.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('directory_id', 'text', (c) => c.references('directories.id'))
    .execute();
  await db.schema.alterTable('users').addColumn('directory_dn', 'text').execute();
  await db.schema.alterTable('users').addColumn('directory_entry_id', 'text').execute();
  await db.schema.createIndex('users_directory_id').on('users').column('directory_id').execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('users_directory_id').execute();
  await db.schema.alterTable('users').dropColumn('directory_entry_id').execute();
  await db.schema.alterTable('users').dropColumn('directory_dn').execute();
  await db.schema.alterTable('users').dropColumn('directory_id').execute();
}
