import type { Kysely } from 'kysely';
import { loginKey, loginSkeleton } from '../../logins.js';
import type { MigrationNotice } from '../migrate.js';

// The look-alike rule got stronger (src/logins.ts): accents, small capitals,
// Unicode case folding and Cyrillic or Greek capitals now fold too. Every
// user's skeleton is computed anew. Where existing logins now look alike, the
// bootstrap admin and then the older user keep the skeleton and the newer one
// gets none, as in 005: it keeps its login and its account, the migration
// never fails on data it cannot change, and a notice names it for the
// operator. Logins and login keys stay as they are: nobody logs in as anyone
// else. Groups have no skeleton.

const ADMIN_KEY = loginKey('admin');

// Ids per UPDATE … WHERE id IN (…), well below either database's limit on parameters.
const CHUNK = 500;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, notice: MigrationNotice): Promise<void> {
  const rows: { id: string; login: string; login_key: string; login_skeleton: string | null }[] = await db
    .selectFrom('users')
    .select(['id', 'login', 'login_key', 'login_skeleton'])
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  rows.sort((a, b) => Number(b.login_key === ADMIN_KEY) - Number(a.login_key === ADMIN_KEY));

  const holders = new Map<string, string>();
  const grandfathered: { login: string; looksLike: string }[] = [];
  const changed: { id: string; skeleton: string | null }[] = [];
  for (const row of rows) {
    const computed = loginSkeleton(row.login);
    const holder = holders.get(computed);
    if (holder === undefined) holders.set(computed, row.login);
    else grandfathered.push({ login: row.login, looksLike: holder });
    const skeleton = holder === undefined ? computed : null;
    if (skeleton !== row.login_skeleton) changed.push({ id: row.id, skeleton });
  }

  // Cleared first: a row's new skeleton may be one another changed row still holds.
  for (let start = 0; start < changed.length; start += CHUNK) {
    const ids = changed.slice(start, start + CHUNK).map((row) => row.id);
    await db.updateTable('users').set({ login_skeleton: null }).where('id', 'in', ids).execute();
  }
  for (const { id, skeleton } of changed) {
    if (skeleton !== null) await db.updateTable('users').set({ login_skeleton: skeleton }).where('id', '=', id).execute();
  }

  for (const { login, looksLike } of grandfathered) {
    notice(`The login "${login}" looks like the older login "${looksLike}" under the stronger look-alike rule: its user keeps it, without a skeleton (grandfathered).`);
  }
}

// Going back leaves the skeletons as they are: older code only compares new
// logins against them, and nothing fails on them.
export async function down(): Promise<void> {}
