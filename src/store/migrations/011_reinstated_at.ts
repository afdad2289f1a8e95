import type { Kysely } from 'kysely';

// When the user was last reinstated (by an administrator, a reset token, or a
// lockout lifting itself): account expiry counts idle time from the latest of
// the last login, the creation and this, so a user reinstated after expiring
// gets a whole period to log in before the next sweep. Users reinstated
// before this column existed get none: their idle time counts from their last
// login or creation, as the first account-expiry sweeps would count it anyway.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('reinstated_at', 'bigint').execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('reinstated_at').execute();
}
