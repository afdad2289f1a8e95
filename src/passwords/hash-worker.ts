// argon2id for src/passwords/hashing.ts, run by its pool of worker threads.
// Each thread lowers its own CPU priority (Linux nice values are per thread)
// when it starts: on a machine busy with hashes, the hashes wait, and the
// event loop and the database do not.

import { getPriority, setPriority } from 'node:os';
import { hashSync, verifySync, type Options } from '@node-rs/argon2';

// Enough for the event loop to win a core at once when it wakes (CFS weighs
// a thread at nice +4 at about 0.4 of one at 0), not so much that hashes
// starve while the event loop is busy all the time, as under a flood of
// cheap requests: at +10 other users' logins ran at 0.4 of their rate then.
const NICENESS_ADDED = 4;
const LOWEST_PRIORITY = 19;

try {
  setPriority(0, Math.min(LOWEST_PRIORITY, getPriority(0) + NICENESS_ADDED));
} catch {
  // Not permitted here: hash at the normal priority.
}

export type HashTask = { op: 'hash'; password: string; options: Options } | { op: 'verify'; storedHash: string; password: string };

export default function runHashTask(task: HashTask): string | boolean {
  return task.op === 'hash' ? hashSync(task.password, task.options) : verifySync(task.storedHash, task.password);
}
