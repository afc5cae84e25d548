// The bench's Citus scenarios: how they are chosen on the command line, and how a worker connection is
// attributed to the server under test (bench/citus.ts).
import { describe, expect, it } from 'vitest';
import { workerConnectionOwner } from '../../bench/citus.js';
import { DEFAULT_SCENARIO_KEYS, parseOptions, UsageError } from '../../bench/options.js';

describe('bench options: the Citus scenarios', () => {
  it('`citus` stands for cc and dc, which no other group holds', () => {
    expect(parseOptions(['--scenario', 'citus']).scenarios).toEqual(['cc', 'dc']);
    expect(parseOptions(['--scenario', 'dc']).scenarios).toEqual(['dc']);
    expect(parseOptions([]).scenarios).toEqual([...DEFAULT_SCENARIO_KEYS]);
  });

  it('refuses them beside scenarios of the embedded server', () => {
    expect(() => parseOptions(['--scenario', 'c,cc'])).toThrow(UsageError);
    expect(() => parseOptions(['--scenario', 'citus,c2'])).toThrow(/run them apart/);
  });
});

describe('workerConnectionOwner', () => {
  const coordinator = 1n;
  const apps = new Map([
    [4242, 'tenantgate-shared'],
    [77, 'baseline'],
  ]);

  it("names the coordinator backend's application from the connection's global pid", () => {
    expect(workerConnectionOwner('citus_internal gpid=10000004242', coordinator, apps)).toBe('tenantgate-shared');
    expect(workerConnectionOwner('citus_internal gpid=10000000077', coordinator, apps)).toBe('baseline');
  });

  it('leaves out connections from other nodes, gone backends and anything else', () => {
    // Node 2's backend 4242 is not the coordinator's.
    expect(workerConnectionOwner('citus_internal gpid=20000004242', coordinator, apps)).toBeUndefined();
    expect(workerConnectionOwner('citus_internal gpid=10000000999', coordinator, apps)).toBeUndefined();
    expect(workerConnectionOwner('tenantgate-shared', coordinator, apps)).toBeUndefined();
    expect(workerConnectionOwner('citus_internal gpid=10000004242x', coordinator, apps)).toBeUndefined();
  });
});
