// Tenant names → ids (TENANT_FROM=host), cached in front of the catalog like the directory caches ids:
// bounded, single-flight, unknown names remembered briefly in a cache of their own so that a flood of
// made-up subdomains cannot push real tenants out, and expiry after `ttlMs` as the last resort.
// Staleness is bounded by the change feed, not by the TTL: a name only stops meaning its tenant through
// a change to that tenant's row (a rename is an update, a deletion a delete), and every change arrives
// as an event for the tenant's id, so `invalidate(id)` drops the names cached for it. Unknown names
// cannot be tied to an id (a creation or a rename may make any of them real), so any invalidation
// forgets all of them; they only guard the catalog, and each costs one read to learn again.
import { LRUCache } from 'lru-cache';
import type { Sql } from 'postgres';
import { translateDbError } from '../db/errors.js';
import { NotFound } from '../errors.js';
import type { TenantNameLookup } from '../http/tenant-host.js';

export interface TenantNames extends TenantNameLookup {
  /** Forgets what is cached for this tenant id (the change feed reported a change to it). */
  invalidate(tenantId: string): void;
  clear(): void;
  size(): number;
}

export interface TenantNamesOptions {
  readonly maxNames: number;
  readonly ttlMs: number;
  /** Unknown names remembered at most (default 10,000), each for negativeTtlMs. */
  readonly maxUnknown?: number;
  readonly negativeTtlMs: number;
}

export function createTenantNames(catalog: Sql, options: TenantNamesOptions): TenantNames {
  // The ids each cached name points at, to drop them by id; kept in step by dispose, which lru-cache
  // calls on every removal (delete, eviction, expiry found on read, overwrite).
  const namesOf = new Map<string, Set<string>>();
  const unindex = (id: string, name: string): void => {
    const names = namesOf.get(id);
    if (names === undefined) return;
    names.delete(name);
    if (names.size === 0) namesOf.delete(id);
  };
  // ttlResolution 0 for the reason the directory gives: no timer churn on the request path.
  const ids = new LRUCache<string, string>({ max: options.maxNames, ttl: options.ttlMs, ttlResolution: 0, dispose: (id, name) => unindex(id, name) });
  const unknown = new LRUCache<string, true>({ max: options.maxUnknown ?? 10_000, ttl: options.negativeTtlMs, ttlResolution: 0 });
  const loading = new Map<string, Promise<string | undefined>>();
  // Bumped by every invalidation: a read that started before one may have seen the old mapping, so its
  // answer is given to its waiters but not cached. Invalidations are rare, so one counter suffices.
  let generation = 0;

  const load = async (name: string): Promise<string | undefined> => {
    try {
      const [row] = await catalog<{ id: string }[]>`SELECT id FROM tenants WHERE name = ${name}`;
      return row?.id;
    } catch (err) {
      throw translateDbError(err) ?? err;
    }
  };

  const lookUp = (name: string): Promise<string | undefined> => {
    const pending = loading.get(name);
    if (pending) return pending;
    const started = generation;
    const promise = load(name);
    loading.set(name, promise);
    promise
      .then(
        (id) => {
          if (started !== generation) return;
          if (id === undefined) {
            unknown.set(name, true);
            return;
          }
          ids.set(name, id);
          const names = namesOf.get(id) ?? new Set<string>();
          names.add(name);
          namesOf.set(id, names);
        },
        () => undefined,
      )
      .finally(() => {
        if (loading.get(name) === promise) loading.delete(name);
      });
    return promise;
  };

  const notFound = (name: string): NotFound => new NotFound('tenant_not_found', `no tenant named "${name}"`);

  return {
    peekIdOf: (name) => ids.get(name),
    async idOf(name) {
      const id = ids.get(name) ?? (unknown.has(name) ? undefined : await lookUp(name));
      if (id === undefined) throw notFound(name);
      return id;
    },
    invalidate(tenantId) {
      generation++;
      for (const name of [...(namesOf.get(tenantId) ?? [])]) ids.delete(name);
      unknown.clear();
      loading.clear();
    },
    clear() {
      generation++;
      ids.clear();
      unknown.clear();
      loading.clear();
      namesOf.clear();
    },
    size: () => ids.size,
  };
}
