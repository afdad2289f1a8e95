import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../dialect.js';

// Login tokens get a public id and a last-activity time (CONTRACT §10).
//
// `id` is a random UUID that names a token without being it: GET
// /users/:sid/tokens lists it, DELETE /rbac-api/v2/tokens revokes by it
// (revoke_tokens_by_ids). The token's hash stays the primary key, so the
// lookup every request makes is unchanged. Tokens made before this migration
// get an id here.
//
// `last_active` is when the token was last used, written at most about once
// a minute per token (src/login/login-tokens.ts). Existing tokens start at
// their creation time.
//
// On SQLite an added column cannot be NOT NULL without a default, so there
// the columns stay nullable and the code always sets them; PostgreSQL gets
// NOT NULL after the backfill.

// A version-4 UUID in SQLite's SQL (PostgreSQL has gen_random_uuid()).
const sqliteUuid = sql`lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = isPostgres(db);
  await db.schema.alterTable('login_tokens').addColumn('id', 'text').execute();
  await db.schema.alterTable('login_tokens').addColumn('last_active', 'bigint').execute();
  await db
    .updateTable('login_tokens')
    .set({ id: postgres ? sql`gen_random_uuid()::text` : sqliteUuid, last_active: sql`created_at` })
    .execute();
  if (postgres) {
    await sql`alter table login_tokens alter column id set not null, alter column last_active set not null`.execute(db);
  }
  await db.schema.createIndex('login_tokens_id').on('login_tokens').column('id').unique().execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('login_tokens_id').execute();
  await db.schema.alterTable('login_tokens').dropColumn('last_active').execute();
  await db.schema.alterTable('login_tokens').dropColumn('id').execute();
}
