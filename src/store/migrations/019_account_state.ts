import { sql, type Kysely } from 'kysely';

// The account state shown beside PE's keys (CONTRACT §15):
// - revoked_by: what revoked the user ('lockout', 'administrator', 'expiry'),
//   written by the statement that revokes and cleared by every reinstatement.
//   Users revoked before this column existed: a lockout time says 'lockout';
//   the rest count as 'administrator' (an expiry before then left no trace).
// - password_changed_at: the password-age clock. Passwords set before this
//   column existed start their clock at the migration, so turning on
//   password-maximum-age-days later does not force every old password at once.
// - password_change_required: the user must change its password before its
//   login tokens reach anything but the password change itself.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('revoked_by', 'text').execute();
  await db.schema.alterTable('users').addColumn('password_changed_at', 'bigint').execute();
  await db.schema
    .alterTable('users')
    .addColumn('password_change_required', 'integer', (column) => column.notNull().defaultTo(0))
    .execute();
  await sql`update users set revoked_by = case when locked_at is not null then 'lockout' else 'administrator' end where is_revoked = 1`.execute(db);
  await sql`update users set password_changed_at = ${Date.now()} where password_hash is not null`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('password_change_required').execute();
  await db.schema.alterTable('users').dropColumn('password_changed_at').execute();
  await db.schema.alterTable('users').dropColumn('revoked_by').execute();
}
