// The dedicated pools' policy, on an injected clock with a stand-in for the login (the pools' own
// bookkeeping is under test here, not PostgreSQL): the budget and DEDICATED_MAX_CONNECTIONS hold,
// a colder idle pool gives way to a hotter tenant and never to a colder one, failed logins and full
// budgets back off, and a promotion racing a full eviction is not kept.
import type { Sql } from 'postgres';
import { describe, expect, it } from 'vitest';
import { createConnectionBudget } from '../../src/pool/budget.js';
import { createDedicatedPools, type PoolOpener } from '../../src/pool/dedicated-pools.js';
import { createWaitQueue } from '../../src/pool/limiter.js';
import type { RateTracker } from '../../src/pool/rate.js';

interface Harness {
  readonly pools: ReturnType<typeof createDedicatedPools>;
  readonly budget: ReturnType<typeof createConnectionBudget>;
  readonly opened: string[];
  readonly ended: string[];
  readonly rates: Map<string, number>;
  advance(ms: number): void;
  failLogins(fail: boolean): void;
}

function harness(options: { budget?: number; maxPools?: number; maxDedicated?: number; poolMax?: number } = {}): Harness {
  let t = 1_000_000;
  let failing = false;
  const opened: string[] = [];
  const ended: string[] = [];
  const rates = new Map<string, number>();
  const budget = createConnectionBudget(options.budget ?? 100);
  const open: PoolOpener = async (tenantId) => {
    if (failing) throw Object.assign(new Error('password authentication failed'), { code: '28P01' });
    opened.push(tenantId);
    return { end: async () => void ended.push(tenantId) } as unknown as Sql;
  };
  const tracker: RateTracker = { hit: (id) => rates.get(id) ?? 0, rate: (id) => rates.get(id) ?? 0 } as RateTracker;
  const pools = createDedicatedPools(
    { open, budget, queue: createWaitQueue({ maxWaiting: 100, maxWaitingPerTenant: 10, timeoutMs: 1000 }), rates: tracker },
    {
      policy: { promoteRps: 10, poolMax: options.poolMax ?? 4, rpsPerConnection: 100, maxDedicatedConnections: options.maxDedicated ?? 1000 },
      maxPools: options.maxPools ?? 100,
      idleTimeoutMs: 60_000,
      pipelineDepth: 1,
      drainTimeoutSeconds: 1,
      now: () => t,
    },
  );
  return { pools, budget, opened, ended, rates, advance: (ms) => (t += ms), failLogins: (f) => (failing = f) };
}

