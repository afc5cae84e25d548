// Which tenants exist, their role and status: a cache in front of the catalog so the request path does
// not read the catalog per request. Misses are single-flight (lru-cache fetch); unknown tenants are
// remembered briefly too, so a flood of random ids costs one look-up each per few seconds, not one per
// request. Entries expire so that changes made elsewhere are seen within `ttlMs` at worst.
import { LRUCache } from 'lru-cache';
import type { Sql } from 'postgres';
import { translateDbError } from '../db/errors.js';
import { Forbidden, NotFound } from '../errors.js';

export interface TenantEntry {
  readonly id: string;
  readonly dbUser: string;
  readonly status: 'active' | 'suspended';
}

export interface TenantDirectory {
  /** The active tenant, or NotFound / Forbidden(tenant_suspended). */
  require(tenantId: string): Promise<TenantEntry>;
  invalidate(tenantId: string): void;
  clear(): void;
  size(): number;
}

export interface DirectoryOptions {
  readonly maxTenants: number;
  readonly ttlMs: number;
  readonly negativeTtlMs: number;
}

type Cached = TenantEntry | { readonly missing: true };

export function createTenantDirectory(catalog: Sql, options: DirectoryOptions): TenantDirectory {
  const cache = new LRUCache<string, Cached>({
    max: options.maxTenants,
    ttl: options.ttlMs,
    // Expired entries are simply missed on read; no timers per entry.
    ttlAutopurge: false,
    fetchMethod: async (tenantId, _stale, { options: fetchOptions }) => {
      let rows: { db_user: string; status: 'active' | 'suspended' }[];
      try {
        rows = await catalog<{ db_user: string; status: 'active' | 'suspended' }[]>`
          SELECT db_user, status FROM tenants WHERE id = ${tenantId}`;
      } catch (err) {
        throw translateDbError(err) ?? err;
      }
      const row = rows[0];
      if (!row) {
        fetchOptions.ttl = options.negativeTtlMs;
        return { missing: true };
      }
      return { id: tenantId, dbUser: row.db_user, status: row.status };
    },
  });

  return {
    async require(tenantId) {
      const entry = cache.get(tenantId) ?? (await cache.fetch(tenantId));
      if (entry === undefined || 'missing' in entry) throw new NotFound('tenant_not_found', `no tenant with id ${tenantId}`);
      if (entry.status !== 'active') throw new Forbidden('tenant_suspended', `tenant ${tenantId} is suspended`);
      return entry;
    },
    invalidate: (tenantId) => void cache.delete(tenantId),
    clear: () => cache.clear(),
    size: () => cache.size,
  };
}
