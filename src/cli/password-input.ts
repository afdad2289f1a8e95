// Where a command gets a new password: a no-echo terminal prompt (asked
// twice), standard input with --password-stdin, or --password (with a
// warning: it lands in shell history and the process list).

import { read } from 'read';
import { CliError, EXIT, warn } from './context.js';

export interface PasswordSource {
  password?: string | undefined;
  passwordStdin?: boolean | undefined;
}

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
  }
}

export async function newPasswordFrom(source: PasswordSource): Promise<string> {
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
  const first = await prompt('New password: ');
  const second = await prompt('Repeat the new password: ');
  if (first !== second) throw new CliError('the two passwords differ; nothing was changed');
  if (first === '') throw new CliError('the password is empty; nothing was changed');
  return first;
}
