// One PostgreSQL server's pool set, and how a statement runs on it: on the tenant's dedicated pool when
// it has one (src/pool/dedicated-pools.ts), else on the server's shared pool (src/pool/shared-pool.ts),
// one powerless role scoped per statement, so a cold tenant never pays for a login and ten thousand
// tenants fit in a fixed number of connections. A database tenant can only be served on its own pool. Each pool admits requests through a fair limiter
// (src/pool/limiter.ts): a tenant holds at most POOL_MAX connections of any pool, waits in a bounded
// queue, and gets 503 + Retry-After after QUEUE_TIMEOUT. Promotion happens in the background; a
// request never waits for a pool to be created.
import type { PendingQuery, Row, Sql } from 'postgres';
import { cancelStatement } from '../db/cancel.js';
import { isAuthenticationFailure, isTenantDataGone, translateDbError } from '../db/errors.js';
import { renderBound, type StatementBuilder } from '../db/statement.js';
import { SHARED_TABLES, type TenantTables } from '../db/tenant-tables.js';
import { Unavailable } from '../errors.js';
import type { TenantDirectory, TenantEntry } from '../tenants/directory.js';
import type { Placement } from '../tenants/placement.js';
import type { ConnectionBudget } from './budget.js';
import { isDeadlineMiss, withDeadline } from './deadline.js';
import type { IsolationModels } from '../isolation/models.js';
import type { DedicatedPool, DedicatedPools } from './dedicated-pools.js';
import type { Limiter, WaitQueue } from './limiter.js';
import { isOutgrown, shouldPromote, type PromotionPolicy } from './promotion.js';
import type { RateTracker } from './rate.js';
import type { SharedPool } from './shared-pool.js';

export interface ServerPoolsDeps {
  readonly shared: SharedPool;
  readonly sharedLimiter: Limiter;
  readonly dedicated: DedicatedPools;
  readonly directory: TenantDirectory;
  readonly budget: ConnectionBudget;
  readonly queue: WaitQueue;
  readonly rates: RateTracker;
  /** Where each model's tenants have their tables (the qualified names their statements use). */
  readonly models: IsolationModels;
}

export interface ServerPoolsOptions {
  readonly policy: PromotionPolicy;
  /** A statement not answered within this gets 503, whatever the driver is doing (reconnecting…). */
  readonly deadlineMs?: number;
  readonly now: () => number;
  /** Told when a dedicated pool was dropped because a statement on it missed its deadline (for logs). */
  readonly onStuckPool?: (tenantId: string) => void;
  /** Told of each tenant statement and the path it takes (for per-tenant metrics). */
  readonly onStatement?: (tenantId: string, path: 'shared' | 'dedicated') => void;
  /**
   * The tenant-data version this build's statements need (the highest in sql/tenant/). A tenant whose
   * own schema is behind it is refused with a retryable 503 until `npm run migrate` has brought it up.
   */
  readonly tenantDataVersion: number;
}

