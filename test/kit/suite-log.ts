// Everything services log during the test run goes to test-results/logs/,
// and every login token and reset token the helpers obtain is noted beside
// it; test/zz-end/log-secrets.test.ts then searches the logs for them.

import { appendFileSync, createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';

export const SUITE_LOG_DIR = path.join(new URL('../..', import.meta.url).pathname, 'test-results', 'logs');

let stream: WriteStream | undefined;

/** One log file per test process. */
export function suiteLogStream(): WriteStream {
  if (!stream) {
    mkdirSync(SUITE_LOG_DIR, { recursive: true });
    stream = createWriteStream(path.join(SUITE_LOG_DIR, `service-${process.pid}.log`), { flags: 'a' });
  }
  return stream;
}

/** Notes a secret the run used, for the final search. */
export function noteSecret(secret: string): void {
  mkdirSync(SUITE_LOG_DIR, { recursive: true });
  appendFileSync(path.join(SUITE_LOG_DIR, `secrets-${process.pid}.txt`), `${secret}\n`);
}

const JWT = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/g;

/** Notes every login token ({"token": …}) and reset token (a JWT) in a response body. */
export function noteTokensIn(body: string): void {
  for (const match of body.matchAll(JWT)) noteSecret(match[0]);
  const loginToken = /^\{"token":"([\w-]{40,})"/.exec(body)?.[1];
  if (loginToken) noteSecret(loginToken);
}

/** Keeps a child process's output with the suite's logs. */
export function keepProcessOutput(name: string, output: string): void {
  mkdirSync(SUITE_LOG_DIR, { recursive: true });
  appendFileSync(path.join(SUITE_LOG_DIR, `process-${name}-${process.pid}.log`), output);
}
