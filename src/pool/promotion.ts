// When a tenant earns a dedicated pool, and how big. With the shared path on cached plans and
// scope-affine connections (src/pool/shared-pool.ts), a busy tenant on the shared pool already runs
// one prepared statement per request on connections that keep its scope; what a dedicated pool adds is
// its own login (PostgreSQL isolates it by role), connections no other tenant competes for, and no
// per-tenant cap on the shared pool. Those pay only for a tenant busy enough to keep connections
// working: measured on 2 cores (bench/README.md), a hundred tenants promoted at 20 req/s each put
// ~64 mostly idle backends on the server and served fewer requests than the shared pool alone.
// So: promote at a high rate, size the pool for that rate, and cap the connections all dedicated pools
// hold together at what the database's cores can run.

export interface PromotionPolicy {
  /** Requests per second at which a tenant is promoted (PROMOTE_RPS). */
  readonly promoteRps: number;
  /** Largest dedicated pool (POOL_MAX). */
  readonly poolMax: number;
  /** Requests per second one dedicated connection is sized to carry (DEDICATED_CONNECTION_RPS). */
  readonly rpsPerConnection: number;
  /** Connections all dedicated pools may hold together (DEDICATED_MAX_CONNECTIONS). */
  readonly maxDedicatedConnections: number;
}

export function shouldPromote(rate: number, policy: PromotionPolicy): boolean {
  return rate >= policy.promoteRps;
}

/** Connections for a tenant at `rate`: one per rpsPerConnection, at least 1, at most poolMax. */
export function poolSizeFor(rate: number, policy: PromotionPolicy): number {
  const wanted = Number.isFinite(rate) ? Math.ceil(rate / policy.rpsPerConnection) : policy.poolMax;
  return Math.min(policy.poolMax, policy.maxDedicatedConnections, Math.max(1, wanted));
}

/** A pool of `size` is outgrown once its tenant runs at twice what it was sized for. */
export function isOutgrown(size: number, rate: number, policy: PromotionPolicy): boolean {
  return size < poolSizeFor(rate, policy) && rate > size * policy.rpsPerConnection * 2;
}

/** Whether `size` more dedicated connections fit next to the `held` ones. */
export function fitsDedicatedCap(held: number, size: number, policy: PromotionPolicy): boolean {
  return held + size <= policy.maxDedicatedConnections;
}
