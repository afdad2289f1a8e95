// Password hashing with argon2id (@node-rs/argon2). The hashes run in a pool
// of worker threads (piscina), one per core, at a lower CPU priority than the
// event loop (src/passwords/hash-worker.ts): the event loop keeps serving
// while hashes run, and does not wait for a core behind them when every core
// is hashing. Each stored hash is a PHC string that carries its own
// parameters, which is how a login can tell that a hash is older than the
// current parameters and upgrade it.

import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { parseOptions } from '@node-rs/argon2';
import { Piscina } from 'piscina';
import type { HashTask } from './hash-worker.js';

export interface HashParameters {
  memoryCost: number; // KiB
  timeCost: number;
  parallelism: number;
}

/** OWASP's argon2id minimum: 19 MiB, 2 iterations, 1 lane. */
export const CURRENT_PARAMETERS: HashParameters = { memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 };

const ARGON2ID = 2; // Algorithm.Argon2id; the package's enum is `const` and not importable at run time
const ARGON2_V0x13 = 1; // Version.V0x13 (argon2 1.3, `v=19`); 1.0 (`v=16`) hashes are upgraded too

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** False for a wrong password and for a stored value that is not a valid hash. */
  verify(storedHash: string, password: string): Promise<boolean>;
  needsRehash(storedHash: string): boolean;
  /** Spends as long as a real check, for logins that have no hash to check against. */
  verifyDummy(password: string): Promise<void>;
}

/** Equivalent Unicode spellings of one password must hash alike. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

// The worker beside this file: hash-worker.js in dist/, hash-worker.ts when run from the sources (through tsx).
const WORKER_FILE = new URL(`./hash-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;

// One pool for the process: every hasher shares the cores.
let pool: Piscina<HashTask, string | boolean> | undefined;

function hashingPool(): Piscina<HashTask, string | boolean> {
  const threads = availableParallelism();
  // Idle threads do not keep the process alive (a CLI command exits when done).
  // Two tasks per thread: the next hash already waits in the thread when one
  // ends, instead of waiting for the event loop to hand it over (a gap of
  // about the event loop's busy time per hash, which left cores idle under
  // a stream of logins).
  pool ??= new Piscina({ filename: WORKER_FILE, minThreads: threads, maxThreads: threads, concurrentTasksPerWorker: 2 });
  return pool;
}

/** How many hash and verify tasks the pool has finished: what a test counts to show work was done. */
export function hashTasksCompleted(): number {
  return pool?.completed ?? 0;
}

/** A hasher whose decoy is a hash made with its own parameters, so a check against it costs what a real check costs. */
export interface ParameterisedHasher extends PasswordHasher {
  readonly dummyHash: string;
}

export async function createPasswordHasher(parameters: HashParameters = CURRENT_PARAMETERS): Promise<ParameterisedHasher> {
  const options = { ...parameters, algorithm: ARGON2ID };
  const threads = hashingPool();
  const hash = async (password: string) => (await threads.run({ op: 'hash', password, options })) as string;
  const verify = async (storedHash: string, password: string) => (await threads.run({ op: 'verify', storedHash, password })) as boolean;
  const dummyHash = await hash(randomBytes(32).toString('hex'));

  return {
    dummyHash,
    hash: (password) => hash(normalizePassword(password)),
    async verify(storedHash, password) {
      try {
        return await verify(storedHash, normalizePassword(password));
      } catch {
        return false;
      }
    },
    needsRehash: (storedHash) => needsRehash(storedHash, parameters),
    async verifyDummy(password) {
      await verify(dummyHash, normalizePassword(password)).catch(() => false);
    },
  };
}

/** Whether a stored hash was made with other or weaker parameters than these (or is no argon2id hash at all). */
function needsRehash(storedHash: string, parameters: HashParameters): boolean {
  try {
    const used = parseOptions(storedHash);
    return (
      used.algorithm !== ARGON2ID ||
      used.version !== ARGON2_V0x13 ||
      used.memoryCost < parameters.memoryCost ||
      used.timeCost < parameters.timeCost ||
      used.parallelism !== parameters.parallelism
    );
  } catch {
    return true;
  }
}

/**
 * A hasher that starts the pool and makes its dummy hash on first use, for
 * commands that may never hash (`rbac keys list` need not start threads).
 */
export function lazyPasswordHasher(parameters: HashParameters = CURRENT_PARAMETERS): PasswordHasher {
  let made: Promise<PasswordHasher> | undefined;
  const hasher = () => (made ??= createPasswordHasher(parameters));
  return {
    hash: async (password) => (await hasher()).hash(password),
    verify: async (storedHash, password) => (await hasher()).verify(storedHash, password),
    verifyDummy: async (password) => (await hasher()).verifyDummy(password),
    needsRehash: (storedHash) => needsRehash(storedHash, parameters),
  };
}
