// The pool registry: one connection pool per tenant, logged in as that tenant's own role. Pools are
// created on first use (one creation per tenant however many requests race for it), kept in an LRU of
// bounded size, and closed by draining when evicted, rotated, deleted, idle or shut down.
import { LRUCache } from 'lru-cache';
import type { Sql } from 'postgres';
import { isAuthenticationFailure, translateDbError } from '../db/errors.js';

/** Opens a tenant's pool and proves the login; rejects (NotFound, Unavailable, …) when it cannot. */
export type PoolOpener = (tenantId: string) => Promise<Sql>;

export interface RegistryOptions {
  readonly maxPools: number;
  readonly idleTimeoutMs: number;
  /** How long a closing pool may take to finish its queries before its connections are cut. */
  readonly drainTimeoutSeconds?: number;
  readonly now?: () => number;
}

export interface RegistryStats {
  readonly open: number;
  readonly creating: number;
  readonly closing: number;
  readonly created: number;
  readonly evicted: number;
}

export interface PoolRegistry {
  /** Runs `fn` on the tenant's pool, creating the pool first if needed. */
  run<T>(tenantId: string, fn: (sql: Sql) => Promise<T>): Promise<T>;
  /** Closes the tenant's pool (after any creation in progress) so the next request logs in afresh. */
  evict(tenantId: string): Promise<void>;
  /** Closes every pool idle for longer than the idle timeout; returns how many it closed. */
  sweepIdle(): number;
  stats(): RegistryStats;
  /** Closes every pool and waits until their connections are gone. */
  close(): Promise<void>;
}

interface Entry {
  readonly sql: Sql;
  lastUsed: number;
  active: number;
}

export function createPoolRegistry(open: PoolOpener, options: RegistryOptions): PoolRegistry {
  const now = options.now ?? Date.now;
  const drainTimeout = options.drainTimeoutSeconds ?? 10;
  const closing = new Set<Promise<void>>();
  // Single flight lives beside the LRU rather than in lru-cache's fetchMethod: an eviction during a
  // fetch aborts it, which would either leak the half-made pool or fail every request waiting on it.
  const creating = new Map<string, Promise<Entry>>();
  let created = 0;
  let evicted = 0;

  const closePool = (entry: Entry): void => {
    evicted++;
    const done = entry.sql.end({ timeout: drainTimeout }).catch(() => undefined);
    closing.add(done);
    void done.finally(() => closing.delete(done));
  };

  const pools = new LRUCache<string, Entry>({
    max: options.maxPools,
    dispose: (entry) => closePool(entry),
  });

  const create = (tenantId: string): Promise<Entry> => {
    let pending = creating.get(tenantId);
    if (pending) return pending;
    pending = open(tenantId)
      .then((sql) => {
        const entry: Entry = { sql, lastUsed: now(), active: 0 };
        created++;
        pools.set(tenantId, entry);
        return entry;
      })
      .finally(() => creating.delete(tenantId));
    creating.set(tenantId, pending);
    return pending;
  };

  return {
    async run(tenantId, fn) {
      const entry = pools.get(tenantId) ?? (await create(tenantId));
      entry.active++;
      try {
        return await fn(entry.sql);
      } catch (err) {
        // The role's password changed or the role is gone (possibly via another instance): drop the
        // pool so the next request re-reads the catalog instead of failing forever.
        if (isAuthenticationFailure(err) && pools.peek(tenantId) === entry) pools.delete(tenantId);
        throw translateDbError(err) ?? err;
      } finally {
        entry.active--;
        entry.lastUsed = now();
      }
    },

    async evict(tenantId) {
      await creating.get(tenantId)?.catch(() => undefined);
      pools.delete(tenantId);
    },

    sweepIdle() {
      const cutoff = now() - options.idleTimeoutMs;
      const idle: string[] = [];
      for (const [tenantId, entry] of pools.entries()) {
        if (entry.active === 0 && entry.lastUsed < cutoff) idle.push(tenantId);
      }
      for (const tenantId of idle) pools.delete(tenantId);
      return idle.length;
    },

    stats() {
      return { open: pools.size, creating: creating.size, closing: closing.size, created, evicted };
    },

    async close() {
      await Promise.allSettled([...creating.values()]);
      pools.clear();
      await Promise.all([...closing]);
    },
  };
}
