// One server's dedicated pools: hot tenants' pools, each logged in as the tenant's own role and sized
// for its rate (src/pool/promotion.ts), in an LRU under the server's connection budget and
// DEDICATED_MAX_CONNECTIONS. When either is spent, the least recently used idle pool that is colder
// than the candidate gives its connections back first. A pool's reservation is returned only once its
// connections are gone, so the budget holds at the server.
import { LRUCache } from 'lru-cache';
import type { Sql } from 'postgres';
import type { ConnectionBudget } from './budget.js';
import { createLimiter, type Limiter, type WaitQueue } from './limiter.js';
import { fitsDedicatedCap, poolSizeFor, type PromotionPolicy } from './promotion.js';
import type { RateTracker } from './rate.js';

/** Opens a tenant's dedicated pool of `size` connections and proves the login. */
export type PoolOpener = (tenantId: string, size: number) => Promise<Sql>;

export interface DedicatedPool {
  readonly sql: Sql;
  /** Connections reserved for it in the budget. */
  readonly size: number;
  readonly limiter: Limiter;
  lastUsed: number;
  closing: boolean;
  closed: Promise<void>;
}

export interface DedicatedPoolsOptions {
  readonly policy: PromotionPolicy;
  readonly maxPools: number;
  readonly idleTimeoutMs: number;
  /** Statements in flight per connection (the driver pipelines them); 1 = no pipelining. */
  readonly pipelineDepth: number;
  /** How long a closing pool may take to finish its queries before its connections are cut. */
  readonly drainTimeoutSeconds: number;
  readonly now: () => number;
}

export interface DedicatedPoolsDeps {
  readonly open: PoolOpener;
  readonly budget: ConnectionBudget;
  readonly queue: WaitQueue;
  readonly rates: RateTracker;
  /** Told about promotions that failed (for logs); never about secrets. */
  readonly onPromotionFailed?: (tenantId: string, err: unknown) => void;
}

export interface DedicatedPoolsStats {
  readonly open: number;
  readonly creating: number;
  readonly closing: number;
  readonly created: number;
  readonly evicted: number;
  readonly inUse: number;
}

export interface DedicatedPools {
  /** The tenant's pool if one is open and not closing (marks it recently used). */
  get(tenantId: string): DedicatedPool | undefined;
  /** Opens a pool sized for `rate` now (or joins the opening in flight); undefined when there is no room. */
  promote(tenantId: string, rate: number): Promise<DedicatedPool | undefined>;
  /**
   * For a tenant served on its own pool only (a database tenant): opens one sized for `rate` now (or
   * joins the opening in flight), any idle pool giving way, least recently used first; undefined when
   * none can.
   */
  openNow(tenantId: string, rate: number): Promise<DedicatedPool | undefined>;
  /** Starts a promotion in the background unless one runs or a back-off says wait. */
  promoteInBackground(tenantId: string, rate: number): void;
  /** Closes this pool if it is still the tenant's (its login failed). */
  discard(tenantId: string, pool: DedicatedPool): void;
  /** Closes the tenant's pool, waiting for the statements in flight on it. */
  evict(tenantId: string): Promise<void>;
  /** Closes every pool; promotions under way are not stored. */
  evictAll(): void;
  /** Closes pools idle for longer than the idle timeout; returns how many. */
  sweepIdle(): number;
  stats(): DedicatedPoolsStats;
  close(): Promise<void>;
}

// After a promotion found no room, try again no sooner than this: a saturated gateway must not scan
// its pools on every request.
const PROMOTION_BACKOFF_MS = 1000;
// A tenant whose pool could not be opened (login refused, server full) waits this long before trying
// again, so a hot tenant does not evict colder pools and retry a failing login on every request.
const FAILED_PROMOTION_BACKOFF_MS = 5000;

/** Resolves once nothing holds a slot of the limiter, or after `timeoutMs`. */
function drained(limiter: Limiter, timeoutMs: number): Promise<void> {
  if (limiter.inUse() === 0) return Promise.resolve();
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const check = (): void => {
      if (limiter.inUse() === 0 || Date.now() >= deadline) resolve();
      else setTimeout(check, 5).unref();
    };
    check();
  });
}

