// The promotion rule (src/pool/promotion.ts): who gets a dedicated pool, of what size, within what cap.
import { describe, expect, it } from 'vitest';
import { fitsDedicatedCap, isOutgrown, poolSizeFor, shouldPromote, type PromotionPolicy } from '../../src/pool/promotion.js';
import { createRateTracker } from '../../src/pool/rate.js';

const policy: PromotionPolicy = { promoteRps: 500, poolMax: 5, rpsPerConnection: 1000, maxDedicatedConnections: 16 };

describe('promotion', () => {
  it('promotes only a tenant at PROMOTE_RPS or more', () => {
    expect(shouldPromote(499, policy)).toBe(false);
    expect(shouldPromote(500, policy)).toBe(true);
  });

  it('sizes a pool for its rate, one connection per DEDICATED_CONNECTION_RPS, between 1 and POOL_MAX', () => {
    expect(poolSizeFor(500, policy)).toBe(1);
    expect(poolSizeFor(1000, policy)).toBe(1);
    expect(poolSizeFor(1001, policy)).toBe(2);
    expect(poolSizeFor(3500, policy)).toBe(4);
    expect(poolSizeFor(50_000, policy)).toBe(5);
    expect(poolSizeFor(Number.POSITIVE_INFINITY, policy)).toBe(5);
  });

  it('never sizes one pool beyond DEDICATED_MAX_CONNECTIONS', () => {
    expect(poolSizeFor(50_000, { ...policy, maxDedicatedConnections: 3 })).toBe(3);
  });

  it('regrows a pool once its tenant runs at twice what it was sized for, and never beyond POOL_MAX', () => {
    expect(isOutgrown(1, 2000, policy)).toBe(false);
    expect(isOutgrown(1, 2001, policy)).toBe(true);
    expect(isOutgrown(2, 4001, policy)).toBe(true);
    expect(isOutgrown(5, 1_000_000, policy)).toBe(false);
  });

  it('keeps all dedicated pools together within DEDICATED_MAX_CONNECTIONS', () => {
    expect(fitsDedicatedCap(12, 4, policy)).toBe(true);
    expect(fitsDedicatedCap(13, 4, policy)).toBe(false);
  });

  it('with an injected clock: a tenant at 100 req/s stays shared, a burst of 600 in a second is promoted within it', () => {
    let t = 0;
    const rates = createRateTracker(100, () => t);
    let promotedAt: number | undefined;
    // 100 requests a second for 5 seconds: the rate estimate never reaches PROMOTE_RPS.
    for (let i = 0; i < 500; i++) {
      t = i * 10;
      expect(shouldPromote(rates.hit('calm'), policy)).toBe(false);
    }
    // 600 requests in the next second, evenly spread: promoted on the 500th of them.
    for (let i = 0; i < 600 && promotedAt === undefined; i++) {
      t = 10_000 + Math.floor(i * (1000 / 600));
      if (shouldPromote(rates.hit('busy'), policy)) promotedAt = i + 1;
    }
    expect(promotedAt).toBe(500);
  });
});
