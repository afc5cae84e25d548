import { describe, expect, it } from 'vitest';
import { CidrError, matches, parseCidr, parseCidrList } from '../../src/http/cidr.js';

describe('parseCidr', () => {
  it.each(['10.0.0.0/8', '127.0.0.1', '::1/128', 'fe80::/10', '2001:db8::/32', '0.0.0.0/0', '::/0', '::ffff:10.0.0.0/104'])('accepts %s', (text) => {
    expect(() => parseCidr(text)).not.toThrow();
  });

  it.each(['10.0.0.0/33', '::1/129', 'localhost', '10.0.0/8', '1.2.3.4/8/9', '10.0.0.0/-1', '10.0.0.0/x', '', '999.1.1.1'])('rejects %j', (text) => {
    expect(() => parseCidr(text)).toThrow(CidrError);
  });
});

describe('matches', () => {
  const list = parseCidrList('127.0.0.0/8, ::1/128, 10.1.0.0/16, 2001:db8:abcd::/48');

  it.each([
    ['127.0.0.1', true],
    ['127.255.255.254', true],
    ['::ffff:127.0.0.1', true],
    ['::1', true],
    ['10.1.200.3', true],
    ['::ffff:10.1.0.9', true],
    ['2001:db8:abcd:12::1', true],
    ['2001:db8:abce::1', false],
    ['10.2.0.1', false],
    ['128.0.0.1', false],
    ['::2', false],
    ['192.168.1.1', false],
    ['fe80::1%eth0', false],
    ['not-an-ip', false],
    ['', false],
  ])('%s → %s', (address, expected) => {
    expect(matches(list, address)).toBe(expected);
  });

  it('never matches an undefined address', () => {
    expect(matches(list, undefined)).toBe(false);
  });

  it('a /0 matches its whole family only', () => {
    expect(matches(parseCidrList('0.0.0.0/0'), '8.8.8.8')).toBe(true);
    expect(matches(parseCidrList('0.0.0.0/0'), '::1')).toBe(false);
  });

  it('handles embedded IPv4 tails in IPv6 ranges', () => {
    expect(matches(parseCidrList('64:ff9b::/96'), '64:ff9b::192.0.2.33')).toBe(true);
  });
});