export function createDedicatedPools(deps: DedicatedPoolsDeps, options: DedicatedPoolsOptions): DedicatedPools {
  const { budget, rates, queue } = deps;
  const { policy, now } = options;
  // Connections reserved by dedicated pools, open or still closing (their budget share is not back yet).
  let held = 0;
  const closing = new Set<Promise<void>>();
  const creating = new Map<string, Promise<DedicatedPool | undefined>>();
  let created = 0;
  let evicted = 0;
  let promotionBlockedUntil = 0;
  const failedPromotions = new LRUCache<string, number>({ max: 10_000 });
  // evictAll() bumps it: a promotion that began before must not store its pool afterwards.
  let generation = 0;
  let shuttingDown = false;

  const giveBack = (size: number): void => {
    budget.release(size);
    held -= size;
  };

  const closePool = (pool: DedicatedPool): void => {
    pool.closing = true;
    evicted++;
    // At shutdown the HTTP server has already drained; and postgres.js's end() waits its full timeout
    // when one of the pool's connections was killed mid-query, so do not wait long then.
    const timeoutSeconds = shuttingDown ? 1 : options.drainTimeoutSeconds;
    // postgres.js's end() resolves for a busy connection as soon as it sends Terminate, before the
    // socket has closed; for an idle one only once it has. The chaos soak saw the budget's share given
    // back (and a new pool opened) while the old backends were still there. So: let the statements in
    // flight finish first, then end idle connections, and give the share back only after that.
    pool.closed = drained(pool.limiter, timeoutSeconds * 1000)
      .then(() => pool.sql.end({ timeout: timeoutSeconds }))
      .catch(() => undefined)
      .then(() => giveBack(pool.size));
    closing.add(pool.closed);
    void pool.closed.finally(() => closing.delete(pool.closed));
  };

  const pools = new LRUCache<string, DedicatedPool>({ max: options.maxPools, dispose: closePool });

  /** The least recently used pool that is idle and colder than `rate`. */
  const coldestIdle = (rate: number): string | undefined => {
    for (const [tenantId, pool] of pools.rentries() as Generator<[string, DedicatedPool]>) {
      if (!pool.closing && pool.limiter.inUse() === 0 && rates.rate(tenantId) < rate) return tenantId;
    }
    return undefined;
  };

  const closeColdest = async (rate: number): Promise<boolean> => {
    const victim = coldestIdle(rate);
    if (victim === undefined) return false;
    const pool = pools.peek(victim) as DedicatedPool;
    pools.delete(victim);
    await pool.closed;
    return true;
  };

  const reserve = async (rate: number, size: number): Promise<boolean> => {
    // MAX_POOLS follows the same rule as the budget: only an idle, colder pool gives way.
    while (pools.size >= options.maxPools) {
      if (!(await closeColdest(rate))) return false;
    }
    const take = (): boolean => {
      if (!fitsDedicatedCap(held, size, policy) || !budget.tryReserve(size)) return false;
      held += size;
      return true;
    };
    for (let attempt = 0; attempt < 3; attempt++) {
      if (take()) return true;
      if (!(await closeColdest(rate))) return false;
    }
    return take();
  };

  const open = async (tenantId: string, rate: number, size: number): Promise<DedicatedPool | undefined> => {
    const startedIn = generation;
    if (!(await reserve(rate, size))) {
      promotionBlockedUntil = now() + PROMOTION_BACKOFF_MS;
      return undefined;
    }
    let sql: Sql;
    try {
      sql = await deps.open(tenantId, size);
    } catch (err) {
      giveBack(size);
      failedPromotions.set(tenantId, now() + FAILED_PROMOTION_BACKOFF_MS);
      throw err;
    }
    if (generation !== startedIn) {
      // Everything was forgotten meanwhile (change feed gap): this pool may rest on stale state.
      await sql.end({ timeout: 1 }).catch(() => undefined);
      giveBack(size);
      return undefined;
    }
    const slots = size * options.pipelineDepth;
    // All of a dedicated pool is its tenant's, so every connection may carry a short pipeline.
    const pool: DedicatedPool = {
      sql,
      size,
      limiter: createLimiter({ slots, perTenantSlots: slots, queue }),
      lastUsed: now(),
      closing: false,
      closed: Promise.resolve(),
    };
    created++;
    pools.set(tenantId, pool);
    return pool;
  };

  /** `yieldsBelow`: pools of tenants colder than this may be closed to make room. */
  const promote = (tenantId: string, rate: number, yieldsBelow = rate): Promise<DedicatedPool | undefined> => {
    const inFlight = creating.get(tenantId);
    if (inFlight) return inFlight;
    const pending = open(tenantId, yieldsBelow, poolSizeFor(rate, policy)).finally(() => creating.delete(tenantId));
    creating.set(tenantId, pending);
    return pending;
  };

  return {
    get(tenantId) {
      const pool = pools.get(tenantId);
      return pool && !pool.closing ? pool : undefined;
    },
    promote: (tenantId, rate) => promote(tenantId, rate),
    openNow: (tenantId, rate) => promote(tenantId, rate, Number.POSITIVE_INFINITY),
    promoteInBackground(tenantId, rate) {
      if (creating.has(tenantId) || now() < promotionBlockedUntil) return;
      const retryAt = failedPromotions.get(tenantId);
      if (retryAt !== undefined && now() < retryAt) return;
      promote(tenantId, rate).catch((err: unknown) => deps.onPromotionFailed?.(tenantId, err));
    },
    discard(tenantId, pool) {
      if (pools.peek(tenantId) === pool) pools.delete(tenantId);
    },
    async evict(tenantId) {
      failedPromotions.delete(tenantId);
      await creating.get(tenantId)?.catch(() => undefined);
      const pool = pools.peek(tenantId);
      pools.delete(tenantId);
      // Drained: the statements in flight on it have finished (or the drain timeout cut them).
      await pool?.closed;
    },
    evictAll() {
      generation++;
      failedPromotions.clear();
      pools.clear();
    },
    sweepIdle() {
      const cutoff = now() - options.idleTimeoutMs;
      const idle: string[] = [];
      for (const [tenantId, pool] of pools.entries() as Generator<[string, DedicatedPool]>) {
        if (!pool.closing && pool.limiter.inUse() === 0 && pool.lastUsed < cutoff) idle.push(tenantId);
      }
      for (const tenantId of idle) pools.delete(tenantId);
      return idle.length;
    },
    stats() {
      let inUse = 0;
      for (const pool of pools.values() as Generator<DedicatedPool>) inUse += pool.limiter.inUse();
      return { open: pools.size, creating: creating.size, closing: closing.size, created, evicted, inUse };
    },
    async close() {
      shuttingDown = true;
      await Promise.allSettled([...creating.values()]);
      pools.clear();
      await Promise.all([...closing]);
    },
  };
}
