import type { Kysely } from 'kysely';

// Issuing a reset token supersedes the user's live ones with
// `where user_id = ? and spent_at is null and superseded_at is null`. With an
// index on user_id alone that visits every token the user was ever issued
// (spent and superseded ones stay as the record), so issuing got slower with
// each token. Indexing the state columns too finds the live ones directly; the
// index still serves lookups by user_id alone (the foreign key's cascade), so
// it replaces the old one.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('reset_tokens_user_live').on('reset_tokens').columns(['user_id', 'spent_at', 'superseded_at']).execute();
  await db.schema.dropIndex('reset_tokens_user').execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('reset_tokens_user').on('reset_tokens').column('user_id').execute();
  await db.schema.dropIndex('reset_tokens_user_live').execute();
}
