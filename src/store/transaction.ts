// Transactions, and the handle every store operation takes. Security events
// written inside a transaction are handed to the store's listener only once
// that transaction commits: a rolled-back change has no event in the table,
// and must not be counted elsewhere either.

import type { Kysely, Transaction } from 'kysely';
import { isTransientConflict } from './errors.js';
import type { SecurityEvent } from './events.js';
import type { Database } from './schema.js';

/**
 * Rows one statement writes at most: a write of many rows (a role's 1,000
 * members, their 1,000 events) is several statements of this many, in the
 * same transaction, the event loop free to turn between them (CONTRACT §7;
 * src/event-loop.ts).
 */
export const ROWS_PER_STATEMENT = 100;

/** The database, or a transaction on it: what every store operation runs on. */
export type Executor = Kysely<Database> | Transaction<Database>;
/** The database itself (transactions start here). */
export type Db = Kysely<Database>;

type EventsCommitted = (events: readonly SecurityEvent[]) => void;

// The listener of each open store (set by its composition root), and the
// events each open transaction has written so far.
const listeners = new WeakMap<Db, EventsCommitted>();
const uncommitted = new WeakMap<Transaction<Database>, SecurityEvent[]>();

/** Who hears about security events once they are committed (the metrics). One listener per store. */
export function onEventsCommitted(db: Db, listener: EventsCommitted): void {
  listeners.set(db, listener);
}

/** Called by the event store after writing events: now, or when the transaction they belong to commits. */
export function eventsWritten(executor: Executor, events: readonly SecurityEvent[]): void {
  if (!executor.isTransaction) {
    listeners.get(executor as Db)?.(events);
    return;
  }
  const pending = uncommitted.get(executor as Transaction<Database>);
  // A programming error, caught by the tests of every flow that records events.
  if (!pending) throw new Error('security events were recorded in a transaction not opened with inTransaction()');
  pending.push(...events);
}

const TRANSACTION_ATTEMPTS = 3;

/**
 * A write transaction. One that PostgreSQL aborts for a deadlock or a
 * serialization failure with a concurrent transaction is run again: its work
 * reads what it decides on inside the transaction, so a rerun decides afresh.
 */
export async function inTransaction<T>(db: Db, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const events: SecurityEvent[] = [];
    try {
      const result = await db.transaction().execute((trx) => {
        uncommitted.set(trx, events);
        return work(trx);
      });
      if (events.length > 0) listeners.get(db)?.(events);
      return result;
    } catch (error) {
      if (attempt >= TRANSACTION_ATTEMPTS || !isTransientConflict(error)) throw error;
    }
  }
}
