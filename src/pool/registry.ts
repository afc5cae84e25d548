// The pool registry: decides, per request, which connections serve a tenant, within one global budget.
//
// - Hot tenants (request rate ≥ PROMOTE_RPS; the rule and its reasons are in src/pool/promotion.ts) get
//   a dedicated pool logged in as their own role, sized for their rate. Its connections are reserved
//   from the budget (and from DEDICATED_MAX_CONNECTIONS) when it is created; when either is spent, the
//   least recently used idle pool that is colder than the candidate gives its connections back first.
// - Every other tenant runs on the shared pool (src/pool/shared-pool.ts), one powerless role scoped
//   per statement, so a cold tenant never pays for a login and ten thousand tenants fit in a fixed
//   number of connections.
// - Each pool admits requests through a fair limiter (src/pool/limiter.ts): a tenant holds at most
//   POOL_MAX connections of any pool, waits in a bounded queue, and gets 503 + Retry-After after
//   QUEUE_TIMEOUT.
// Promotion happens in the background; a request never waits for a pool to be created.
import { LRUCache } from 'lru-cache';
import type { Row, Sql } from 'postgres';
import { FOREIGN_KEY_VIOLATION, isAuthenticationFailure, translateDbError } from '../db/errors.js';
import { renderBound, type StatementBuilder } from '../db/statement.js';
import { Unavailable } from '../errors.js';
import type { TenantDirectory, TenantEntry } from '../tenants/directory.js';
import type { ConnectionBudget } from './budget.js';
import { createLimiter, type Limiter, type WaitQueue } from './limiter.js';
import { fitsDedicatedCap, isOutgrown, poolSizeFor, shouldPromote, type PromotionPolicy } from './promotion.js';
import type { RateTracker } from './rate.js';
import type { SharedPool } from './shared-pool.js';

/** Opens a tenant's dedicated pool of `size` connections and proves the login. */
export type PoolOpener = (tenantId: string, size: number) => Promise<Sql>;

export interface RegistryOptions {
  /** Dedicated pool size, and the most connections one tenant may hold of the shared pool. */
  readonly poolMax: number;
  readonly maxPools: number;
  readonly idleTimeoutMs: number;
  readonly promoteRps: number;
  /** Requests per second one dedicated connection is sized for (default 1000). */
  readonly rpsPerConnection?: number;
  /** Connections all dedicated pools may hold together (default: no cap beyond the budget). */
  readonly maxDedicatedConnections?: number;
  /** A statement not answered within this gets 503, whatever the driver is doing (reconnecting…). */
  readonly deadlineMs?: number;
  /** Statements in flight per dedicated connection (the driver pipelines them); 1 = no pipelining. */
  readonly pipelineDepth?: number;
  /** How long a closing pool may take to finish its queries before its connections are cut. */
  readonly drainTimeoutSeconds?: number;
  readonly now?: () => number;
}

export interface RegistryDeps {
  readonly openDedicated: PoolOpener;
  readonly shared: SharedPool;
  readonly sharedLimiter: Limiter;
  readonly directory: TenantDirectory;
  readonly budget: ConnectionBudget;
  readonly queue: WaitQueue;
  readonly rates: RateTracker;
  /** Told about promotions that failed (for logs); never about secrets. */
  readonly onPromotionFailed?: (tenantId: string, err: unknown) => void;
}

export interface RegistryStats {
  readonly dedicatedOpen: number;
  readonly creating: number;
  readonly closing: number;
  readonly created: number;
  readonly evicted: number;
  readonly dedicatedInUse: number;
  readonly sharedInUse: number;
  readonly sharedSlots: number;
  readonly waiting: number;
  readonly budgetReserved: number;
  readonly budgetTotal: number;
  readonly servedDedicated: number;
  readonly servedShared: number;
}

