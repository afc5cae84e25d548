// CIDR lists for the network trust mode: parsed once at start-up into numeric ranges, matched against a
// socket address per request. IPv4, IPv6 and IPv4-mapped IPv6 (::ffff:a.b.c.d, as Node reports IPv4
// peers on dual-stack sockets) are all handled; anything unparsable never matches.
import { isIPv4, isIPv6 } from 'node:net';

export interface Cidr {
  readonly family: 4 | 6;
  readonly base: bigint;
  readonly mask: bigint;
  readonly text: string;
}

export class CidrError extends Error {}

export function parseCidr(text: string): Cidr {
  const [address = '', prefixText, extra] = text.trim().split('/');
  if (extra !== undefined) throw new CidrError(`"${text}" is not a CIDR block`);
  const parsed = parseAddress(address);
  if (!parsed) throw new CidrError(`"${text}" is not an IPv4 or IPv6 address or CIDR block`);
  const bits = parsed.family === 4 ? 32 : 128;
  let prefix = prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  // ::ffff:a.b.c.d/n is the IPv4 block a.b.c.d/(n - 96), which is how we match mapped addresses.
  if (parsed.family === 4 && address.includes(':') && prefixText !== undefined) prefix -= 96;
  if (!(prefix >= 0 && prefix <= bits)) throw new CidrError(`"${text}" has a prefix length outside 0-${bits}`);
  const mask = prefix === 0 ? 0n : ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n);
  return { family: parsed.family, base: parsed.value & mask, mask, text: text.trim() };
}

/** A comma-separated list, e.g. "127.0.0.0/8,::1/128,10.0.0.0/8". */
export function parseCidrList(text: string): Cidr[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map(parseCidr);
}

export function matches(list: readonly Cidr[], address: string | undefined): boolean {
  if (address === undefined) return false;
  const parsed = parseAddress(address);
  if (!parsed) return false;
  return list.some((cidr) => cidr.family === parsed.family && (parsed.value & cidr.mask) === cidr.base);
}

/**
 * `matches` against one list, remembering the answer for recently seen addresses: a kept-alive caller
 * sends every request from the same peer address, and parsing it is most of the cost of a match. The
 * memory is bounded (forgotten wholesale when full), as addresses from X-Forwarded-For are the caller's.
 */
export function cidrMatcher(list: readonly Cidr[], remember = 1024): (address: string | undefined) => boolean {
  if (list.length === 0) return () => false;
  const known = new Map<string, boolean>();
  return (address) => {
    if (address === undefined) return false;
    let answer = known.get(address);
    if (answer === undefined) {
      answer = matches(list, address);
      if (known.size >= remember) known.clear();
      known.set(address, answer);
    }
    return answer;
  };
}

interface Address {
  readonly family: 4 | 6;
  readonly value: bigint;
}

export function parseAddress(raw: string): Address | undefined {
  // Zone ids (fe80::1%eth0) name an interface, not part of the address.
  const address = raw.trim().replace(/%.*$/, '');
  if (isIPv4(address)) return { family: 4, value: ipv4Value(address) };
  if (!isIPv6(address)) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1] && isIPv4(mapped[1])) return { family: 4, value: ipv4Value(mapped[1]) };
  return { family: 6, value: ipv6Value(address) };
}

function ipv4Value(address: string): bigint {
  return address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function ipv6Value(address: string): bigint {
  // An embedded IPv4 tail (::1.2.3.4) becomes two hextets.
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const n = ipv4Value(v4[1]);
    text = `${text.slice(0, -v4[1].length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headParts = head === '' ? [] : head.split(':');
  const tailParts = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - headParts.length - tailParts.length;
  const parts = tail === undefined ? headParts : [...headParts, ...Array<string>(missing).fill('0'), ...tailParts];
  return parts.reduce((acc, part) => (acc << 16n) | BigInt(parseInt(part, 16)), 0n);
}
