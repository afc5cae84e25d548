// The pool registry: the request path's entry to the pools. It finds the tenant (cached), routes it to
// the pool set of the server it is placed on (src/pool/server-pools.ts), and fans tenant-wide
// operations (eviction, sweeping, shutdown) out to every server.
import type { Row, Sql } from 'postgres';
import type { StatementBuilder } from '../db/statement.js';
import type { PoolSets } from '../servers/pool-sets.js';
import type { TenantDirectory, TenantEntry } from '../tenants/directory.js';
import type { ServerPools, ServerPoolsStats } from './server-pools.js';

export type RegistryStats = ServerPoolsStats;

export interface PoolRegistry {
  /** The request path: runs the statement for the tenant on its dedicated pool or the shared one. */
  query(tenantId: string, build: StatementBuilder): Promise<Row[]>;
  /** Runs `fn` on the tenant's dedicated pool, creating it now if the budget allows (else 503). */
  run<T>(tenantId: string, fn: (sql: Sql) => Promise<T>): Promise<T>;
  /** Forgets the tenant (cached role, status and placement) and closes its dedicated pools, draining them. */
  evict(tenantId: string): Promise<void>;
  /** Forgets every tenant and closes every dedicated pool (after a change feed gap). */
  evictAll(): void;
  /** Closes dedicated pools idle for longer than the idle timeout; returns how many. */
  sweepIdle(): number;
  /** All servers together. */
  stats(): RegistryStats;
  /** Closes every pool and waits until their connections are gone. */
  close(): Promise<void>;
}

export interface RegistryDeps {
  readonly directory: TenantDirectory;
  /** Each server's pool set, built on first use. */
  readonly servers: PoolSets;
  /**
   * How long a statement refused by a move's fence (tenant_moving) waits for the tenant's new
   * placement before it is answered 503; it then runs there. Default 2 s.
   */
  readonly moveWaitMs?: number;
}

/** The code a statement gets from a tenant's fenced old copy (src/db/errors.ts). */
const TENANT_MOVING = 'tenant_moving';
const MOVE_POLL_MS = 25;

export function createPoolRegistry(deps: RegistryDeps): PoolRegistry {
  const { directory, servers } = deps;

  /** The pool set of the tenant's server: built already on almost every request, else opened now. */
  const poolsFor = (tenant: TenantEntry): ServerPools | Promise<ServerPools> => servers.get(tenant.placement.server) ?? servers.open(tenant.placement.server);

  const each = (): Iterable<ServerPools> => servers.built().values();

  /**
   * A statement a move's fence refused (tenant_moving) was rolled back with its transaction, so it can
   * run again: after the switch at the tenant's new place, or where it was once the fence is lifted (a
   * move that failed, or the switch back to a server that kept a fence). Tried again every poll until
   * the tenant is served or the wait is over (503, Retry-After).
   */
  const afterFence = async (tenantId: string, build: StatementBuilder, refused: unknown): Promise<Row[]> => {
    const deadline = Date.now() + (deps.moveWaitMs ?? 2000);
    let last = refused;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, MOVE_POLL_MS));
      directory.invalidate(tenantId);
      const tenant = await directory.require(tenantId);
      try {
        return await (await poolsFor(tenant)).query(tenant, build);
      } catch (err) {
        if ((err as { code?: unknown }).code !== TENANT_MOVING) throw err;
        last = err;
      }
    }
    throw last;
  };

  const sum = (read: (s: ServerPoolsStats) => number): number => {
    let total = 0;
    for (const pools of each()) total += read(pools.stats());
    return total;
  };

  return {
    async query(tenantId, build) {
      // The request's guard has just looked the tenant up: it is almost always cached, no promise needed.
      const tenant = directory.peek(tenantId) ?? (await directory.require(tenantId));
      const pools = poolsFor(tenant);
      try {
        return await ('query' in pools ? pools : await pools).query(tenant, build);
      } catch (err) {
        if ((err as { code?: unknown }).code !== TENANT_MOVING) throw err;
        return afterFence(tenantId, build, err);
      }
    },

    async run(tenantId, fn) {
      const tenant = await directory.require(tenantId);
      return (await poolsFor(tenant)).run(tenantId, fn);
    },

    async evict(tenantId) {
      directory.invalidate(tenantId);
      await Promise.all([...each()].map((pools) => pools.dedicated.evict(tenantId)));
    },

    evictAll() {
      directory.clear();
      for (const pools of each()) pools.dedicated.evictAll();
    },

    sweepIdle() {
      let closed = 0;
      for (const pools of each()) closed += pools.dedicated.sweepIdle();
      return closed;
    },

    stats() {
      return {
        dedicatedOpen: sum((s) => s.dedicatedOpen),
        creating: sum((s) => s.creating),
        closing: sum((s) => s.closing),
        created: sum((s) => s.created),
        evicted: sum((s) => s.evicted),
        dedicatedInUse: sum((s) => s.dedicatedInUse),
        sharedInUse: sum((s) => s.sharedInUse),
        sharedSlots: sum((s) => s.sharedSlots),
        waiting: sum((s) => s.waiting),
        budgetReserved: sum((s) => s.budgetReserved),
        budgetTotal: sum((s) => s.budgetTotal),
        servedDedicated: sum((s) => s.servedDedicated),
        servedShared: sum((s) => s.servedShared),
      };
    },

    async close() {
      await servers.close();
    },
  };
}
