// What counts as "one address" for per-address limits. An IPv6 client
// usually holds a whole /64 (and picks new addresses in it at will), so an
// IPv6 address counts as its /64; an IPv4-mapped IPv6 address (::ffff:a.b.c.d,
// as a dual-stack listener sees IPv4 clients) counts as its IPv4 address.

import ipaddr from 'ipaddr.js';

const IPV6_PREFIX = ipaddr.IPv6.subnetMaskFromPrefixLength(64).toByteArray();

export function addressGroup(address: string): string {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address);
  } catch {
    return address; // not an IP (a Unix socket, a test's made-up name): itself
  }
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const ipv6 = parsed as ipaddr.IPv6;
  if (ipv6.isIPv4MappedAddress()) return ipv6.toIPv4Address().toString();
  // Masking the bytes also drops any zone id (fe80::1%eth0).
  const network = ipv6.toByteArray().map((byte, index) => byte & (IPV6_PREFIX[index] ?? 0));
  return `${ipaddr.fromByteArray(network).toString()}/64`;
}
