// A throwaway Redis for the rate-limit tests: redis-server started on a free
// loopback port, keeping nothing on disk, stopped (and startable again on the
// same port) by the test. Without redis-server the tests are skipped outside
// CI and fail under CI (.ci/run installs it).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from './processes.js';
import { requireUnderCi } from './requirements.js';

export const REDIS_SKIP = requireUnderCi(
  spawnSync('sh', ['-c', 'command -v redis-server']).status === 0 ? undefined : '*** Redis tests SKIPPED: redis-server not installed ***',
  'apt-get install redis-server',
);

export interface ThrowawayRedis {
  url: string;
  /** Stops the server: the port is closed until start(). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
}

export async function startRedis(): Promise<ThrowawayRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let attempt = 0; ; attempt++) {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => {});
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch (error) {
        if (attempt > 100) throw error;
        await sleep(50);
      } finally {
        probe.disconnect();
      }
    }
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    running.kill('SIGKILL');
    await once(running, 'exit');
  };
  await start();
  return { url, start, stop };
}