export interface PoolRegistry {
  /** The request path: runs the statement for the tenant on its dedicated pool or the shared one. */
  query(tenantId: string, build: StatementBuilder): Promise<Row[]>;
  /** Runs `fn` on the tenant's dedicated pool, creating it now if the budget allows (else 503). */
  run<T>(tenantId: string, fn: (sql: Sql) => Promise<T>): Promise<T>;
  /** Forgets the tenant (cached role and status) and closes its dedicated pool, draining it. */
  evict(tenantId: string): Promise<void>;
  /** Forgets every tenant and closes every dedicated pool (after a change feed gap). */
  evictAll(): void;
  /** Closes dedicated pools idle for longer than the idle timeout; returns how many. */
  sweepIdle(): number;
  stats(): RegistryStats;
  /** Closes every pool and waits until their connections are gone. */
  close(): Promise<void>;
}

interface Dedicated {
  readonly sql: Sql;
  /** Connections reserved for it in the budget. */
  readonly size: number;
  readonly limiter: Limiter;
  lastUsed: number;
  closing: boolean;
  closed: Promise<void>;
}

// After a promotion found no room, try again no sooner than this: a saturated gateway must not scan
// its pools on every request.
const PROMOTION_BACKOFF_MS = 1000;

const FAILED_PROMOTION_BACKOFF_MS = 5000;

