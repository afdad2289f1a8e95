import type { Kysely } from 'kysely';
import { isPostgres } from '../dialect.js';

// PE's number-of-previous-passwords: the hashes of each user's earlier
// passwords (src/store/password-history.ts). The current password stays in
// users.password_hash and counts as one of the last N, so this table holds
// only replaced ones, and nothing is seeded here: every user's current hash is
// already where the check reads it, and moves into this table when it is
// replaced. Passwords replaced before this migration were never kept.
// The id orders a user's rows (two replacements may share a millisecond).

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = isPostgres(db);
  await db.schema
    .createTable('password_history')
    .addColumn('id', postgres ? 'bigserial' : 'integer', (c) => (postgres ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  // A user's newest rows first, and the foreign key's cascade.
  await db.schema.createIndex('password_history_user').on('password_history').columns(['user_id', 'id']).execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('password_history').execute();
}
