// The bootstrap admin with a generated password: it always
// meets the configured policy, however long the minimum length is set.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createPasswordHasher } from '../../src/passwords/hashing.js';
import { defaultConfig } from '../../src/config/config.js';
import { passwordFailures } from '../../src/passwords/policy.js';
import { openStore } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { ensureBootstrapAdmin } from '../../src/users/bootstrap.js';
import { describeEachDatabase, freshWorkspace } from '../kit/databases.js';

describeEachDatabase('bootstrap admin', (target) => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  for (const minimumLength of [12, 40]) {
    test(`with password-minimum-length ${minimumLength} the generated password meets the policy and is the admin's password`, async () => {
      const workspace = await freshWorkspace(target.dialect);
      const store = openStore({ dataDir: workspace.dataDir, databaseUrl: workspace.databaseUrl });
      cleanups.push(workspace.cleanup, () => store.close());
      await migrateToLatest(store);
      const hasher = await createPasswordHasher();
      const result = await ensureBootstrapAdmin({ db: store.db, hasher, rules: defaultConfig({ passwordMinimumLength: minimumLength }) }, undefined);
      assert.equal(result.created, true);
      const password = result.generatedPassword as string;
      assert.ok(password.length >= Math.max(24, minimumLength), `${password.length} characters`);
      assert.deepEqual(passwordFailures(password, defaultConfig({ passwordMinimumLength: minimumLength }), 'admin'), []);
      const row = await store.db.selectFrom('users').select('password_hash').where('login', '=', 'admin').executeTakeFirstOrThrow();
      assert.ok(await hasher.verify(row.password_hash as string, password));
      assert.deepEqual(await ensureBootstrapAdmin({ db: store.db, hasher, rules: defaultConfig({ passwordMinimumLength: minimumLength }) }, undefined), { created: false }, 'only once');
    });
  }
});
