// Per-tenant request rates, for promoting hot tenants to a dedicated pool. Fixed one-second windows in
// an LRU, so memory stays bounded however many tenants are seen (about 100 bytes each).
import { LRUCache } from 'lru-cache';

interface Window {
  start: number;
  count: number;
  previousRate: number;
}

export interface RateTracker {
  /** Counts one request and returns the tenant's current rate estimate in requests per second. */
  hit(tenantId: string): number;
  rate(tenantId: string): number;
  size(): number;
}

const WINDOW_MS = 1000;

export function createRateTracker(maxTenants: number, now: () => number = Date.now): RateTracker {
  const windows = new LRUCache<string, Window>({ max: maxTenants });

  const current = (tenantId: string, t: number): Window | undefined => {
    const w = windows.peek(tenantId);
    if (!w) return undefined;
    const elapsed = t - w.start;
    if (elapsed >= WINDOW_MS) {
      // A gap of more than one window means the tenant was quiet: its previous rate is 0.
      w.previousRate = elapsed < 2 * WINDOW_MS ? (w.count * 1000) / elapsed : 0;
      w.start = t;
      w.count = 0;
    }
    return w;
  };

  // The estimate is the last full window's rate, or this window's count once it exceeds that: a
  // burst is recognised within its first second.
  const estimate = (w: Window): number => Math.max(w.previousRate, w.count);

  return {
    hit(tenantId) {
      const t = now();
      let w = current(tenantId, t);
      if (!w) {
        w = { start: t, count: 0, previousRate: 0 };
        windows.set(tenantId, w);
      } else {
        windows.get(tenantId); // refresh recency
      }
      w.count++;
      return estimate(w);
    },
    rate(tenantId) {
      const w = current(tenantId, now());
      return w ? estimate(w) : 0;
    },
    size: () => windows.size,
  };
}
