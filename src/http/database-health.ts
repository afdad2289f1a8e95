// Whether the database answers, for the status routes: a real query
// (`select 1`), bounded by a timeout, of which at most one is in flight — a
// database that hangs must not collect one stuck query per status request.
// GET /status/v1/services asks afresh on each request; GET /status/v1/simple,
// which balancers and benchmarks call as fast as they like, reuses an answer
// for up to SIMPLE_CHECK_MAX_AGE_MS, so however many ask, the database sees
// at most about one query a second from it (docs/decisions.md).

/** The longest a status request waits for the database, whatever `timeout` asks. */
export const DATABASE_CHECK_TIMEOUT_MS = 2_000;
/** How long GET /status/v1/simple trusts the last answer. */
export const SIMPLE_CHECK_MAX_AGE_MS = 1_000;
/** A check still pending after this long is abandoned and a new one started. */
const ABANDON_AFTER_MS = 30_000;

export interface DatabaseCheck {
  state: 'running' | 'error';
  response_time_ms?: number;
  /** Why the check failed, without internals (no host, no driver message). */
  error?: string;
  /** The same with the driver's error code (ECONNREFUSED, 3D000, …), for level=debug. */
  detail?: string;
}

const timedOut = (timeoutMs: number): DatabaseCheck => ({ state: 'error', error: `the database did not answer within ${timeoutMs} ms` });

export class DatabaseHealth {
  private running: { promise: Promise<DatabaseCheck>; started: number } | undefined;
  private last: { check: DatabaseCheck; at: number } | undefined;

  constructor(
    private readonly ping: () => Promise<void>,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The answer of a check now (joining one in flight), waiting at most `timeoutMs`. */
  async check(timeoutMs: number): Promise<DatabaseCheck> {
    // A check in flight for longer than the caller would wait has already not answered in time.
    if (this.running && this.clock() - this.running.started >= timeoutMs && this.clock() - this.running.started < ABANDON_AFTER_MS) {
      return this.remember(timedOut(timeoutMs));
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<DatabaseCheck>((resolve) => {
      timer = setTimeout(() => resolve(timedOut(timeoutMs)), timeoutMs);
    });
    try {
      return this.remember(await Promise.race([this.runCheck(), late]));
    } finally {
      clearTimeout(timer);
    }
  }

  /** The last answer while it is under `maxAgeMs` old, else a check now. */
  async recent(maxAgeMs: number, timeoutMs: number): Promise<DatabaseCheck> {
    if (this.last && this.clock() - this.last.at < maxAgeMs) return this.last.check;
    return this.check(timeoutMs);
  }

  private remember(check: DatabaseCheck): DatabaseCheck {
    this.last = { check, at: this.clock() };
    return check;
  }

  private runCheck(): Promise<DatabaseCheck> {
    const started = this.clock();
    if (this.running && started - this.running.started < ABANDON_AFTER_MS) return this.running.promise;
    const promise = this.ping().then(
      (): DatabaseCheck => ({ state: 'running', response_time_ms: this.clock() - started }),
      // The driver's error code only: its message may name hosts and databases.
      (error: unknown): DatabaseCheck => {
        const code = (error as { code?: unknown } | null)?.code;
        return { state: 'error', error: 'the database query failed', ...(typeof code === 'string' ? { detail: `the database query failed (${code})` } : {}) };
      },
    );
    const entry = { promise, started };
    this.running = entry;
    void promise.finally(() => {
      if (this.running === entry) this.running = undefined;
    });
    return promise;
  }
}
