// A real pseudo-terminal for a command (util-linux `script`), to drive
// prompts that read from a TTY, such as the no-echo password prompt.

import { spawn, spawnSync } from 'node:child_process';
import { REPO_ROOT, cleanEnv } from './processes.js';
import { requireUnderCi } from './requirements.js';

const scriptAvailable = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

/** The `skip` option of a test that needs a real terminal: util-linux `script` (Debian's bsdutils). */
export const skipWithoutScript = requireUnderCi(scriptAvailable ? undefined : 'util-linux script is not installed', 'apt-get install bsdutils');

export interface PtyResult {
  code: number | null;
  /** Everything the terminal showed: prompts, echo (if any) and the command's output. */
  output: string;
}

/** How many times `prompt` occurs in `text`. */
export function countOf(prompt: RegExp, text: string): number {
  return text.match(new RegExp(prompt.source, 'g'))?.length ?? 0;
}

/**
 * Runs `command` (a shell command line) on a fresh pseudo-terminal with
 * `script -qec … /dev/null`, and types each of `keys` (Enter is `\r`) once
 * `promptsShown` reports that the matching prompt has appeared: the prompt is
 * written after the terminal is set up, so keys typed earlier could be echoed
 * by the terminal whatever the program does.
 */
export function runInPty(command: string, keys: string[], env: NodeJS.ProcessEnv, promptsShown: (terminalOutput: string) => number): Promise<PtyResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: REPO_ROOT, env: cleanEnv(env), stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000 });
    let output = '';
    let typed = 0;
    const typeAnswered = () => {
      const shown = promptsShown(output);
      while (typed < shown && typed < keys.length) child.stdin.write(keys[typed++] as string);
    };
    const poll = setInterval(typeAnswered, 25);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdin.on('error', () => {});
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
      typeAnswered();
    });
    child.stderr.on('data', (chunk: string) => (output += chunk));
    child.on('error', (error) => {
      clearInterval(poll);
      reject(error);
    });
    child.on('close', (code) => {
      clearInterval(poll);
      child.stdin.destroy();
      resolve({ code, output });
    });
  });
}

/** The text as one POSIX shell word. */
export const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
