// Running many calls at once, for tests and bench/.

/** Runs `work` over `items`, at most `limit` at a time, keeping the order of results. */
export async function mapLimit<T, R>(items: T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index] as T, index);
      }
    }),
  );
  return results;
}

/** Runs the jobs at most `limit` at a time (a CLI start costs about a second of CPU); results in job order. */
export function runLimited<T>(jobs: (() => Promise<T>)[], limit = 3): Promise<T[]> {
  return mapLimit(jobs, limit, (job) => job());
}

/** Starts `count` calls at once and waits for them all; results in call order. */
export function atOnce<T>(count: number, call: (index: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: count }, (_, index) => call(index)));
}

export interface Loops {
  /** Asks every loop to end after its current round, and waits for them. */
  stop(): Promise<void>;
}

/** Runs `round` over and over in `lanes` parallel loops until stop() or `deadline` (a Date.now() value). */
export function loopUntilStopped(lanes: number, deadline: number, round: () => Promise<void>): Loops {
  let stopping = false;
  const lane = async () => {
    while (!stopping && Date.now() < deadline) await round();
  };
  const running = Array.from({ length: lanes }, lane);
  return {
    async stop() {
      stopping = true;
      await Promise.all(running);
    },
  };
}
