import { describe, expect, it } from 'vitest';
import { createRateLimiter, effectiveLimit } from '../../src/http/rate-limit.js';

describe('token bucket', () => {
  it('allows a burst, then refuses with the seconds until the next token, then refills at the rate', () => {
    let t = 0;
    const limiter = createRateLimiter(100, () => t);
    const limit = { rps: 2, burst: 3 };
    expect([0, 0, 0].map(() => limiter.take('a', limit))).toEqual([0, 0, 0]);
    expect(limiter.take('a', limit)).toBe(1);
    t += 500; // one token back at 2/s
    expect(limiter.take('a', limit)).toBe(0);
    expect(limiter.take('a', limit)).toBe(1);
    t += 10_000; // never more than the burst
    expect([0, 0, 0, 0].map(() => limiter.take('a', limit))).toEqual([0, 0, 0, 1]);
  });

  it('keeps tenants apart', () => {
    const limiter = createRateLimiter(100, () => 0);
    const limit = { rps: 1, burst: 1 };
    expect(limiter.take('a', limit)).toBe(0);
    expect(limiter.take('a', limit)).toBe(1);
    expect(limiter.take('b', limit)).toBe(0);
  });

  it('rounds a long wait up: at 0.5 tokens per second a refused caller waits 2 s', () => {
    const limiter = createRateLimiter(100, () => 0);
    const slow = { rps: 0.5, burst: 1 };
    expect(limiter.take('a', slow)).toBe(0);
    expect(limiter.take('a', slow)).toBe(2);
  });

  it('treats rps 0 as unlimited', () => {
    const limiter = createRateLimiter(100, () => 0);
    for (let i = 0; i < 1000; i++) expect(limiter.take('a', { rps: 0, burst: 1 })).toBe(0);
  });
});

describe('effectiveLimit', () => {
  const global = { rps: 100, burst: 200 };
  it('uses the gateway-wide limit without an override', () => {
    expect(effectiveLimit(global, { rps: null, burst: null })).toBe(global);
  });
  it("uses the tenant's override, with a default burst of twice its rate", () => {
    expect(effectiveLimit(global, { rps: 5, burst: null })).toEqual({ rps: 5, burst: 10 });
    expect(effectiveLimit(global, { rps: 5, burst: 7 })).toEqual({ rps: 5, burst: 7 });
    expect(effectiveLimit(global, { rps: 0, burst: null })).toEqual({ rps: 0, burst: 1 });
  });
});
