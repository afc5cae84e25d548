// The pool registry: the request path's entry to the pools. It finds the tenant (cached), routes it to
// the pool set of the server it is placed on (src/pool/server-pools.ts), and fans tenant-wide
// operations (eviction, sweeping, shutdown) out to every server.
import type { Row, Sql } from 'postgres';
import type { StatementBuilder } from '../db/statement.js';
import { Unavailable } from '../errors.js';
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
  /** Pool sets by server name. */
  readonly servers: ReadonlyMap<string, ServerPools>;
  /** The server a tenant's statements go to. */
  readonly serverOf: (tenant: TenantEntry) => string;
}

export function createPoolRegistry(deps: RegistryDeps): PoolRegistry {
  const { directory, servers } = deps;

  const poolsFor = (tenant: TenantEntry): ServerPools => {
    const server = deps.serverOf(tenant);
    const pools = servers.get(server);
    // A placement on a server this instance does not know (yet): the caller may retry.
    if (!pools) throw new Unavailable('server_unavailable', `tenant ${tenant.id} is placed on a server this gateway cannot reach`, 1);
    return pools;
  };

  const sum = (read: (s: ServerPoolsStats) => number): number => {
    let total = 0;
    for (const pools of servers.values()) total += read(pools.stats());
    return total;
  };

  return {
    async query(tenantId, build) {
      // The request's guard has just looked the tenant up: it is almost always cached, no promise needed.
      const tenant = directory.peek(tenantId) ?? (await directory.require(tenantId));
      return poolsFor(tenant).query(tenant, build);
    },

    async run(tenantId, fn) {
      const tenant = await directory.require(tenantId);
      return poolsFor(tenant).run(tenantId, fn);
    },

    async evict(tenantId) {
      directory.invalidate(tenantId);
      await Promise.all([...servers.values()].map((pools) => pools.dedicated.evict(tenantId)));
    },

    evictAll() {
      directory.clear();
      for (const pools of servers.values()) pools.dedicated.evictAll();
    },

    sweepIdle() {
      let closed = 0;
      for (const pools of servers.values()) closed += pools.dedicated.sweepIdle();
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
        // One queue for all servers: counted once.
        waiting: [...servers.values()][0]?.stats().waiting ?? 0,
        budgetReserved: sum((s) => s.budgetReserved),
        budgetTotal: sum((s) => s.budgetTotal),
        servedDedicated: sum((s) => s.servedDedicated),
        servedShared: sum((s) => s.servedShared),
      };
    },

    async close() {
      await Promise.all([...servers.values()].map((pools) => pools.close()));
    },
  };
}
