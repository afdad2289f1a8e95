// A service instance for tests: a fresh store (SQLite or PostgreSQL), the
// real hasher wrapped to count its work, and the Fastify app driven with
// inject() — the same code path as over the network, minus the socket.

import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { defaultConfig, type Config } from '../../src/config/config.js';
import { buildApp } from '../../src/http/app.js';
import { openServices } from '../../src/services.js';
import type { Store } from '../../src/store/database.js';
import { createLogger } from '../../src/http/logging.js';
import { createPasswordHasher, type PasswordHasher } from '../../src/passwords/hashing.js';
import { SigningKeyRing } from '../../src/password-reset/signing-keys.js';
import { ensureBootstrapAdmin } from '../../src/users/bootstrap.js';
import type { DestinationStream } from 'pino';
import { freshWorkspace, type DialectName, type Workspace } from './databases.js';
import { ADMIN_PASSWORD, USER_PASSWORD } from './passwords.js';
import { noteTokensIn, suiteLogStream } from './suite-log.js';

export { ADMIN_PASSWORD, COMPOSED_PASSWORD, COMPOSITION_RULES, USER_PASSWORD } from './passwords.js';

export interface HashCounts {
  hash: number;
  verify: number;
  verifyDummy: number;
}

export function countingHasher(inner: PasswordHasher): PasswordHasher & { counts: HashCounts } {
  const counts: HashCounts = { hash: 0, verify: 0, verifyDummy: 0 };
  return {
    counts,
    hash: (password) => (counts.hash++, inner.hash(password)),
    verify: (stored, password) => (counts.verify++, inner.verify(stored, password)),
    verifyDummy: (password) => (counts.verifyDummy++, inner.verifyDummy(password)),
    needsRehash: (stored) => inner.needsRehash(stored),
  };
}

let sharedHasher: Promise<PasswordHasher> | undefined;

export interface TestService {
  app: FastifyInstance;
  store: Store;
  config: Config;
  hasher: PasswordHasher & { counts: HashCounts };
  keys: SigningKeyRing;
  dialect: DialectName;
  workspace: Workspace;
  request(options: InjectOptions & { token?: string }): Promise<LightMyRequestResponse>;
  login(login: string, password: string): Promise<string>;
  adminToken(): Promise<string>;
  /** Creates a local user through the API (as admin) and returns its id. */
  createUser(login: string, extra?: Record<string, unknown>): Promise<string>;
  /** A reset token for the user, issued by admin (POST /users/:sid/password/reset). */
  resetToken(id: string): Promise<string>;
  close(): Promise<void>;
}

export interface TestServiceOptions {
  /** Share another instance's database (and data dir), as a second service process would. Not cleaned up by close(). */
  workspace?: Workspace;
  /** Where the service's log goes (at debug level); by default nowhere. */
  logStream?: DestinationStream;
  /** The clock password ages are judged by (a test moves it forward); the system clock otherwise. */
  now?: () => number;
}

export async function startTestService(dialect: DialectName, overrides: Partial<Config> = {}, options: TestServiceOptions = {}): Promise<TestService> {
  const workspace = options.workspace ?? (await freshWorkspace(dialect));
  const ownsWorkspace = !options.workspace;
  // Rate limits are off unless a test turns them on: most tests send far more
  // requests a minute from one address than any real client would.
  const config = defaultConfig({
    dataDir: workspace.dataDir,
    databaseUrl: workspace.databaseUrl,
    insecureHttp: true,
    rateLimitPerAddress: 0,
    rateLimitPerAccount: 0,
    ...overrides,
  });
  sharedHasher ??= createPasswordHasher();
  const hasher = countingHasher(await sharedHasher);
  // The same composition root as the server and the CLI, with a hasher that counts.
  const services = await openServices(config, { hasher, ...(options.now ? { now: options.now } : {}) });
  const { store, keys } = services;
  // The admin's password is checked against the default rules, as if the test's
  // rules had been set after the first start: tests of composition rules can
  // still log in as admin with ADMIN_PASSWORD.
  await ensureBootstrapAdmin({ db: store.db, hasher, rules: defaultConfig() }, ADMIN_PASSWORD);
  // RBAC_TEST_LOG=debug shows the service's log on stdout while debugging a test;
  // otherwise it goes to test-results/logs/ to be searched for secrets at the end.
  const logger = options.logStream
    ? createLogger('debug', options.logStream)
    : process.env.RBAC_TEST_LOG
      ? createLogger(process.env.RBAC_TEST_LOG)
      : createLogger('debug', suiteLogStream());
  await keys.ensureKey();
  const app = await buildApp(services, { logger });
  await app.ready();

  let cachedAdminToken: string | undefined;
  const service: TestService = {
    app,
    store,
    config,
    hasher,
    keys,
    dialect,
    async request({ token, headers, ...options }) {
      const response = await app.inject({ ...options, headers: { ...(token ? { 'x-authentication': token } : {}), ...headers } });
      noteTokensIn(response.body);
      return response;
    },
    async login(login, password) {
      const response = await service.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: { login, password } });
      if (response.statusCode !== 200) throw new Error(`login ${login} failed: ${response.statusCode} ${response.body}`);
      return (response.json() as { token: string }).token;
    },
    async adminToken() {
      cachedAdminToken ??= await service.login('admin', ADMIN_PASSWORD);
      return cachedAdminToken;
    },
    async createUser(login, extra = {}) {
      const response = await service.request({
        method: 'POST',
        url: '/rbac-api/v1/users',
        token: await service.adminToken(),
        payload: { login, email: `${login}@example.com`, display_name: login, password: USER_PASSWORD, ...extra },
      });
      if (response.statusCode !== 201) throw new Error(`create ${login} failed: ${response.statusCode} ${response.body}`);
      return (response.json() as { id: string }).id;
    },
    async resetToken(id) {
      const response = await service.request({ method: 'POST', url: `/rbac-api/v1/users/${id}/password/reset`, token: await service.adminToken() });
      if (response.statusCode !== 201) throw new Error(`reset token for ${id} failed: ${response.statusCode} ${response.body}`);
      return response.body;
    },
    async close() {
      await app.close();
      await store.close();
      if (ownsWorkspace) await workspace.cleanup();
    },
    workspace,
  };
  return service;
}

/** A service and a login token of its bootstrap admin: what most suites start with, in `before`. */
export async function startServiceWithAdmin(...args: Parameters<typeof startTestService>): Promise<{ service: TestService; admin: string }> {
  const service = await startTestService(...args);
  return { service, admin: await service.adminToken() };
}
