import type { Kysely } from 'kysely';

// One row that a login for an unknown account updates where a real login
// claims an attempt on its user's row: both then commit a write, and their
// answers take equally long (a commit that writes costs a disk flush).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('decoy_attempts')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('attempts', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.insertInto('decoy_attempts').values({ id: 1, attempts: 0 }).execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('decoy_attempts').execute();
}
