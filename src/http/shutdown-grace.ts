// Rolling restarts without a refused request. A load balancer learns that an
// instance is going away only from its health check; an instance that stopped
// accepting connections at once would refuse the requests the balancer still
// sends it until the check fails often enough. So on SIGTERM the instance
// first answers its status routes with 503 for shutdown-grace-period while it
// serves every other request as before, and only then closes
// (src/http/graceful-close.ts: stop accepting, drain).

/** Whether the instance is in its grace period; the status routes ask. */
export interface StoppingState {
  readonly stopping: boolean;
}

export class ShutdownGrace implements StoppingState {
  private started = false;
  private endNow: (() => void) | undefined;

  get stopping(): boolean {
    return this.started;
  }

  /** Status routes answer 503 from now on; resolves after `seconds`, or as soon as end() is called. */
  wait(seconds: number): Promise<void> {
    this.started = true;
    if (seconds <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, seconds * 1000);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.endNow = done;
    });
  }

  /** Ends the grace period now (a second signal: the operator does not want to wait). */
  end(): void {
    this.endNow?.();
  }
}
