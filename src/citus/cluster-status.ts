// One Citus coordinator's state, read from its metadata as the monitoring guide of
// ../shared/seeds/000_… reads it by hand (pg_dist_node, pg_dist_partition, shard placements and sizes),
// in one transaction on the server's owner connection (a superuser: src/citus/coordinator.ts):
// - nodes: each checked live from the coordinator (citus_check_connection_to_node), their shards
//   counted from the metadata (no worker involved) and sized by citus_shard_sizes(), which skips a
//   node it cannot reach (with a warning): a size is null when any of its shards went unmeasured;
// - worker connections: citus_remote_connection_stats(), the coordinator's own count of connections
//   it holds to each node, across its backends, the figure citus.max_shared_pool_size bounds;
// - tables: distributed and reference tables one by one; tenant schemas (one colocation group each,
//   so one per schema tenant) summed up, since there may be thousands (?tenant= shows one);
// - tenant activity: citus_stat_tenants while citus.stat_tenants_track is on (sql/017).
// Every query that reaches other nodes gives up on an unanswered one after the probe timeout
// (citus.node_connection_timeout, 30 s by default), so a blackholed worker costs seconds, not minutes.
import type { Sql, TransactionSql } from 'postgres';

export interface ClusterNode {
  readonly host: string;
  readonly port: number;
  readonly role: 'coordinator' | 'worker';
  /** The coordinator could open a connection to it just now. */
  readonly healthy: boolean;
  readonly should_have_shards: boolean;
  /** Shard placements on it, from the coordinator's metadata. */
  readonly shards: number;
  /** Their size; null when some could not be measured (the node did not answer). */
  readonly shard_bytes: number | null;
  /** Connections the coordinator holds to it now, across its backends. */
  readonly worker_connections: number;
}

export interface ClusterTable {
  readonly name: string;
  readonly type: 'distributed' | 'reference';
  /** null for a reference table, or a distributed table without a shard key. */
  readonly distribution_column: string | null;
  readonly colocation_id: number;
  readonly shard_count: number;
  readonly bytes: number | null;
}

export interface TenantSchemas {
  /** Distributed schemas (schema-based sharding: each a colocation group on one node). */
  readonly count: number;
  readonly tables: number;
  readonly bytes: number | null;
}

export interface CitusTenantStat {
  /** tenant_attribute: a row tenant's id, or a schema tenant's schema name. */
  readonly attribute: string;
  readonly colocation_id: number;
  readonly queries_this_period: number;
  readonly queries_last_period: number;
  readonly reads_this_period: number;
  readonly reads_last_period: number;
  readonly cpu_seconds_this_period: number;
  readonly cpu_seconds_last_period: number;
}

export interface CitusStatus {
  /** citus_version()'s version, e.g. "13.2.2". */
  readonly version: string;
  readonly nodes: ClusterNode[];
  readonly tables: ClusterTable[];
  readonly schemas: TenantSchemas;
  /** undefined while citus.stat_tenants_track is none. */
  readonly tenantStats?: { readonly periodSeconds: number; readonly tenants: CitusTenantStat[] };
}

export interface CitusStatusOptions {
  /** How long a node may take to accept a connection before it counts as down. */
  readonly probeTimeoutMs: number;
}

/** Reads the state of the Citus cluster `sql` (a superuser on its coordinator) is connected to. */
export async function readCitusStatus(sql: Sql, options: CitusStatusOptions): Promise<CitusStatus> {
  return sql.begin(async (tx) => {
    const timeout = Math.max(100, Math.round(options.probeTimeoutMs));
    // Three queries reach the workers, each waiting at most `timeout` on a node that does not answer.
    await tx`SELECT set_config('citus.node_connection_timeout', ${String(timeout)}, true),
                    set_config('statement_timeout', ${String(timeout * 4 + 5000)}, true)`;
    const [info] = await tx<{ version: string; track: string; period: number }[]>`
      SELECT substring(citus_version() FROM 'Citus ([0-9.]+)') AS version,
             current_setting('citus.stat_tenants_track') AS track,
             current_setting('citus.stat_tenants_period')::int AS period`;
    const sizes = await shardSizes(tx);
    const nodes = await readNodes(tx, sizes);
    const { tables, schemas } = await readTables(tx, sizes);
    const tenantStats = info?.track === 'none' ? undefined : { periodSeconds: info?.period ?? 60, tenants: await readTenantStats(tx) };
    return { version: info?.version ?? 'unknown', nodes, tables, schemas, ...(tenantStats === undefined ? {} : { tenantStats }) };
  });
}

/** Each shard's size, for the shards on the nodes that answered. */
async function shardSizes(tx: TransactionSql): Promise<Map<string, number>> {
  const rows = await tx<{ shardid: string; bytes: number }[]>`
    SELECT shard_id::text AS shardid, max(size)::float8 AS bytes FROM pg_catalog.citus_shard_sizes() GROUP BY shard_id`;
  return new Map(rows.map((r) => [r.shardid, r.bytes]));
}

