// The baseline for the token check: the plainest uncached check of the same
// shape as the service's, on the same stack and the service's own database.
// Fastify with its defaults; SHA-256 of the token; one prepared statement (the
// token by its hash, joined to its user, the role ids in a subquery); the
// user as JSON. No hooks, no log, no metrics, no headers of its own, no row
// conversion beyond splitting the role ids.
//
//   node --import tsx bench/plain-check-server.ts PORT sqlite DATA_DIR
//   node --import tsx bench/plain-check-server.ts PORT postgres DATABASE_URL
//
// GET /rbac-api/v1/users/current (X-Authentication) and
// POST /rbac-api/v2/auth/token/authenticate ({"token": …}): the same paths the
// service answers, so the same load drives both.

import { createHash } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import pg from 'pg';

const [port, dialect, where] = process.argv.slice(2);
if (!port || (dialect !== 'sqlite' && dialect !== 'postgres') || !where) throw new Error('usage: plain-check-server.ts PORT sqlite|postgres DATA_DIR|DATABASE_URL');

const COLUMNS =
  'users.id, users.login, users.email, users.display_name, users.is_remote, users.is_superuser, users.is_revoked, users.last_login, ' +
  'users.failed_attempts, users.locked_at, users.revoked_by, users.password_change_required, ' +
  'login_tokens.expires_at, login_tokens.revoked_at';

interface Row {
  expires_at: number | string | null;
  revoked_at: number | string | null;
  role_ids: string | null;
  [column: string]: unknown;
}

let find: (tokenHash: string) => Promise<Row | undefined>;
if (dialect === 'sqlite') {
  const db = new Database(path.join(where, 'rbac.sqlite'), { readonly: true });
  db.pragma('busy_timeout = 5000');
  const statement = db.prepare(
    `select ${COLUMNS}, (select group_concat(user_roles.role_id, ',') from user_roles where user_roles.user_id = users.id) as role_ids ` +
      'from login_tokens inner join users on users.id = login_tokens.user_id where login_tokens.token_hash = ?',
  );
  find = async (tokenHash) => statement.get(tokenHash) as Row | undefined;
} else {
  const pool = new pg.Pool({ connectionString: where, max: 10 });
  const text =
    `select ${COLUMNS}, (select string_agg(user_roles.role_id::text, ',') from user_roles where user_roles.user_id = users.id) as role_ids ` +
    'from login_tokens inner join users on users.id = login_tokens.user_id where login_tokens.token_hash = $1';
  find = async (tokenHash) => (await pool.query<Row>({ name: 'plain_token_check', text, values: [tokenHash] })).rows[0];
}

async function checked(token: unknown): Promise<Record<string, unknown> | undefined> {
  if (typeof token !== 'string') return undefined;
  const row = await find(createHash('sha256').update(token, 'utf8').digest('hex'));
  if (!row) return undefined;
  const { role_ids, expires_at, revoked_at, ...user } = row;
  if (revoked_at !== null || (expires_at !== null && Number(expires_at) <= Date.now())) return undefined;
  return { ...user, role_ids: role_ids ? role_ids.split(',').map(Number) : [] };
}

const app = Fastify();
app.get('/', async () => ({ status: 'running' }));
app.get('/rbac-api/v1/users/current', async (request, reply) => (await checked(request.headers['x-authentication'])) ?? reply.code(401).send({ kind: 'user-unauthenticated' }));
app.post('/rbac-api/v2/auth/token/authenticate', async (request, reply) => (await checked((request.body as { token?: unknown } | undefined)?.token)) ?? reply.code(403).send({ kind: 'token-revoked' }));
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
