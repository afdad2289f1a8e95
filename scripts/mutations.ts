// Proof that the suite bites: applies one-line mutations to security rules in
// a scratch copy of the checkout (its tracked files as they are now, edits
// included), runs the tests that guard each rule on SQLite and PostgreSQL, and
// reports which tests failed. Every mutation must be caught by at least one
// test; the script exits 1 if one survives (or no longer applies: the code it
// mutates has moved, so the list below needs updating). Run on demand, not in
// CI (a build and a few test files per mutation, some minutes in all):
//
//   npm run mutations                  # every mutation
//   npm run mutations -- attempt-claim # some of them, by name
//
// docs/security.md ("Does the suite bite?") lists the last results.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface Edit {
  file: string;
  /** The exact text replaced; it must occur once in the file. */
  from: string;
  to: string;
}

interface Mutation {
  name: string;
  rule: string;
  edits: Edit[];
  tests: string[];
}

export const MUTATIONS: Mutation[] = [
  {
    name: 'attempt-claim',
    rule: 'Lockout: at most failed-attempts-lockout password checks (one extra attempt claimed)',
    edits: [
      { file: 'src/store/users.ts', from: ".where('failed_attempts', '<', limit)", to: ".where('failed_attempts', '<=', limit)" },
      { file: 'src/store/users.ts', from: 'and users.is_revoked = 0 and users.failed_attempts < ${limit}', to: 'and users.is_revoked = 0 and users.failed_attempts <= ${limit}' },
    ],
    tests: ['test/login/lockout.test.ts', 'test/login/attempts.test.ts'],
  },
  {
    name: 'single-use',
    rule: 'A reset token is single use (a spent token still counts as live)',
    edits: [{ file: 'src/store/reset-tokens.ts', from: "eb.and([eb('spent_at', 'is', null), eb('superseded_at', 'is', null)])", to: "eb('superseded_at', 'is', null)" }],
    tests: ['test/password-reset/reset-password.test.ts', 'test/password-reset/reset-token-lifecycle.test.ts'],
  },
  {
    name: 'revoke-on-password-change',
    rule: "A password change or reset revokes the user's other login tokens",
    edits: [{ file: 'src/passwords/credentials.ts', from: '  await loginTokens.revokeAllOf(trx, user.id, now, how.keepLoginToken);', to: '  void loginTokens;' }],
    tests: ['test/self-service/change-password.test.ts', 'test/password-reset/reset-password.test.ts'],
  },
  {
    name: 'kid-binding',
    rule: "A reset token is bound to the key that signed it (the row's kid is not compared)",
    edits: [{ file: 'src/store/reset-tokens.ts', from: "    eb('kid', '=', token.kid),\n", to: '' }],
    tests: ['test/password-reset/signing-keys.test.ts', 'test/password-reset/reset-token-rules.test.ts'],
  },
  {
    name: 'escalation',
    rule: 'No escalation through assignment: only a superuser gives a role holding permissions the giver lacks',
    edits: [
      {
        file: 'src/roles/authorization.ts',
        from: '  for (const role of await roles.byIds(db, roleIds)) assertHoldsAll(held, rolePermissions(role), `Giving the role "${role.display_name}"`);',
        to: '  void [roles, rolePermissions];',
      },
    ],
    tests: ['test/roles/members.test.ts', 'test/users/create.test.ts', 'test/users/edit.test.ts'],
  },
];

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function run(command: string, args: string[], cwd: string): { status: number | null; output: string } {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, FORCE_COLOR: '0' } });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The tracked files as they are in the working tree, copied to `scratch`, with the checkout's node_modules linked. */
function copyCheckout(scratch: string): string[] {
  const files = run('git', ['ls-files', '-z'], REPO).output.split('\0').filter(Boolean);
  for (const file of files) {
    mkdirSync(path.dirname(path.join(scratch, file)), { recursive: true });
    copyFileSync(path.join(REPO, file), path.join(scratch, file));
  }
  symlinkSync(path.join(REPO, 'node_modules'), path.join(scratch, 'node_modules'));
  return files;
}

