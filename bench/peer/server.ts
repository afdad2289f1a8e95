// The peer: better-auth's email/password flows on SQLite (better-sqlite3),
// served by a minimal Node HTTP server.
// `node --import tsx bench/peer/server.ts PORT DATA_DIR`
//
// Configured to do the same work as the service where better-auth allows it:
// - passwords hashed with argon2id at the service's parameters
//   (CURRENT_PARAMETERS, @node-rs/argon2), through better-auth's
//   emailAndPassword.password.hash/verify options (its default is scrypt);
// - SQLite in WAL mode with synchronous=NORMAL, as the service opens it;
// - a reset revokes the user's sessions (revokeSessionsOnPasswordReset), as
//   the service's reset revokes login tokens;
// - its rate limiter off, as the service's limits are off in the benchmark.
//
// Reset links would be e-mailed; here sendResetPassword keeps the tokens, and
// GET /bench/reset-tokens hands them to the benchmark (and forgets them).

import { createServer } from 'node:http';
import path from 'node:path';
import { hash, verify } from '@node-rs/argon2';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import Database from 'better-sqlite3';
import { CURRENT_PARAMETERS } from '../../src/passwords/hashing.js';

const port = Number(process.argv[2]);
const dataDir = process.argv[3] as string;
const baseURL = `http://127.0.0.1:${port}`;

const database = new Database(path.join(dataDir, 'peer.sqlite'));
database.pragma('journal_mode = WAL');
database.pragma('synchronous = NORMAL');
database.pragma('foreign_keys = ON');
database.pragma('busy_timeout = 10000');

const argon2Options = { ...CURRENT_PARAMETERS, algorithm: 2 /* argon2id */ };
const resetTokens: { email: string; token: string }[] = [];

const options = {
  baseURL,
  secret: 'bench-only-secret-bench-only-secret-0123456789',
  database,
  telemetry: { enabled: false },
  rateLimit: { enabled: false },
  logger: { level: 'error' as const },
  emailAndPassword: {
    enabled: true,
    minPasswordLength: 12,
    revokeSessionsOnPasswordReset: true,
    password: {
      hash: (password: string) => hash(password.normalize('NFKC'), argon2Options),
      verify: async ({ hash: stored, password }: { hash: string; password: string }) => {
        try {
          return await verify(stored, password.normalize('NFKC'));
        } catch {
          return false;
        }
      },
    },
    async sendResetPassword({ user, token }: { user: { email: string }; token: string }) {
      resetTokens.push({ email: user.email, token });
    },
  },
};

const { runMigrations } = await getMigrations(options);
await runMigrations();
const auth = betterAuth(options);
const handler = toNodeHandler(auth);

/** Users for the reset flow, made the way sign-up makes them but with one hash for all (setup, not measured). */
async function seed(emails: string[], password: string): Promise<void> {
  const context = await auth.$context;
  const passwordHash = await options.emailAndPassword.password.hash(password);
  for (const email of emails) {
    const user = await context.internalAdapter.createUser({ email, name: email, emailVerified: false }, { method: 'email-password' });
    await context.internalAdapter.linkAccount({ userId: user.id, providerId: 'credential', accountId: user.id, password: passwordHash });
  }
}

const server = createServer((request, response) => {
  if (request.url === '/bench/ready') return void response.end('ok');
  if (request.url === '/bench/reset-tokens') {
    response.setHeader('content-type', 'application/json');
    return void response.end(JSON.stringify(resetTokens.splice(0)));
  }
  if (request.url === '/bench/seed' && request.method === 'POST') {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const { emails, password } = JSON.parse(body) as { emails: string[]; password: string };
      seed(emails, password).then(
        () => response.end('ok'),
        (error: unknown) => {
          response.statusCode = 500;
          response.end(String(error));
        },
      );
    });
    return;
  }
  void handler(request, response);
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
