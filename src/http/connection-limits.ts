// Slow and greedy clients: a bound on how many connections one address may
// hold open at once (each holds memory and, over TLS, a handshake's CPU).
// Counted on the TCP connection, before TLS or HTTP, so a refused connection
// costs next to nothing. Trusted proxies are exempt: every client they
// forward arrives from their address.

import type { Server, Socket } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Logger } from 'pino';
import { addressGroup } from './address-group.js';

// proxy-addr's named ranges, as trusted-proxies accepts them (Fastify's trustProxy).
const NAMED_RANGES: Record<string, string[]> = {
  loopback: ['127.0.0.1/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** Whether an address is in the trusted-proxies list (addresses, CIDR ranges, named ranges). */
export function trustedProxyMatcher(list: string | undefined): (address: string | undefined) => boolean {
  const ranges = (list ?? '')
    .split(',')
    .filter((entry) => entry !== '')
    .flatMap((entry) => NAMED_RANGES[entry] ?? [entry.includes('/') ? entry : `${entry}/${entry.includes(':') ? 128 : 32}`])
    .map((cidr) => ipaddr.parseCIDR(cidr));
  if (ranges.length === 0) return () => false;
  return (address) => {
    if (address === undefined || !ipaddr.isValid(address)) return false;
    let parsed = ipaddr.parse(address);
    // An IPv4 client on a dual-stack listener appears as ::ffff:a.b.c.d.
    if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
    return ranges.some(([network, prefix]) => network.kind() === parsed.kind() && parsed.match(network, prefix));
  };
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
