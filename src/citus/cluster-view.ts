// The cluster as the admin API, the CLI and /metrics show it: every server of the catalog, each a Citus
// coordinator (its nodes, tables, shards and tenant activity: ./cluster-status.ts), a plain PostgreSQL
// server (listed as such, nothing more: it has no nodes or shards to show; GET /v1/admin/servers has
// its health and pools), or a server that did not answer; and where one tenant lives (./tenant-location.ts).
import postgres, { type Sql } from 'postgres';
import { connectionOptions } from '../db/connection-options.js';
import { translateDbError } from '../db/errors.js';
import { NotFound } from '../errors.js';
import type { ServerCatalog } from '../servers/catalog.js';
import type { ServerConnections } from '../servers/connections.js';
import { probeServer } from '../servers/health.js';
import { detectCitus } from './coordinator.js';
import { readCitusStatus, type ClusterNode, type ClusterTable, type CitusTenantStat, type TenantSchemas } from './cluster-status.js';
import { locateTenant, type TenantPlacement } from './tenant-location.js';

/** Citus' counts for one tenant attribute, with the tenant it stands for. */
export interface TenantActivity extends CitusTenantStat {
  /** The tenant's id; null when Citus counted a schema or value that is no tenant of the catalog. */
  readonly tenant_id: string | null;
}

export interface CitusServerView {
  readonly name: string;
  readonly kind: 'citus';
  readonly citus_version: string;
  readonly nodes: ClusterNode[];
  readonly tables: ClusterTable[];
  readonly schemas: TenantSchemas;
  /** citus_stat_tenants, the busiest first; null while citus.stat_tenants_track is none. */
  readonly tenant_activity: { readonly period_seconds: number; readonly tenants: TenantActivity[] } | null;
}

export type ServerView = CitusServerView | { readonly name: string; readonly kind: 'postgres' } | { readonly name: string; readonly kind: 'unreachable' };

export interface TenantLocation {
  readonly id: string;
  readonly name: string;
  readonly server: string;
  readonly model: string;
  /** The kind of its server, as in the listing. */
  readonly kind: 'citus' | 'postgres';
  /** Its node and shards on a Citus server; null elsewhere (and for a database-model tenant). */
  readonly placement: TenantPlacement | null;
}

export interface ClusterView {
  servers(): Promise<ServerView[]>;
  /** NotFound tenant_not_found for an id the catalog does not know. */
  tenant(id: string): Promise<TenantLocation>;
}

export interface ClusterViewDeps {
  readonly catalog: Sql;
  readonly serverCatalog: ServerCatalog;
  readonly servers: ServerConnections;
  /** How long a server, and each Citus node, may take to answer before it counts as down. */
  readonly probeTimeoutMs: number;
  /** CONNECT_TIMEOUT, for the session a Citus server's state is read in. */
  readonly connectTimeoutSeconds: number;
}

export function createClusterView(deps: ClusterViewDeps): ClusterView {
  const { catalog, servers, probeTimeoutMs } = deps;

  /** Citus counts a schema tenant under its schema's name: the catalog's data_name. */
  const tenantIds = async (attributes: readonly string[]): Promise<Map<string, string>> => {
    if (attributes.length === 0) return new Map();
    const rows = await catalog<{ id: string; key: string }[]>`
      SELECT id::text AS id, COALESCE(data_name, id::text) AS key FROM tenants
      WHERE id::text = ANY(${attributes as string[]}::text[]) OR data_name = ANY(${attributes as string[]}::text[])`;
    return new Map(rows.map((r) => [r.key, r.id]));
  };

  const viewOf = async (name: string): Promise<ServerView> => {
    // A data server that does not answer is shown as such, after at most the probe's wait.
    if ((await probeServer(() => servers.admin(name), probeTimeoutMs)) === 'down') return { name, kind: 'unreachable' };
    if ((await detectCitus(await servers.admin(name))) === undefined) return { name, kind: 'postgres' };
    // A session of its own, closed after: a backend that ran distributed statements caches its
    // connections to the workers, and Citus' connection check would reuse one to a worker that has
    // since stopped answering and wait on it, where a new connection gives up after the probe timeout.
    const fresh = postgres(
      (await servers.record(name)).url,
      connectionOptions({ max: 1, applicationName: 'tenantgate-cluster', connectTimeoutSeconds: deps.connectTimeoutSeconds, statementTimeoutMs: 60_000 }),
    );
    const status = await readCitusStatus(fresh, { probeTimeoutMs }).finally(() => fresh.end({ timeout: 1 }));
    let activity: CitusServerView['tenant_activity'] = null;
    if (status.tenantStats !== undefined) {
      const ids = await tenantIds(status.tenantStats.tenants.map((t) => t.attribute));
      activity = {
        period_seconds: status.tenantStats.periodSeconds,
        tenants: status.tenantStats.tenants.map((t) => ({ tenant_id: ids.get(t.attribute) ?? null, ...t })),
      };
    }
    return {
      name,
      kind: 'citus',
      citus_version: status.version,
      nodes: status.nodes,
      tables: status.tables,
      schemas: status.schemas,
      tenant_activity: activity,
    };
  };

  return {
    async servers() {
      const all = await deps.serverCatalog.list();
      return Promise.all(all.map((s) => guard(viewOf(s.name))));
    },
    async tenant(id) {
      const [tenant] = await guard(
        catalog<{ id: string; name: string; server: string; model: string; data_name: string | null }[]>`
          SELECT id::text AS id, name, server, model, data_name FROM tenants WHERE id = ${id}`,
      );
      if (!tenant) throw new NotFound('tenant_not_found', `no tenant with id ${id}`);
      const sql = await servers.admin(tenant.server);
      const location = async (): Promise<TenantLocation> => {
        const facts = { id: tenant.id, name: tenant.name, server: tenant.server, model: tenant.model };
        if ((await detectCitus(sql)) === undefined) return { ...facts, kind: 'postgres', placement: null };
        const placement =
          tenant.model === 'rls'
            ? await locateTenant(sql, { model: 'rls', id: tenant.id })
            : tenant.model === 'schema' && tenant.data_name !== null
              ? await locateTenant(sql, { model: 'schema', schema: tenant.data_name })
              : null;
        return { ...facts, kind: 'citus', placement };
      };
      return guard(location());
    },
  };
}

/** A database failure as the gateway answers it (503 and Retry-After), not as an internal error. */
async function guard<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw translateDbError(err) ?? err;
  }
}