describe('dedicated pools', () => {
  it('size a pool for its rate and reserve exactly that from the budget', async () => {
    const h = harness();
    const pool = await h.pools.promote('a', 250);
    expect(pool?.size).toBe(3);
    expect(h.budget.reserved()).toBe(3);
    expect(h.pools.get('a')).toBe(pool);
  });

  it('when the budget is spent, the least recently used idle pool colder than the candidate gives way', async () => {
    const h = harness({ budget: 2, poolMax: 1 });
    h.rates.set('cold', 10).set('warm', 20).set('hot', 50);
    await h.pools.promote('cold', 10);
    await h.pools.promote('warm', 20);
    expect(h.budget.reserved()).toBe(2);
    const hot = await h.pools.promote('hot', 50);
    expect(hot).toBeDefined();
    expect(h.ended).toEqual(['cold']);
    expect(h.pools.get('cold')).toBeUndefined();
    expect(h.budget.reserved()).toBe(2);
  });

  it('a tenant colder than every open pool gets none, and promotions pause for a second', async () => {
    const h = harness({ budget: 1, poolMax: 1 });
    h.rates.set('busy', 100).set('cold', 5);
    await h.pools.promote('busy', 100);
    expect(await h.pools.promote('cold', 5)).toBeUndefined();
    expect(h.ended).toEqual([]);
    h.rates.set('hotter', 500);
    h.pools.promoteInBackground('hotter', 500);
    await Promise.resolve();
    expect(h.opened).toEqual(['busy']);
    h.advance(1000);
    h.pools.promoteInBackground('hotter', 500);
    await new Promise((r) => setTimeout(r, 0));
    expect(h.opened).toEqual(['busy', 'hotter']);
  });

  it('openNow (a database tenant, which has no shared path) is sized for its rate, and any idle pool gives way, least recently used first', async () => {
    const h = harness({ budget: 2, poolMax: 4 });
    h.rates.set('hot', 300).set('warmer', 250);
    await h.pools.promote('hot', 100);
    await h.pools.promote('warmer', 100);
    expect(h.budget.reserved()).toBe(2);
    // A cold tenant: promote() refuses it (every open pool is hotter); openNow() takes the LRU idle one's place.
    expect(await h.pools.promote('cold', 1)).toBeUndefined();
    const cold = await h.pools.openNow('cold', 1);
    expect(cold?.size).toBe(1);
    expect(h.ended).toEqual(['hot']);
    expect(h.pools.get('warmer')).toBeDefined();
    expect(h.budget.reserved()).toBe(2);
  });

  it('openNow finds no room while every pool is in use', async () => {
    const h = harness({ budget: 1, poolMax: 1 });
    const busy = await h.pools.promote('busy', 1);
    expect(busy?.limiter.tryAcquire('busy')).toBe(true);
    expect(await h.pools.openNow('cold', 1)).toBeUndefined();
    expect(h.ended).toEqual([]);
    busy?.limiter.release('busy');
    expect(await h.pools.openNow('cold', 1)).toBeDefined();
    expect(h.ended).toEqual(['busy']);
  });

  it('DEDICATED_MAX_CONNECTIONS caps all pools together, below the budget', async () => {
    const h = harness({ budget: 100, maxDedicated: 5, poolMax: 4 });
    h.rates.set('a', 400).set('b', 400);
    expect((await h.pools.promote('a', 400))?.size).toBe(4);
    // Only 1 more fits under the cap, and 'a' is not colder than 'b': no pool for 'b'.
    expect(await h.pools.promote('b', 400)).toBeUndefined();
    expect(h.budget.reserved()).toBe(4);
  });

  it('a failed login gives the reservation back and the tenant waits 5 s before the next try', async () => {
    const h = harness();
    h.failLogins(true);
    await expect(h.pools.promote('a', 100)).rejects.toMatchObject({ code: '28P01' });
    expect(h.budget.reserved()).toBe(0);
    h.failLogins(false);
    h.pools.promoteInBackground('a', 100);
    await new Promise((r) => setTimeout(r, 0));
    expect(h.opened).toEqual([]);
    h.advance(5000);
    h.pools.promoteInBackground('a', 100);
    await new Promise((r) => setTimeout(r, 0));
    expect(h.opened).toEqual(['a']);
  });

  it('a promotion still under way when everything is evicted is closed, not kept', async () => {
    const h = harness();
    const pending = h.pools.promote('a', 100);
    h.pools.evictAll();
    expect(await pending).toBeUndefined();
    expect(h.pools.get('a')).toBeUndefined();
    expect(h.ended).toEqual(['a']);
    expect(h.budget.reserved()).toBe(0);
  });

  it('a closing pool ends its connections only after its statements in flight, and gives its share back only then', async () => {
    const h = harness();
    const pool = await h.pools.promote('a', 100);
    expect(pool?.limiter.tryAcquire('a')).toBe(true);
    const evicted = h.pools.evict('a');
    await new Promise((r) => setTimeout(r, 30));
    // postgres.js would answer end() of a busy connection before its socket closes: not called yet.
    expect(h.ended).toEqual([]);
    expect(h.budget.reserved()).toBe(1);
    pool?.limiter.release('a');
    await evicted;
    expect(h.ended).toEqual(['a']);
    expect(h.budget.reserved()).toBe(0);
  });

  it('the sweeper closes pools idle past the timeout and returns their connections', async () => {
    const h = harness();
    await h.pools.promote('a', 100);
    h.advance(59_999);
    expect(h.pools.sweepIdle()).toBe(0);
    h.advance(2);
    expect(h.pools.sweepIdle()).toBe(1);
    await h.pools.close();
    expect(h.ended).toEqual(['a']);
    expect(h.budget.reserved()).toBe(0);
  });
});
