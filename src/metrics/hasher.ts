// A PasswordHasher that records how long each argon2id operation takes. It
// wraps the real hasher; hashing.ts itself knows nothing about metrics.

import type { Histogram } from 'prom-client';
import type { PasswordHasher } from '../passwords/hashing.js';

export function measuredHasher(inner: PasswordHasher, histogram: Histogram<'operation'>): PasswordHasher {
  const timed = async <T>(operation: string, work: () => Promise<T>): Promise<T> => {
    const stop = histogram.startTimer({ operation });
    try {
      return await work();
    } finally {
      stop();
    }
  };
  return {
    hash: (password) => timed('hash', () => inner.hash(password)),
    verify: (storedHash, password) => timed('verify', () => inner.verify(storedHash, password)),
    verifyDummy: (password) => timed('verify-dummy', () => inner.verifyDummy(password)),
    needsRehash: (storedHash) => inner.needsRehash(storedHash),
  };
}
