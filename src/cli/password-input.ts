// Where a command gets a new password: a no-echo terminal prompt (asked
// twice; the first entry is checked against every rule, the history included,
// at once and asked again while it breaks one), standard input with --password-stdin, or
// --password (with a warning: it lands in shell history and the process list).

import { read } from 'read';
import { CliError, EXIT, warn } from './context.js';

export interface PasswordSource {
  password?: string | undefined;
  passwordStdin?: boolean | undefined;
}

/** The rules a password breaks, in words (empty: acceptable). */
export type PasswordCheck = (password: string) => readonly string[] | Promise<readonly string[]>;

/** How often the prompt asks again for a password that breaks the policy before it gives up. */
export const PROMPT_ATTEMPTS = 3;

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline is the end of the line, not part of the password.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function prompt(label: string): Promise<string> {
  // Ctrl-D closes the prompt without an answer and leaves the process nothing
  // to wait for; without this it would exit 0 having changed nothing.
  let abandon = () => {};
  const abandoned = new Promise<never>((_, reject) => {
    abandon = () => reject(new CliError('no password was entered; nothing was changed'));
    process.once('beforeExit', abandon);
  });
  try {
    // terminal: true puts the (TTY) stdin in raw mode, so the terminal does not
    // echo what is typed even when stderr, where the prompt goes, is redirected.
    return await Promise.race([
      read({ prompt: label, silent: true, replace: '', output: process.stderr, input: process.stdin, terminal: true }),
      abandoned,
    ]);
  } finally {
    process.off('beforeExit', abandon);
    // Nothing was echoed, not even the Enter: end the prompt's line, so what
    // comes next (the next prompt, a failure, the result) starts a line of its own.
    process.stderr.write('\n');
  }
}

/**
 * The new password from the source the options name. `check` is applied to the
 * first prompt entry only (stdin and --password are checked where the password
 * is used, with the full policy, as they always were).
 */
export async function newPasswordFrom(source: PasswordSource, check: PasswordCheck = () => []): Promise<string> {
  if (source.password !== undefined && source.passwordStdin) {
    throw new CliError('give either --password or --password-stdin, not both', EXIT.usage);
  }
  if (source.password !== undefined) {
    warn('warning: --password puts the password in your shell history and the process list; prefer the prompt or --password-stdin');
    return source.password;
  }
  if (source.passwordStdin) {
    const password = await readStdin();
    if (password === '') throw new CliError('no password on standard input');
    return password;
  }
  if (!process.stdin.isTTY) {
    throw new CliError('no terminal to ask for the password: use --password-stdin (or --password)', EXIT.usage);
  }
  const first = await promptAcceptable(check);
  const second = await prompt('Repeat the new password: ');
  if (first !== second) throw new CliError('the two passwords differ; nothing was changed');
  return first;
}

/** The first entry, asked again (with what it breaks) until the policy accepts it, at most PROMPT_ATTEMPTS times. */
async function promptAcceptable(check: PasswordCheck): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const entry = await prompt('New password: ');
    if (entry === '') throw new CliError('the password is empty; nothing was changed');
    const failures = await check(entry);
    if (failures.length === 0) return entry;
    warn('That password does not meet the password policy:');
    for (const failure of failures) warn(`  - ${failure}`);
    if (attempt === PROMPT_ATTEMPTS) throw new CliError(`no acceptable password after ${PROMPT_ATTEMPTS} tries; nothing was changed`);
    warn('Try another one.');
  }
}
