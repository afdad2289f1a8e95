// Slow and greedy clients: a bound on how many connections one address may
// hold open at once (each holds memory and, over TLS, a handshake's CPU).
// Counted on the TCP connection, before TLS or HTTP, so a refused connection
// costs next to nothing. Trusted proxies are exempt: every client they
// forward arrives from their address.

import type { Server, Socket } from 'node:net';
import ipaddr from 'ipaddr.js';
import { compile } from '@fastify/proxy-addr';
import type { Logger } from 'pino';
import { addressGroup } from './address-group.js';

/**
 * Whether an address is in the trusted-proxies list: proxy-addr's own
 * matcher, the one Fastify's trustProxy uses for the same setting, so the
 * exemption and X-Forwarded-For trust can never disagree.
 */
export function trustedProxyMatcher(list: string | undefined): (address: string | undefined) => boolean {
  const entries = (list ?? '').split(',').filter((entry) => entry !== '');
  if (entries.length === 0) return () => false;
  const trusts = compile(entries);
  return (address) => address !== undefined && ipaddr.isValid(address) && trusts(address, 0);
}

export function limitConnectionsPerAddress(server: Server, max: number, exempt: (address: string | undefined) => boolean, log: Logger | undefined): void {
  if (max === 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress;
    if (address === undefined || exempt(address)) return;
    const group = addressGroup(address);
    const count = open.get(group) ?? 0;
    if (count >= max) {
      log?.warn({ address: group, limit: max }, 'connection refused: too many open connections from one address');
      socket.destroy();
      return;
    }
    open.set(group, count + 1);
    socket.once('close', () => {
      const left = (open.get(group) ?? 1) - 1;
      if (left === 0) open.delete(group);
      else open.set(group, left);
    });
  });
}
