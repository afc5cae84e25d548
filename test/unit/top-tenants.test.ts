// The policy choosing which tenants get series of their own (src/http/top-tenants.ts), on a clock the
// test moves.
import { describe, expect, it } from 'vitest';
import { createTopTenants, type TopTenantsOptions } from '../../src/http/top-tenants.js';

interface Tally {
  readonly tenant: string;
  hits: number;
}

function setup(options: Partial<TopTenantsOptions<Tally>> & { slots: number }) {
  let clock = 0;
  const closed: string[] = [];
  const other: Tally = { tenant: 'other', hits: 0 };
  const top = createTopTenants<Tally>({
    open: (tenant) => ({ tenant, hits: 0 }),
    other,
    close: (tenant) => closed.push(tenant),
    now: () => clock,
    rankEveryMs: 60_000,
    halfLifeMs: 300_000,
    ...options,
  });
  /** `count` requests of the tenant, each counted in the series it is given. */
  const send = (tenant: string, count = 1): void => {
    for (let i = 0; i < count; i++) top.hit(tenant).hits++;
  };
  const held = (): string[] => [...top.holders()].map(([id]) => id).sort();
  return { top, other, closed, send, held, advance: (ms: number) => (clock += ms) };
}

describe('top tenants', () => {
  it('gives free slots to the first tenants at once; their series count once shown (scraped at zero)', () => {
    const { top, other, send, held } = setup({ slots: 2 });
    send('a', 3);
    send('b', 2);
    send('c', 5);
    expect(held()).toEqual(['a', 'b']);
    // Not scraped yet: everything is in other, and a's own series is still at zero.
    const [[, ownA]] = [...top.holders()] as [[string, Tally]];
    expect(ownA.hits).toBe(0);
    expect(other.hits).toBe(10);
    top.reveal();
    send('a');
    send('c');
    expect(top.seriesOf('a')).toBe(ownA);
    expect(ownA.hits).toBe(1);
    expect(top.seriesOf('c')).toBe(other);
    expect(other.hits).toBe(11);
  });

  it('holds at most N tenants and one other series for 10,000 tenants', () => {
    const { top, send, advance } = setup({ slots: 5 });
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 10_000; i++) send(`t${i}`, 1 + (i % 7));
      advance(60_000);
      top.rank();
      expect([...top.holders()].length).toBe(5);
    }
  });

  it('with N = 0 counts every tenant in other', () => {
    const { top, other, send, advance } = setup({ slots: 0 });
    send('a', 10);
    advance(60_000);
    top.rank();
    expect([...top.holders()]).toEqual([]);
    expect(other.hits).toBe(10);
  });

  it('ranks only once per interval, on the clock', () => {
    const { top, advance } = setup({ slots: 1 });
    expect(top.rank()).toBe(false);
    advance(59_999);
    expect(top.rank()).toBe(false);
    advance(1);
    expect(top.rank()).toBe(true);
    expect(top.rank()).toBe(false);
  });

  it('a tenant much busier than the weakest holder takes its slot at the next ranking, counting from zero', () => {
    const { top, other, closed, send, held, advance } = setup({ slots: 2 });
    send('a', 1);
    send('b', 1);
    top.reveal();
    send('a', 99);
    send('b', 9);
    send('c', 600);
    expect(top.seriesOf('b').hits).toBe(9);
    advance(60_000);
    expect(top.rank()).toBe(true);
    expect(held()).toEqual(['a', 'c']);
    expect(closed).toEqual(['b']);
    // c's requests until its series is first scraped (at zero) go to other, as b's do from now on.
    const ownC = [...top.holders()].find(([id]) => id === 'c')?.[1] as Tally;
    expect(ownC.hits).toBe(0);
    send('c');
    expect(other.hits).toBe(2 + 600 + 1);
    top.reveal();
    send('c');
    send('b');
    expect(ownC.hits).toBe(1);
    expect(other.hits).toBe(2 + 600 + 1 + 1);
    expect(top.changes()).toBe(3);
  });

  it('tenants of similar traffic do not swap slots (a challenger must be 1.5 times busier)', () => {
    const { top, send, held, advance } = setup({ slots: 1 });
    send('a', 100);
    send('b', 140);
    advance(60_000);
    top.rank();
    expect(held()).toEqual(['a']);
    // Traffic flips back and forth around the same level: the holder keeps its slot.
    for (let i = 0; i < 10; i++) {
      send('a', i % 2 === 0 ? 90 : 120);
      send('b', i % 2 === 0 ? 120 : 90);
      advance(60_000);
      top.rank();
      expect(held()).toEqual(['a']);
    }
    expect(top.changes()).toBe(1);
  });

  it('a holder gone quiet loses its slot to a steady tenant as its rate decays, and can win it back', () => {
    const { top, send, held, advance } = setup({ slots: 1 });
    send('a', 600);
    advance(60_000);
    top.rank();
    let minutes = 0;
    while (held()[0] === 'a') {
      send('b', 60);
      advance(60_000);
      top.rank();
      minutes++;
      expect(minutes).toBeLessThan(30);
    }
    expect(held()).toEqual(['b']);
    // a's rate (10/s) decays to within 1.5 of b's (1/s): log2(10 / 1.5) half-lives, about 14 minutes.
    expect(minutes).toBeGreaterThan(10);
    // a, remembered as a candidate, comes back at ten times b's rate.
    send('a', 600);
    send('b', 60);
    advance(60_000);
    top.rank();
    expect(held()).toEqual(['a']);
  });

  it('remembers at most the candidate capacity between rankings; a busy tenant arriving early still wins', () => {
    const { top, send, held, advance } = setup({ slots: 1, candidates: 100 });
    send('holder', 1);
    send('busy', 50);
    for (let i = 0; i < 10_000; i++) send(`cold${i}`);
    advance(60_000);
    top.rank();
    expect(held()).toEqual(['busy']);
  });

  it('refuses options that cannot work', () => {
    const base = { open: () => 0, other: 0, now: () => 0 };
    expect(() => createTopTenants({ ...base, slots: -1 })).toThrow(RangeError);
    expect(() => createTopTenants({ ...base, slots: 1.5 })).toThrow(RangeError);
    expect(() => createTopTenants({ ...base, slots: 1, challengeFactor: 0.5 })).toThrow(RangeError);
    expect(() => createTopTenants({ ...base, slots: 1, rankEveryMs: 0 })).toThrow(RangeError);
  });
});
