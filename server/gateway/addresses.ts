// Source addresses of agents and the address ranges of registration codes (`IpAddressRange`: an
// address or a CIDR block; IPv4 as documented, IPv6 accepted as well).

import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { headerValue } from '../../tat/node/signing.js';

/** `::ffff:10.0.0.1` (an IPv4 peer of a dual-stack listener) → `10.0.0.1`. */
export function normalizeAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

const family = (address: string) => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

/** True when `address` lies in `range` (an address or `address/bits`); `''` allows every address. */
export function addressInRange(address: string, range: string): boolean {
  if (range === '') return true;
  const peer = normalizeAddress(address);
  if (isIP(peer) === 0) return false;
  const [net, bits] = range.split('/') as [string, string | undefined];
  const list = new BlockList();
  if (bits === undefined) list.addAddress(net, family(net));
  else list.addSubnet(net, Number(bits), family(net));
  return list.check(peer, family(peer));
}

/** Whether `address` is one of `blocks` (addresses or CIDR blocks). */
function inAny(address: string, blocks: readonly string[]): boolean {
  return blocks.some((b) => addressInRange(address, b));
}

/**
 * The client of a request fastify does not see (a WebSocket upgrade): the peer, or, when the peer
 * is a trusted proxy, the rightmost X-Forwarded-For address that is not itself trusted (what
 * fastify's `trustProxy` gives route handlers as `req.ip`).
 */
export function clientAddress(req: IncomingMessage, trustedProxies: readonly string[]): string {
  let address = normalizeAddress(req.socket.remoteAddress ?? '');
  if (!inAny(address, trustedProxies)) return address;
  const forwarded = (headerValue(req.headers, 'x-forwarded-for') ?? '')
    .split(',')
    .map((a) => normalizeAddress(a.trim()))
    .filter((a) => isIP(a) !== 0);
  while (forwarded.length > 0 && inAny(address, trustedProxies)) address = forwarded.pop()!;
  return address;
}