export function createPoolRegistry(deps: RegistryDeps, options: RegistryOptions): PoolRegistry {
  const { budget, directory, rates, shared, sharedLimiter } = deps;
  const now = options.now ?? Date.now;
  const policy: PromotionPolicy = {
    promoteRps: options.promoteRps,
    poolMax: options.poolMax,
    rpsPerConnection: options.rpsPerConnection ?? 1000,
    maxDedicatedConnections: options.maxDedicatedConnections ?? Number.MAX_SAFE_INTEGER,
  };
  // Connections reserved by dedicated pools, open or still closing (their budget share is not back yet).
  let dedicatedHeld = 0;
  const drainTimeout = options.drainTimeoutSeconds ?? 10;
  const closing = new Set<Promise<void>>();
  const creating = new Map<string, Promise<Dedicated | undefined>>();
  let created = 0;
  let evicted = 0;
  let servedDedicated = 0;
  let servedShared = 0;
  let promotionBlockedUntil = 0;
  // A tenant whose pool could not be opened (login refused, server full) waits before trying again,
  // so a hot tenant does not evict colder pools and retry a failing login on every request.
  const failedPromotions = new LRUCache<string, number>({ max: 10_000 });
  // evictAll() bumps it: a promotion that began before must not store its pool afterwards.
  let generation = 0;

  let shuttingDown = false;

  const closeEntry = (entry: Dedicated): void => {
    entry.closing = true;
    evicted++;
    // The reservation is returned only once the connections are gone, so the budget holds at the server.
    // At shutdown the HTTP server has already drained; and postgres.js's end() waits its full timeout
    // when one of the pool's connections was killed mid-query, so do not wait long then.
    entry.closed = entry.sql
      .end({ timeout: shuttingDown ? 1 : drainTimeout })
      .catch(() => undefined)
      .then(() => {
        budget.release(entry.size);
        dedicatedHeld -= entry.size;
      });
    closing.add(entry.closed);
    void entry.closed.finally(() => closing.delete(entry.closed));
  };

  const pools = new LRUCache<string, Dedicated>({ max: options.maxPools, dispose: closeEntry });

  /** The least recently used dedicated pool that is idle and colder than `rate`. */
  const coldestIdle = (rate: number): string | undefined => {
    for (const [tenantId, entry] of pools.rentries() as Generator<[string, Dedicated]>) {
      if (!entry.closing && entry.limiter.inUse() === 0 && rates.rate(tenantId) < rate) return tenantId;
    }
    return undefined;
  };

  const reserveDedicated = async (rate: number, size: number): Promise<boolean> => {
    // MAX_POOLS follows the same rule as the budget: only an idle, colder pool gives way.
    while (pools.size >= options.maxPools) {
      const victim = coldestIdle(rate);
      if (victim === undefined) return false;
      const entry = pools.peek(victim) as Dedicated;
      pools.delete(victim);
      await entry.closed;
    }
    const take = (): boolean => {
      if (!fitsDedicatedCap(dedicatedHeld, size, policy) || !budget.tryReserve(size)) return false;
      dedicatedHeld += size;
      return true;
    };
    for (let attempt = 0; attempt < 3; attempt++) {
      if (take()) return true;
      const victim = coldestIdle(rate);
      if (victim === undefined) return false;
      const entry = pools.peek(victim) as Dedicated;
      pools.delete(victim);
      await entry.closed;
    }
    return take();
  };

  const giveBack = (size: number): void => {
    budget.release(size);
    dedicatedHeld -= size;
  };

  const promote = (tenantId: string, rate: number): Promise<Dedicated | undefined> => {
    const inFlight = creating.get(tenantId);
    if (inFlight) return inFlight;
    const size = poolSizeFor(rate, policy);
    const startedIn = generation;
    const pending = (async () => {
      if (!(await reserveDedicated(rate, size))) {
        promotionBlockedUntil = now() + PROMOTION_BACKOFF_MS;
        return undefined;
      }
      let sql: Sql;
      try {
        sql = await deps.openDedicated(tenantId, size);
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
      const entry: Dedicated = {
        sql,
        size,
        // All of a dedicated pool is its tenant's, so every connection may carry a short pipeline.
        limiter: createLimiter({
          slots: size * (options.pipelineDepth ?? 1),
          perTenantSlots: size * (options.pipelineDepth ?? 1),
          queue: deps.queue,
        }),
        lastUsed: now(),
        closing: false,
        closed: Promise.resolve(),
      };
      created++;
      pools.set(tenantId, entry);
      return entry;
    })().finally(() => creating.delete(tenantId));
    creating.set(tenantId, pending);
    return pending;
  };

  const maybePromote = (tenantId: string, rate: number): void => {
    if (creating.has(tenantId) || now() < promotionBlockedUntil) return;
    const retryAt = failedPromotions.get(tenantId);
    if (retryAt !== undefined && now() < retryAt) return;
    promote(tenantId, rate).catch((err: unknown) => deps.onPromotionFailed?.(tenantId, err));
  };

  const withDeadline = <T>(work: Promise<T>): Promise<T> => {
    if (options.deadlineMs === undefined) return work;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Unavailable('database_timeout', 'the database did not answer in time; retry shortly', 1)),
        options.deadlineMs,
      );
    });
    return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
  };

  const acquire = async (limiter: Limiter, tenantId: string): Promise<void> => {
    if (!limiter.tryAcquire(tenantId)) await limiter.wait(tenantId);
  };

  const onDedicated = async <T>(
    tenantId: string,
    entry: Dedicated,
    fn: (sql: Sql) => Promise<T>,
    reroute: () => Promise<T>,
  ): Promise<T> => {
    await acquire(entry.limiter, tenantId);
    if (entry.closing) {
      // Evicted (rotation, deletion) while we waited: its connections are ending, go round again.
      entry.limiter.release(tenantId);
      return reroute();
    }
    try {
      return await withDeadline(fn(entry.sql));
    } catch (err) {
      // The role's password changed or the role is gone (possibly via another instance): drop the pool
      // and the cached entry so the next request re-reads the catalog instead of failing forever.
      if (isAuthenticationFailure(err)) {
        directory.invalidate(tenantId);
        if (pools.peek(tenantId) === entry) pools.delete(tenantId);
      }
      if ((err as { code?: unknown }).code === FOREIGN_KEY_VIOLATION) await recheckTenant(tenantId);
      throw translateDbError(err) ?? err;
    } finally {
      entry.limiter.release(tenantId);
      entry.lastUsed = now();
    }
  };

  /**
   * A write referred to a tenant the catalog does not hold: most likely one deleted since it was cached
   * (elsewhere; the change feed is on its way). Only the catalog may say so: this throws its 404 (or
   * 403) when the tenant is gone, and a retryable 503 in the unlikely case it is back.
   */
  const recheckTenant = async (tenantId: string): Promise<never> => {
    directory.invalidate(tenantId);
    await directory.require(tenantId);
    throw new Unavailable('tenant_changed', 'the tenant changed while the request ran; retry shortly', 1);
  };

  const onShared = async (tenant: TenantEntry, build: StatementBuilder): Promise<Row[]> => {
    await acquire(sharedLimiter, tenant.id);
    try {
      servedShared++;
      return await withDeadline(shared.run(tenant.id, renderBound(build)));
    } catch (err) {
      if ((err as { code?: unknown }).code === FOREIGN_KEY_VIOLATION) await recheckTenant(tenant.id);
      throw translateDbError(err) ?? err;
    } finally {
      sharedLimiter.release(tenant.id);
    }
  };

  const query = async (tenantId: string, build: StatementBuilder): Promise<Row[]> => {
    // The request's guard has just looked the tenant up: it is almost always cached, no promise needed.
    const tenant = directory.peek(tenantId) ?? (await directory.require(tenantId));
    const rate = rates.hit(tenantId);
    const entry = pools.get(tenantId);
    if (entry && !entry.closing) {
      servedDedicated++;
      // Outgrown: a pool sized for the rate that promoted it is replaced by a bigger one in the
      // background (the old one drains once the new one is in place).
      if (isOutgrown(entry.size, rate, policy)) maybePromote(tenantId, rate);
      const run = (sql: Sql): Promise<Row[]> => {
        const { text, params } = renderBound(build);
        return sql.unsafe(text, params, { prepare: true }) as unknown as Promise<Row[]>;
      };
      return onDedicated(tenantId, entry, run, () => query(tenantId, build));
    }
    if (shouldPromote(rate, policy)) maybePromote(tenantId, rate);
    return onShared(tenant, build);
  };

  return {
    query,

    async run(tenantId, fn) {
      await directory.require(tenantId);
      const cached = pools.get(tenantId);
      const entry = cached && !cached.closing ? cached : await promote(tenantId, Number.POSITIVE_INFINITY);
      if (!entry) {
        throw new Unavailable('pool_budget_exhausted', 'no connections are free for a dedicated pool; retry shortly', 1);
      }
      return onDedicated(tenantId, entry, fn, () => this.run(tenantId, fn));
    },

    async evict(tenantId) {
      directory.invalidate(tenantId);
      failedPromotions.delete(tenantId);
      await creating.get(tenantId)?.catch(() => undefined);
      const entry = pools.peek(tenantId);
      pools.delete(tenantId);
      // Drained: the statements in flight on it have finished (or the drain timeout cut them).
      await entry?.closed;
    },

    evictAll() {
      generation++;
      directory.clear();
      failedPromotions.clear();
      pools.clear();
    },

    sweepIdle() {
      const cutoff = now() - options.idleTimeoutMs;
      const idle: string[] = [];
      for (const [tenantId, entry] of pools.entries() as Generator<[string, Dedicated]>) {
        if (!entry.closing && entry.limiter.inUse() === 0 && entry.lastUsed < cutoff) idle.push(tenantId);
      }
      for (const tenantId of idle) pools.delete(tenantId);
      return idle.length;
    },

    stats() {
      let dedicatedInUse = 0;
      for (const entry of pools.values() as Generator<Dedicated>) dedicatedInUse += entry.limiter.inUse();
      return {
        dedicatedOpen: pools.size,
        creating: creating.size,
        closing: closing.size,
        created,
        evicted,
        dedicatedInUse,
        sharedInUse: sharedLimiter.inUse(),
        sharedSlots: sharedLimiter.slots,
        waiting: deps.queue.waiting(),
        budgetReserved: budget.reserved(),
        budgetTotal: budget.total,
        servedDedicated,
        servedShared,
      };
    },

    async close() {
      shuttingDown = true;
      await Promise.allSettled([...creating.values()]);
      pools.clear();
      await Promise.all([...closing]);
      await shared.end(1);
    },
  };
}
