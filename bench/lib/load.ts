// HTTP load with autocannon's programmatic API, and the numbers the report
// needs from a run: successful requests per second over the run's wall time,
// p50/p99 latency (ms), and every answer that was not 2xx.

import autocannon from 'autocannon';

export interface LoadResult {
  /** 2xx answers per second of wall time. */
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
  /** Counts per status code, for diagnosing a run with failures. */
  statuses: Record<string, number>;
}

export type LoadOptions = autocannon.Options;

/** One HTTP request of a connection; `next` is asked for each request, `done` told of each answer. */
export interface Step {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * A connection that builds every request itself from its own state: `next()`
 * gives the request to send, `answered(status, body, headers)` sees each
 * answer before the next request is built. autocannon resets a request
 * list's `context` after each pass, so per-connection state lives here.
 */
export interface Connection {
  next(): Step;
  answered?(status: number, body: string, headers: Record<string, string | string[] | undefined>): void;
}

export function perConnection(make: (index: number) => Connection): Pick<LoadOptions, 'setupClient'> {
  let index = 0;
  return {
    setupClient(client) {
      const connection = make(index++);
      client.setRequests([
        {
          setupRequest(request) {
            const step = connection.next();
            return { ...request, method: step.method, path: step.path, headers: { ...request.headers, ...step.headers }, body: step.body ?? '' };
          },
          onResponse(status, body, _context, headers) {
            connection.answered?.(status, body, (headers ?? {}) as Record<string, string | string[] | undefined>);
          },
        },
      ]);
    },
  };
}

export interface RunningLoad {
  /** Stops a duration-based run early; the result then covers the time until now. */
  stop(): void;
  result: Promise<LoadResult>;
}

export function startLoad(options: LoadOptions): RunningLoad {
  const started = process.hrtime.bigint();
  let instance: autocannon.Instance | undefined;
  const result = new Promise<LoadResult>((resolve, reject) => {
    // autocannon notices the end of a run (`amount` reached, or `duration`
    // over) only at its next sample tick; at the default 1 s tick a run could
    // end up to a second after its last answer, which this wall time would
    // count. 100 ms keeps that under ~1% of a measured run.
    instance = autocannon({ timeout: 30, sampleInt: 100, ...options }, (error, raw) => {
      if (error) return reject(error);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const statuses: Record<string, number> = {};
      for (const [code, { count }] of Object.entries((raw as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {})) statuses[code] = count;
      resolve({
        rps: raw['2xx'] / seconds,
        p50: raw.latency.p50,
        p99: raw.latency.p99,
        ok: raw['2xx'],
        non2xx: raw.non2xx,
        errors: raw.errors,
        timeouts: raw.timeouts,
        seconds,
        statuses,
      });
    });
  });
  return { stop: () => instance?.stop(), result };
}

/** Runs a load to its end, then gives the server a moment to finish the requests still in flight. */
export async function load(options: LoadOptions): Promise<LoadResult> {
  const result = await startLoad(options).result;
  await new Promise((resolve) => setTimeout(resolve, 250));
  return result;
}

/** Throws when a run had failures that would make its numbers meaningless. */
export function expectClean(name: string, result: LoadResult, allowedNon2xx = 0): LoadResult {
  if (result.non2xx > allowedNon2xx || result.errors > 0) {
    throw new Error(`${name}: ${result.non2xx} non-2xx answers and ${result.errors} connection errors (statuses ${JSON.stringify(result.statuses)})`);
  }
  return result;
}