/** A failed test as docs/security.md cites it: its file, and its name up to any backtick (a code span cannot hold one). */
export interface FailedTest {
  file: string;
  name: string;
}

/** The names of the failed tests (not of the suites around them) in node:test's TAP output of one file. */
export function failedTestNames(tap: string): string[] {
  const failed: string[] = [];
  const lines = tap.split('\n');
  lines.forEach((line, index) => {
    const match = /^\s*not ok \d+ - (.*)$/.exec(line);
    if (!match) return;
    const block = lines.slice(index + 1, index + 12).join('\n');
    if (/failureType: 'subtestsFailed'/.test(block)) return;
    failed.push((match[1] as string).split('`')[0]?.trim() ?? '');
  });
  return failed;
}

/** The failed tests of each file, run one file at a time so that each failure names its file. */
function runTests(scratch: string, files: string[]): FailedTest[] {
  return files.flatMap((file) =>
    failedTestNames(run(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', file], scratch).output).map((name) => ({ file, name })),
  );
}

function applyEdits(scratch: string, edits: Edit[]): string | undefined {
  for (const edit of edits) {
    const file = path.join(scratch, edit.file);
    const text = readFileSync(file, 'utf8');
    const occurrences = text.split(edit.from).length - 1;
    if (occurrences !== 1) return `${edit.file}: the text to mutate occurs ${occurrences} times (expected once)`;
    writeFileSync(file, text.replace(edit.from, edit.to));
  }
  return undefined;
}

function restore(scratch: string, edits: Edit[]): void {
  for (const edit of edits) copyFileSync(path.join(REPO, edit.file), path.join(scratch, edit.file));
}

function main(names: string[]): number {
  const chosen = names.length === 0 ? MUTATIONS : MUTATIONS.filter((mutation) => names.includes(mutation.name));
  if (chosen.length === 0) {
    process.stderr.write(`unknown mutation; known: ${MUTATIONS.map((mutation) => mutation.name).join(', ')}\n`);
    return 2;
  }
  const scratch = mkdtempSync(path.join(tmpdir(), 'rbac-mutations-'));
  const rows: string[] = [];
  let survived = 0;
  try {
    copyCheckout(scratch);
    for (const mutation of chosen) {
      process.stderr.write(`${mutation.name}: `);
      let problem = applyEdits(scratch, mutation.edits);
      let caught: FailedTest[] = [];
      if (problem === undefined) {
        // The tests run the CLI and child services from dist/: build the mutant there too.
        // The compiler from node_modules, run by node: a package runner on an empty cache would install the checkout and run its prepare script.
        const build = run(process.execPath, [path.join(scratch, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], scratch);
        if (build.status !== 0) problem = `the mutant does not compile: ${build.output.split('\n')[0]}`;
        else caught = runTests(scratch, mutation.tests);
      }
      restore(scratch, mutation.edits);
      const verdict = problem ?? (caught.length > 0 ? `caught by ${caught.length}` : 'SURVIVED');
      if (problem !== undefined || caught.length === 0) survived++;
      process.stderr.write(`${verdict}\n`);
      const names = [...new Set(caught.map(({ file, name }) => `\`${file}\` › \`${name}\``))].join('<br>');
      rows.push(`| \`${mutation.name}\` | ${mutation.rule} | ${mutation.tests.map((file) => `\`${file}\``).join(', ')} | ${problem ?? (caught.length > 0 ? names : '**survived**')} |`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  process.stdout.write(`${['| mutation | rule broken | tests run | tests that failed |', '|---|---|---|---|', ...rows].join('\n')}\n`);
  return survived === 0 ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('mutations.ts')) process.exitCode = main(process.argv.slice(2));
