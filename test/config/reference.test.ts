// docs/operations.md carries the configuration reference that
// scripts/config-reference.ts generates from the settings table: adding or
// changing a setting without regenerating the docs fails here.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BEGIN_MARKER, END_MARKER, configReference } from '../../scripts/config-reference.js';
import { SETTINGS, envName } from '../../src/config/config.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('the reference has one row per setting, with its flag and environment variable', () => {
  const rows = configReference()
    .split('\n')
    .filter((line) => line.startsWith('| `'));
  assert.equal(rows.length, SETTINGS.length);
  for (const [index, setting] of SETTINGS.entries()) {
    assert.ok(rows[index]?.startsWith(`| \`${setting.key}\` | \`--${setting.key}`), `row ${index} is ${setting.key}`);
    assert.ok(rows[index]?.includes(`\`${envName(setting.key)}\``));
  }
});

test('docs/operations.md contains exactly the current output of scripts/config-reference.ts', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/config-reference.ts'], { cwd: REPO_ROOT });
  assert.equal(stdout, `${configReference()}\n`, 'the script prints the reference');
  const operations = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
  const start = operations.indexOf(BEGIN_MARKER);
  const end = operations.indexOf(END_MARKER);
  assert.ok(start >= 0 && end > start, 'docs/operations.md has the reference markers');
  assert.equal(
    operations.slice(start, end + END_MARKER.length),
    configReference(),
    'docs/operations.md is out of date: run `node --import tsx scripts/config-reference.ts` and paste its output between the markers',
  );
  assert.equal(operations.indexOf(BEGIN_MARKER, start + 1), -1, 'one reference only');
});
