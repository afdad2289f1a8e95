// The physical limits the service's numbers are divided by, measured in the
// bench process with nothing else running:
// - argon2id hashes per second at the service's parameters (CURRENT_PARAMETERS),
//   with as many hashes in flight as the load has connections;
// - RS256 JWT signatures per second with jose and a 2048-bit key, the claims
//   the service's reset tokens carry, as many in flight as the load;
// - a bare Fastify route returning a constant (bench/bare-server.ts, its own
//   process, loaded exactly like the service's routes), over HTTP or HTTPS.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hash } from '@node-rs/argon2';
import { SignJWT, generateKeyPair } from 'jose';
import { CURRENT_PARAMETERS } from '../src/passwords/hashing.js';
import { type LoadResult, expectClean, load } from './lib/load.js';
import { type CpuUse, cpuBetween, sampleCpu } from './lib/cpu.js';
import { freePort, startChild } from '../test/kit/processes.js';
import { loadOrCreateCertificate, tlsPaths } from '../src/tls/certificate.js';

const ARGON2ID = 2; // Algorithm.Argon2id, as in src/passwords/hashing.ts

export interface Rate {
  /** Operations per second. */
  rate: number;
  /** CPU seconds (all threads of this process) per operation. */
  cpuPerOperation: number;
}

/** Keeps `concurrency` operations in flight for `seconds`; operations per second, after a warm-up. */
async function rate(concurrency: number, seconds: number, operation: () => Promise<unknown>, warmupSeconds = 1): Promise<Rate> {
  const run = async (duration: number) => {
    const deadline = performance.now() + duration * 1000;
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    let done = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          await operation();
          done++;
        }
      }),
    );
    const cpu = process.cpuUsage(cpuBefore);
    return { rate: done / ((performance.now() - started) / 1000), cpuPerOperation: (cpu.user + cpu.system) / 1e6 / done };
  };
  await run(warmupSeconds);
  return run(seconds);
}

export async function rawHashRate(concurrency: number, seconds: number): Promise<Rate> {
  const options = { ...CURRENT_PARAMETERS, algorithm: ARGON2ID };
  const passwords = Array.from({ length: 64 }, () => randomBytes(12).toString('base64url'));
  let next = 0;
  return rate(concurrency, seconds, () => hash(passwords[next++ % passwords.length] as string, options));
}

export async function rawSignRate(concurrency: number, seconds: number): Promise<Rate> {
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
  const kid = randomBytes(32).toString('base64url');
  const sub = '6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
  return rate(concurrency, seconds, () => {
    const iat = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
      .setIssuer('rbac-password-service')
      .setSubject(sub)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 86400)
      .setJti(randomBytes(16).toString('base64url'))
      .sign(privateKey);
  });
}

/** The bare route under load; over HTTPS (keep-alive, as every load here) with a certificate made for localhost when `https`. */
export async function bareRouteLoad(connections: number, seconds: number, https = false): Promise<LoadResult & { cpu: CpuUse }> {
  const port = await freePort();
  const dir = https ? mkdtempSync(path.join(tmpdir(), 'rbac-bench-bare-')) : undefined;
  try {
    const tls = dir ? await loadOrCreateCertificate({ dataDir: dir }) : undefined;
    const args = ['bench/bare-server.ts', String(port), ...(tls && dir ? [tlsPaths(dir).cert, tlsPaths(dir).key] : [])];
    const child = await startChild(args, { port, readyPath: '/', ...(tls ? { ca: tls.cert } : {}) });
    try {
      await load({ url: `${child.url}/`, connections, duration: 2 });
      const pid = child.process.pid as number;
      const before = sampleCpu(pid);
      const result = expectClean('bare route', await load({ url: `${child.url}/`, connections, duration: seconds }));
      return { ...result, cpu: cpuBetween(before, sampleCpu(pid)) };
    } finally {
      await child.stop();
    }
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