/** Sums the sizes of `shards`; null if one of them is unmeasured. */
function sizeOf(shards: readonly string[], sizes: ReadonlyMap<string, number>): number | null {
  let total = 0;
  for (const shard of shards) {
    const size = sizes.get(shard);
    if (size === undefined) return null;
    total += size;
  }
  return total;
}

async function readNodes(tx: TransactionSql, sizes: ReadonlyMap<string, number>): Promise<ClusterNode[]> {
  const rows = await tx<{ host: string; port: number; coordinator: boolean; should: boolean; healthy: boolean; shards: string[]; connections: number }[]>`
    SELECT n.nodename AS host, n.nodeport AS port, n.groupid = 0 AS coordinator, n.shouldhaveshards AS should,
           pg_catalog.citus_check_connection_to_node(n.nodename, n.nodeport) AS healthy,
           ARRAY(SELECT p.shardid::text FROM pg_catalog.pg_dist_placement p WHERE p.groupid = n.groupid ORDER BY 1) AS shards,
           COALESCE((SELECT sum(s.connection_count_to_node) FROM pg_catalog.citus_remote_connection_stats() s
                     WHERE s.hostname = n.nodename AND s.port = n.nodeport AND s.database_name = current_database()), 0)::int AS connections
    FROM pg_catalog.pg_dist_node n
    WHERE n.noderole = 'primary' AND n.isactive
    ORDER BY n.groupid, n.nodeid`;
  return rows.map((r) => ({
    host: r.host,
    port: r.port,
    role: r.coordinator ? 'coordinator' : 'worker',
    healthy: r.healthy,
    should_have_shards: r.should,
    shards: r.shards.length,
    shard_bytes: r.healthy ? sizeOf(r.shards, sizes) : null,
    worker_connections: r.connections,
  }));
}

async function readTables(tx: TransactionSql, sizes: ReadonlyMap<string, number>): Promise<{ tables: ClusterTable[]; schemas: TenantSchemas }> {
  // citus_tables' classification, without its sizes (which it would ask every worker for again).
  const rows = await tx<{ name: string; kind: string; column: string | null; colocation: number; shards: string[] }[]>`
    SELECT p.logicalrelid::regclass::text AS name,
           CASE WHEN p.colocationid IN (SELECT colocationid FROM pg_catalog.pg_dist_schema) THEN 'schema'
                WHEN p.partkey IS NOT NULL THEN 'distributed'
                WHEN p.repmodel = 't' THEN 'reference'
                WHEN p.colocationid = 0 THEN 'local'
                ELSE 'distributed' END AS kind,
           CASE WHEN p.partkey IS NULL THEN NULL ELSE pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) END AS "column",
           p.colocationid AS colocation,
           ARRAY(SELECT s.shardid::text FROM pg_catalog.pg_dist_shard s WHERE s.logicalrelid = p.logicalrelid) AS shards
    FROM pg_catalog.pg_dist_partition p
    WHERE p.logicalrelid NOT IN (SELECT objid FROM pg_catalog.pg_depend
                                 WHERE classid = 'pg_catalog.pg_class'::regclass AND refclassid = 'pg_catalog.pg_extension'::regclass AND deptype = 'e')
    ORDER BY 1`;
  const tables: ClusterTable[] = [];
  const schemaShards: string[] = [];
  let schemaTables = 0;
  for (const r of rows) {
    if (r.kind === 'schema') {
      schemaTables++;
      schemaShards.push(...r.shards);
    } else if (r.kind === 'distributed' || r.kind === 'reference') {
      tables.push({
        name: r.name,
        type: r.kind,
        distribution_column: r.column,
        colocation_id: r.colocation,
        shard_count: r.shards.length,
        bytes: sizeOf(r.shards, sizes),
      });
    }
  }
  const [schemaCount] = await tx<{ count: number }[]>`SELECT count(*)::int AS count FROM pg_catalog.pg_dist_schema`;
  return { tables, schemas: { count: schemaCount?.count ?? 0, tables: schemaTables, bytes: sizeOf(schemaShards, sizes) } };
}

async function readTenantStats(tx: TransactionSql): Promise<CitusTenantStat[]> {
  // One row per node a tenant ran on; summed, busiest first (the view keeps citus.stat_tenants_limit).
  return tx<CitusTenantStat[]>`
    SELECT tenant_attribute AS attribute, colocation_id,
           sum(query_count_in_this_period)::float8 AS queries_this_period,
           sum(query_count_in_last_period)::float8 AS queries_last_period,
           sum(read_count_in_this_period)::float8 AS reads_this_period,
           sum(read_count_in_last_period)::float8 AS reads_last_period,
           sum(cpu_usage_in_this_period)::float8 AS cpu_seconds_this_period,
           sum(cpu_usage_in_last_period)::float8 AS cpu_seconds_last_period
    FROM pg_catalog.citus_stat_tenants
    GROUP BY tenant_attribute, colocation_id
    ORDER BY sum(query_count_in_this_period) DESC, sum(query_count_in_last_period) DESC, tenant_attribute`;
}
