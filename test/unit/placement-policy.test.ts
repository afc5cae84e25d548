// Where a tenant goes when its creation names no server: the fewest tenants, main first among equals,
// then by name.
import { describe, expect, it } from 'vitest';
import { pickServer, rankServers } from '../../src/tenants/placement-policy.js';

describe('pickServer', () => {
  it('picks the server with the fewest tenants', () => {
    expect(
      pickServer([
        { name: 'main', tenants: 5 },
        { name: 'eu2', tenants: 2 },
        { name: 'us1', tenants: 3 },
      ]),
    ).toBe('eu2');
  });

  it('prefers main among equals, then the first name', () => {
    expect(
      pickServer([
        { name: 'us1', tenants: 1 },
        { name: 'main', tenants: 1 },
        { name: 'eu2', tenants: 1 },
      ]),
    ).toBe('main');
    expect(
      pickServer([
        { name: 'us1', tenants: 1 },
        { name: 'main', tenants: 2 },
        { name: 'eu2', tenants: 1 },
      ]),
    ).toBe('eu2');
    expect(
      pickServer([
        { name: 'a_1', tenants: 0 },
        { name: 'a', tenants: 0 },
      ]),
    ).toBe('a');
  });

  it('falls back to main when no server is listed', () => {
    expect(pickServer([])).toBe('main');
  });

  it('ranks every server in the order they are tried when one cannot be reached', () => {
    const loads = [
      { name: 'us1', tenants: 1 },
      { name: 'main', tenants: 3 },
      { name: 'eu2', tenants: 1 },
      { name: 'ap1', tenants: 0 },
    ];
    expect(rankServers(loads)).toEqual(['ap1', 'eu2', 'us1', 'main']);
  });
});
