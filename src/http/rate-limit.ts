// Per-tenant rate limits: a token bucket per tenant (RATE_LIMIT_RPS refill, RATE_LIMIT_BURST capacity,
// or the tenant's own override from the catalog). Buckets live in an LRU, so memory stays bounded
// however many tenants call; a bucket that falls out simply starts full again.
import { LRUCache } from 'lru-cache';

export interface RateLimit {
  /** Tokens per second; 0 means unlimited. */
  readonly rps: number;
  readonly burst: number;
}

export interface RateLimiter {
  /** Takes a token; returns 0 when allowed, else the seconds to wait before retrying (≥ 1). */
  take(tenantId: string, limit: RateLimit): number;
}

interface Bucket {
  tokens: number;
  last: number;
}

export function createRateLimiter(maxTenants: number, now: () => number = Date.now): RateLimiter {
  const buckets = new LRUCache<string, Bucket>({ max: maxTenants });
  return {
    take(tenantId, limit) {
      if (limit.rps <= 0) return 0;
      const t = now();
      let bucket = buckets.get(tenantId);
      if (!bucket) {
        bucket = { tokens: limit.burst, last: t };
        buckets.set(tenantId, bucket);
      } else {
        bucket.tokens = Math.min(limit.burst, bucket.tokens + ((t - bucket.last) * limit.rps) / 1000);
        bucket.last = t;
      }
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / limit.rps));
    },
  };
}

/** The tenant's override if it has one, else the gateway-wide limit. */
export function effectiveLimit(global: RateLimit, override: { rps: number | null; burst: number | null }): RateLimit {
  if (override.rps === null) return global;
  return { rps: override.rps, burst: override.burst ?? Math.max(1, override.rps * 2) };
}
