import type { Kysely } from 'kysely';
import { loginKey, loginSkeleton } from '../../logins.js';

// Look-alike logins (`аdmin` with a Cyrillic а next to `admin`) are refused by
// a unique index on each login's TR39 skeleton, which holds under concurrent
// writers too. Existing users get theirs here. Where existing logins already
// look alike, the bootstrap admin and then the oldest user keep the skeleton
// and the others get none (null is not unique-checked): they stay as they
// are, and the migration never fails on data it cannot change.

const ADMIN_KEY = loginKey('admin');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('login_skeleton', 'text').execute();

  const rows: { id: string; login: string; login_key: string }[] = await db
    .selectFrom('users')
    .select(['id', 'login', 'login_key'])
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  rows.sort((a, b) => Number(b.login_key === ADMIN_KEY) - Number(a.login_key === ADMIN_KEY));
  const taken = new Set<string>();
  for (const row of rows) {
    const skeleton = loginSkeleton(row.login);
    if (taken.has(skeleton)) continue;
    taken.add(skeleton);
    await db.updateTable('users').set({ login_skeleton: skeleton }).where('id', '=', row.id).execute();
  }

  // Named like a column's UNIQUE constraint, so store/errors.ts recognises a refusal on PostgreSQL.
  await db.schema.createIndex('users_login_skeleton_key').on('users').column('login_skeleton').unique().execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('users_login_skeleton_key').execute();
  await db.schema.alterTable('users').dropColumn('login_skeleton').execute();
}
