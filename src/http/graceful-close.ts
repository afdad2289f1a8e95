// Graceful close for app.close(): Fastify stops accepting connections, answers
// requests that arrive on open keep-alive connections with 503 (and
// `Connection: close`), and waits for the requests in flight. Two gaps are
// closed here:
//
// - A keep-alive connection whose request was in flight when the close began
//   becomes idle after its answer, and Node closes idle connections only once,
//   when the server's close starts; the close would then wait for the client
//   to hang up (minutes). So answers sent while closing say
//   `Connection: close`, and idle connections are swept until the end.
// - A request that never ends (a client that stops sending its body) must not
//   keep the process up forever: after DRAIN_LIMIT_MS the remaining
//   connections are cut.

import type { FastifyInstance } from 'fastify';

export const DRAIN_LIMIT_MS = 30_000;
const SWEEP_EVERY_MS = 100;

/** Whether the app is closing: answers sent meanwhile say `Connection: close` (app.ts's onSend hook asks). */
export interface ClosingState {
  readonly closing: boolean;
}

export function closeGracefully(app: FastifyInstance): ClosingState {
  const state = { closing: false };
  const timers: NodeJS.Timeout[] = [];

  app.addHook('preClose', (done) => {
    state.closing = true;
    const server = app.server;
    timers.push(setInterval(() => server.closeIdleConnections(), SWEEP_EVERY_MS).unref());
    timers.push(setTimeout(() => server.closeAllConnections(), DRAIN_LIMIT_MS).unref());
    done();
  });

  app.addHook('onClose', (_instance, done) => {
    for (const timer of timers) clearTimeout(timer);
    done();
  });
  return state;
}
