// Source addresses of agents and the address ranges of registration codes (`IpAddressRange`: an
// address or a CIDR block; IPv4 as documented, IPv6 accepted as well).

import { BlockList, isIP } from 'node:net';

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
