// argon2id for src/passwords/hashing.ts, run by its pool of worker threads.
// Each thread lowers its own CPU priority (Linux nice values are per thread)
// when it starts: on a machine busy with hashes, the hashes wait, and the
// event loop and the database do not.

import { getPriority, setPriority } from 'node:os';
import { hashSync, verifySync, type Options } from '@node-rs/argon2';

const NICENESS_ADDED = 10;
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
