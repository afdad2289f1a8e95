// Runs last in `npm test` (node sorts test files by path, hence zz-end/):
// searches everything the services logged during the whole suite
// (test-results/logs/) for every password and token the suite used. None may
// appear.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { requireUnderCi } from '../kit/requirements.js';
import { SUITE_LOG_DIR } from '../kit/suite-log.js';
import { ADMIN_PASSWORD, COMPOSED_PASSWORD, USER_PASSWORD } from '../kit/service.js';

// Run alone, there is nothing to search; under CI it always runs after the suite, so no logs is a failure.
const skip = requireUnderCi(existsSync(SUITE_LOG_DIR) ? undefined : `no suite logs in ${SUITE_LOG_DIR}`, 'run it after the suite (npm test)');

test('no password or token used by the suite appears in any service log', { skip }, () => {
  const files = readdirSync(SUITE_LOG_DIR);
  const logs = files.filter((file) => file.endsWith('.log')).map((file) => readFileSync(path.join(SUITE_LOG_DIR, file), 'utf8'));
  const secrets = new Set(
    files
      .filter((file) => file.startsWith('secrets-'))
      .flatMap((file) => readFileSync(path.join(SUITE_LOG_DIR, file), 'utf8').split('\n'))
      .filter((secret) => secret.length >= 20),
  );
  const text = logs.join('\n');
  assert.ok(text.includes('"msg":"request completed"'), 'the suite did log requests');
  assert.ok(secrets.size > 50, `the suite noted its tokens (${secrets.size})`);
  for (const password of [ADMIN_PASSWORD, USER_PASSWORD, COMPOSED_PASSWORD]) assert.ok(!text.includes(password), `a password is in the logs: ${password}`);
  for (const secret of secrets) assert.ok(!text.includes(secret), `a token is in the logs: ${secret.slice(0, 16)}…`);
  assert.doesNotMatch(text, /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]{20,}/, 'no JWT in the logs');
  assert.doesNotMatch(text, /"(current_)?password"\s*:\s*"(?!\[REDACTED\])/, 'no password field in the logs');
});
