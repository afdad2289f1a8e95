// CONTRACT §7: no single request holds the event loop for more than a few
// milliseconds, whatever it holds. better-sqlite3 runs every statement on the
// event loop, and a request's statements follow each other through promises
// that resolve at once (microtasks), so a request of many statements, or
// one that turns a thousand rows into an answer, would hold the loop from
// its first statement to its last. Long work calls yieldIfBusy() between
// its steps (the SQLite driver before each statement, src/store/database.ts;
// loops over many rows): once the current turn of the loop has run past
// BUSY_MS, the work waits for the next turn (setImmediate), and other
// requests, timers and sockets are served in between. Short requests never
// wait: a turn only ends early once it has run that long.

/** How long one turn of the event loop may run before long work lets the loop turn. */
export const BUSY_MS = 2;

let turnStartedAt = 0;
let turnOpen = false;
const endTurn = () => {
  turnOpen = false;
};

/** Notes that this turn of the loop has begun (at the first call within it): its end is the next setImmediate. */
function openTurn(now: number): void {
  turnOpen = true;
  turnStartedAt = now;
  setImmediate(endTurn);
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Waits for the event loop's next turn when this one has run BUSY_MS or more; at once otherwise. */
export async function yieldIfBusy(): Promise<void> {
  const now = performance.now();
  if (!turnOpen) return openTurn(now);
  if (now - turnStartedAt < BUSY_MS) return;
  await nextTurn();
  if (!turnOpen) openTurn(performance.now());
}

/** `items` in slices of `size`, letting the loop turn before each and after the last when busy: for work over many rows. */
export async function* inSlices<T>(items: readonly T[], size: number): AsyncGenerator<T[]> {
  for (let start = 0; start < items.length; start += size) {
    await yieldIfBusy();
    yield items.slice(start, start + size);
  }
  if (items.length > size) await yieldIfBusy();
}

/** `items` mapped through `map`, letting the loop turn between slices of 100 when busy. */
export async function mapInSlices<T, U>(items: readonly T[], map: (item: T) => U): Promise<U[]> {
  const mapped: U[] = [];
  for await (const slice of inSlices(items, 100)) for (const item of slice) mapped.push(map(item));
  return mapped;
}

/**
 * The JSON text of `value` (a plain object of JSON values), whose `key`
 * holds a long list: the list's items are turned to text a slice of 100 at
 * a time, letting the loop turn between slices when busy. The same text as
 * JSON.stringify(value), keys in the object's order.
 */
export async function stringifyInSlices(value: Record<string, unknown>, key: string): Promise<string> {
  const members: string[] = [];
  for (const [name, member] of Object.entries(value)) {
    if (name !== key || !Array.isArray(member)) {
      members.push(`${JSON.stringify(name)}:${JSON.stringify(member)}`);
      continue;
    }
    const items: string[] = [];
    for await (const slice of inSlices(member as unknown[], 100)) for (const item of slice) items.push(JSON.stringify(item));
    members.push(`${JSON.stringify(name)}:[${items.join(',')}]`);
  }
  return `{${members.join(',')}}`;
}
