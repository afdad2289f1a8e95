import { sql, type Kysely } from 'kysely';
import { DEFAULT_ROLES, defaultRolePermissions } from '../../catalogue/catalogue.js';
import { isPostgres } from '../dialect.js';

// PE's default roles besides Administrators (migration 009): Operators,
// Viewers, Code Deployers and Project Deployers, at the ids a fresh PE gives
// them and with the permissions PE's reference gives them, read from the
// catalogue (src/permissions/catalogue.ts). A fresh database gets all four.
// On a database whose users already made roles, a default role is added only
// where both its id and its name are free: a role of theirs at that id, or
// with that name, stays exactly as it is, and the operator is told which.

const ADDED = DEFAULT_ROLES.filter((role) => role.id !== 1);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, notice: (message: string) => void): Promise<void> {
  for (const role of ADDED) {
    const taken = await db
      .selectFrom('roles')
      .select(['id', 'display_name'])
      .where((eb) => eb.or([eb('id', '=', role.id), eb('display_name', '=', role.display_name)]))
      .orderBy('id')
      .execute();
    if (taken.length > 0) {
      const kept = taken.map((row: { id: number; display_name: string }) => `role ${row.id} ("${row.display_name}")`).join(' and ');
      notice(`PE's default role ${role.display_name} (id ${role.id}) was not added: ${kept} already exists and is kept as it is.`);
      continue;
    }
    await db
      .insertInto('roles')
      .values({ id: role.id, display_name: role.display_name, description: role.description, permissions: JSON.stringify(defaultRolePermissions(role)) })
      .execute();
  }
  // An explicit id does not move PostgreSQL's sequence: the next role would get one of these ids again.
  if (isPostgres(db)) await sql`select setval(pg_get_serial_sequence('roles', 'id'), (select max(id) from roles))`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  for (const role of ADDED) await db.deleteFrom('roles').where('id', '=', role.id).where('display_name', '=', role.display_name).execute();
}
