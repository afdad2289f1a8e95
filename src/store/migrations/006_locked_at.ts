import type { Kysely } from 'kysely';

// When failed logins locked a user, so that failed-attempts-lockout-duration
// can lift that lockout and not an administrator's revocation. Users revoked
// before this column existed get none: whatever revoked them, they stay
// revoked until someone reinstates them, as before.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('locked_at', 'bigint').execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('locked_at').execute();
}