export interface ServerPoolsStats {
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

export interface ServerPools {
  /** The request path: runs the statement for the tenant on its dedicated pool or the shared one. */
  query(tenant: TenantEntry, build: StatementBuilder): Promise<Row[]>;
  /** Runs `fn` on the tenant's dedicated pool, creating it now if the budget allows (else 503). */
  run<T>(tenantId: string, fn: (sql: Sql) => Promise<T>): Promise<T>;
  readonly dedicated: DedicatedPools;
  readonly shared: SharedPool;
  stats(): ServerPoolsStats;
  /** Closes every pool and waits until their connections are gone. */
  close(): Promise<void>;
}

export function createServerPools(deps: ServerPoolsDeps, options: ServerPoolsOptions): ServerPools {
  const { dedicated, directory, rates, shared, sharedLimiter } = deps;
  const { policy, now } = options;
  let servedDedicated = 0;
  let servedShared = 0;

  const acquire = async (limiter: Limiter, tenantId: string): Promise<void> => {
    if (!limiter.tryAcquire(tenantId)) await limiter.wait(tenantId);
  };

  /**
   * A statement met a tenant whose data is gone (a write's foreign key, or a schema tenant's table):
   * most likely one deleted since it was cached (elsewhere; the change feed is on its way). Only the catalog may say so: this throws its 404 (or
   * 403) when the tenant is gone, and a retryable 503 in the unlikely case it is back.
   */
  const recheckTenant = async (tenantId: string): Promise<never> => {
    directory.invalidate(tenantId);
    await directory.require(tenantId);
    throw new Unavailable('tenant_changed', 'the tenant changed while the request ran; retry shortly', 1);
  };

  /** `fn` may cancel its statement when `signal` aborts: the deadline passed. */
  const onDedicated = async <T>(
    tenantId: string,
    pool: DedicatedPool,
    fn: (sql: Sql, signal: AbortSignal) => Promise<T>,
    reroute: () => Promise<T>,
  ): Promise<T> => {
    await acquire(pool.limiter, tenantId);
    if (pool.closing) {
      // Evicted (rotation, deletion) while we waited: its connections are ending, go round again.
      pool.limiter.release(tenantId);
      return reroute();
    }
    const missed = new AbortController();
    try {
      return await withDeadline(fn(pool.sql, missed.signal), options.deadlineMs, () => missed.abort());
    } catch (err) {
      // The role's password changed or the role is gone (possibly via another instance): drop the pool
      // and the cached entry so the next request re-reads the catalog instead of failing forever.
      if (isAuthenticationFailure(err)) {
        directory.invalidate(tenantId);
        dedicated.discard(tenantId, pool);
      }
      // PostgreSQL's statement_timeout ends a slow statement before the deadline, so a statement still
      // unanswered at the deadline is stuck on its connection (seen in the chaos soak after backends
      // were terminated: the pool's connection answered nothing for a minute). Later statements would
      // queue behind it: drop the pool; the tenant carries on on the shared pool and is promoted again.
      if (isDeadlineMiss(err)) {
        dedicated.discard(tenantId, pool);
        options.onStuckPool?.(tenantId);
      }
      if (isTenantDataGone(err)) await recheckTenant(tenantId);
      throw translateDbError(err) ?? err;
    } finally {
      pool.limiter.release(tenantId);
      pool.lastUsed = now();
    }
  };

  /** Computed once per cached placement: the same object until the tenant's placement changes. */
  const tablesByPlacement = new WeakMap<Placement, TenantTables>();
  const tablesOf = (placement: Placement): TenantTables => {
    let tables = tablesByPlacement.get(placement);
    if (tables === undefined) {
      const model = deps.models.get(placement.model);
      if (!model) throw new Unavailable('tenant_model_unsupported', "this gateway instance cannot serve the tenant's isolation model; retry shortly", 1);
      tables = model.tables(placement);
      tablesByPlacement.set(placement, tables);
    }
    return tables;
  };

  const onShared = async (tenant: TenantEntry, build: StatementBuilder): Promise<Row[]> => {
    const tables = tablesOf(tenant.placement);
    // A tenant with tables of its own has statements of its own: they are prepared on its home connection.
    const atHome = tables !== SHARED_TABLES;
    await acquire(sharedLimiter, tenant.id);
    const missed = new AbortController();
    try {
      servedShared++;
      options.onStatement?.(tenant.id, 'shared');
      return await withDeadline(shared.run(tenant.id, renderBound(build, tables), atHome, missed.signal), options.deadlineMs, () => missed.abort());
    } catch (err) {
      if (isTenantDataGone(err)) await recheckTenant(tenant.id);
      throw translateDbError(err) ?? err;
    } finally {
      sharedLimiter.release(tenant.id);
    }
  };

  /** The serving rule for tenant schemas: behind this build's statements, refuse (never half-serve). */
  const requireCurrentData = (tenant: TenantEntry): void => {
    const version = tenant.placement.dataVersion;
    if (version !== null && version < options.tenantDataVersion) {
      throw new Unavailable(
        'tenant_schema_behind',
        `the tenant's schema is at version ${version}, this gateway needs ${options.tenantDataVersion}; run the tenant migrations (npm run migrate)`,
        5,
      );
    }
  };

  /**
   * A database tenant has no shared path (a connection belongs to one database): a cold one opens its
   * pool on the request path, paying a login, and is answered 503 when no idle pool can give way.
   */
  const openOwnPool = async (tenant: TenantEntry, rate: number): Promise<DedicatedPool> => {
    let pool: DedicatedPool | undefined;
    try {
      pool = await dedicated.openNow(tenant.id, rate);
    } catch (err) {
      // Its database or role is gone (deleted, perhaps by another instance): the catalog says what next.
      if (isTenantDataGone(err) || isAuthenticationFailure(err)) await recheckTenant(tenant.id);
      throw translateDbError(err) ?? err;
    }
    if (!pool) throw new Unavailable('pool_budget_exhausted', 'no connections are free for the tenant; retry shortly', 1);
    return pool;
  };

  const query = async (tenant: TenantEntry, build: StatementBuilder): Promise<Row[]> => {
    requireCurrentData(tenant);
    const rate = rates.hit(tenant.id);
    const ownDatabase = deps.models.get(tenant.placement.model)?.ownDatabase !== undefined;
    const pool = dedicated.get(tenant.id) ?? (ownDatabase ? await openOwnPool(tenant, rate) : undefined);
    if (pool) {
      servedDedicated++;
      options.onStatement?.(tenant.id, 'dedicated');
      // Outgrown: a pool sized for the rate that promoted it is replaced by a bigger one in the
      // background (the old one drains once the new one is in place).
      if (isOutgrown(pool.size, rate, policy)) dedicated.promoteInBackground(tenant.id, rate);
      const tables = tablesOf(tenant.placement);
      const run = (sql: Sql, signal: AbortSignal): Promise<Row[]> => {
        const { text, params } = renderBound(build, tables);
        const statement = sql.unsafe(text, params, { prepare: true }) as unknown as PendingQuery<Row[]>;
        signal.addEventListener('abort', () => cancelStatement(statement), { once: true });
        return statement;
      };
      return onDedicated(tenant.id, pool, run, () => query(tenant, build));
    }
    if (shouldPromote(rate, policy)) dedicated.promoteInBackground(tenant.id, rate);
    return onShared(tenant, build);
  };

  const run = async <T>(tenantId: string, fn: (sql: Sql) => Promise<T>): Promise<T> => {
    const pool = dedicated.get(tenantId) ?? (await dedicated.promote(tenantId, Number.POSITIVE_INFINITY));
    if (!pool) throw new Unavailable('pool_budget_exhausted', 'no connections are free for a dedicated pool; retry shortly', 1);
    return onDedicated(tenantId, pool, fn, () => run(tenantId, fn));
  };

  return {
    query,
    run,
    dedicated,
    shared,
    stats() {
      const d = dedicated.stats();
      return {
        dedicatedOpen: d.open,
        creating: d.creating,
        closing: d.closing,
        created: d.created,
        evicted: d.evicted,
        dedicatedInUse: d.inUse,
        sharedInUse: sharedLimiter.inUse(),
        sharedSlots: sharedLimiter.slots,
        waiting: deps.queue.waiting(),
        budgetReserved: deps.budget.reserved(),
        budgetTotal: deps.budget.total,
        servedDedicated,
        servedShared,
      };
    },
    async close() {
      await dedicated.close();
      await shared.end(1);
    },
  };
}
