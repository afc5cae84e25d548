// Which tenants exist, their role, status and rate limits: a cache in front of the catalog so the
// request path does not read the catalog per request. Misses are single-flight; unknown tenants are
// remembered briefly too, so a flood of random ids costs one look-up each per few seconds, not one per
// request. Unknown ids live in a cache of their own, so such a flood can never push real tenants out.
// Entries expire so that changes made elsewhere are seen within `ttlMs` at worst.
import { LRUCache } from 'lru-cache';
import type { Sql } from 'postgres';
import { translateDbError } from '../db/errors.js';
import { Forbidden, NotFound, Unavailable } from '../errors.js';
import { placementOf, type Placement, type PlacementRow } from './placement.js';

export interface TenantEntry {
  readonly id: string;
  readonly dbUser: string;
  readonly status: 'active' | 'suspended';
  /** Per-tenant rate-limit override; null means the gateway-wide limit applies. */
  readonly rateLimit: { readonly rps: number | null; readonly burst: number | null };
  readonly placement: Placement;
  /** The catalog's placement_version of `placement` (sql/013). */
  readonly placementVersion: number;
}

interface TenantRow extends PlacementRow {
  placement_version: string;
  db_user: string;
  status: 'active' | 'suspended';
  rate_limit_rps: number | null;
  rate_limit_burst: number | null;
}

export interface TenantDirectory {
  /** The active tenant, or NotFound / Forbidden(tenant_suspended). */
  require(tenantId: string): Promise<TenantEntry>;
  /** The active tenant if the cache holds it, else undefined (then `require` decides): no I/O, no promise. */
  peek(tenantId: string): TenantEntry | undefined;
  invalidate(tenantId: string): void;
  /**
   * A placement at this version exists (the change feed said so): from now on no entry with an older
   * placement is cached or served, so this instance never goes back to where the tenant was.
   */
  notePlacementVersion(tenantId: string, version: number): void;
  clear(): void;
  size(): number;
}

export interface DirectoryOptions {
  readonly maxTenants: number;
  readonly ttlMs: number;
  /** Unknown ids remembered at most (default 10,000), each for negativeTtlMs. */
  readonly maxUnknown?: number;
  readonly negativeTtlMs: number;
}

type Cached = TenantEntry | { readonly missing: true };
const MISSING: Cached = Object.freeze({ missing: true as const });

interface Loading {
  readonly promise: Promise<Cached>;
  invalidated: boolean;
}

export function createTenantDirectory(catalog: Sql, options: DirectoryOptions): TenantDirectory {
  // Expired entries are simply missed on read; no timer per entry. ttlResolution 0: read the clock on
  // every look-up (tens of ns) instead of lru-cache's default, which caches it and arms a setTimeout to
  // forget it every millisecond; under load that timer churn cost more than the look-ups.
  const cache = new LRUCache<string, TenantEntry>({ max: options.maxTenants, ttl: options.ttlMs, ttlResolution: 0 });
  const unknown = new LRUCache<string, true>({ max: options.maxUnknown ?? 10_000, ttl: options.negativeTtlMs, ttlResolution: 0 });
  // Single flight beside the LRU, not lru-cache's fetch(): invalidating a key during a fetch aborts it,
  // failing every request waiting on it. Here an invalidation only stops the racing result from being
  // cached; its waiters still get an answer.
  const loading = new Map<string, Loading>();

  // The newest placement version the change feed announced per tenant. A read that began before that
  // change committed can still return the older row; it is read again instead of being used.
  const placementFloor = new LRUCache<string, number>({ max: options.maxTenants });

  const load = async (tenantId: string): Promise<Cached> => {
    for (let attempt = 0; ; attempt++) {
      let rows: TenantRow[];
      try {
        rows = await catalog<TenantRow[]>`
          SELECT db_user, status, rate_limit_rps, rate_limit_burst, server, model, data_name, data_version, placement_version::text
          FROM tenants WHERE id = ${tenantId}`;
      } catch (err) {
        throw translateDbError(err) ?? err;
      }
      const row = rows[0];
      if (!row) return { missing: true };
      const placementVersion = Number(row.placement_version);
      if (placementVersion < (placementFloor.get(tenantId) ?? 0)) {
        // The catalog is read at READ COMMITTED: a read started after the announcement sees it.
        if (attempt < 2) continue;
        throw new Unavailable('tenant_changed', 'the tenant changed while the request ran; retry shortly', 1);
      }
      return {
        id: tenantId,
        dbUser: row.db_user,
        status: row.status,
        rateLimit: { rps: row.rate_limit_rps, burst: row.rate_limit_burst },
        placement: placementOf(row),
        placementVersion,
      };
    }
  };

  const lookUp = (tenantId: string): Promise<Cached> => {
    const pending = loading.get(tenantId);
    if (pending) return pending.promise;
    const entry: Loading = { promise: load(tenantId), invalidated: false };
    loading.set(tenantId, entry);
    entry.promise
      .then(
        (value) => {
          if (entry.invalidated) return;
          if ('missing' in value) unknown.set(tenantId, true);
          else if (value.placementVersion >= (placementFloor.get(tenantId) ?? 0)) cache.set(tenantId, value);
        },
        () => undefined,
      )
      .finally(() => {
        if (loading.get(tenantId) === entry) loading.delete(tenantId);
      });
    return entry.promise;
  };

  return {
    async require(tenantId) {
      const entry: Cached = cache.get(tenantId) ?? (unknown.has(tenantId) ? MISSING : await lookUp(tenantId));
      if ('missing' in entry) throw new NotFound('tenant_not_found', `no tenant with id ${tenantId}`);
      if (entry.status !== 'active') throw new Forbidden('tenant_suspended', `tenant ${tenantId} is suspended`);
      return entry;
    },
    peek(tenantId) {
      const entry = cache.get(tenantId);
      return entry !== undefined && entry.status === 'active' ? entry : undefined;
    },
    invalidate(tenantId) {
      cache.delete(tenantId);
      unknown.delete(tenantId);
      const pending = loading.get(tenantId);
      if (pending) {
        pending.invalidated = true;
        loading.delete(tenantId);
      }
    },
    notePlacementVersion(tenantId, version) {
      if (version <= (placementFloor.get(tenantId) ?? 0)) return;
      placementFloor.set(tenantId, version);
      const cached = cache.get(tenantId);
      if (cached !== undefined && cached.placementVersion < version) cache.delete(tenantId);
      const pending = loading.get(tenantId);
      if (pending) {
        pending.invalidated = true;
        loading.delete(tenantId);
      }
    },
    clear() {
      cache.clear();
      unknown.clear();
      for (const pending of loading.values()) pending.invalidated = true;
      loading.clear();
    },
    size: () => cache.size,
  };
}
