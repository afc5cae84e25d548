// Where one tenant's data lives on a Citus coordinator, from its metadata alone (no worker is asked):
// - a row-model tenant: the shard of each table colocated with users that holds its tenant_id's hash,
//   the node that shard is placed on, and whether the shard is the tenant's own (isolated: its hash
//   range is that one value, as isolate_tenant_to_new_shard leaves it);
// - a schema-model tenant: its distributed schema, the schema's colocation group and its node (each
//   schema is one colocation group of its own, so always isolated).
import type { Sql } from 'postgres';

export interface TenantShard {
  readonly table: string;
  readonly shard_id: number;
  /** host:port */
  readonly node: string;
}

export interface TenantPlacement {
  /** host:port of the node holding the tenant's shards (the first, if a move left two). */
  readonly node: string;
  readonly colocation_id: number;
  /** The shard(s) hold this tenant only. */
  readonly isolated: boolean;
  /** A schema tenant's distributed schema; null for a row tenant. */
  readonly schema: string | null;
  readonly shards: TenantShard[];
}

export type TenantModelOnCitus = { readonly model: 'rls'; readonly id: string } | { readonly model: 'schema'; readonly schema: string };

interface ShardRow {
  readonly table: string;
  readonly shard: string;
  readonly host: string;
  readonly port: number;
  readonly colocation: number;
  readonly isolated: boolean;
}

/** The tenant's placement, or null when the coordinator does not distribute its tables. */
export async function locateTenant(sql: Sql, tenant: TenantModelOnCitus): Promise<TenantPlacement | null> {
  const rows = tenant.model === 'rls' ? await rowTenantShards(sql, tenant.id) : await schemaTenantShards(sql, tenant.schema);
  const first = rows[0];
  if (first === undefined) return null;
  return {
    node: `${first.host}:${first.port}`,
    colocation_id: first.colocation,
    isolated: rows.every((r) => r.isolated),
    schema: tenant.model === 'schema' ? tenant.schema : null,
    shards: rows.map((r) => ({ table: r.table, shard_id: Number(r.shard), node: `${r.host}:${r.port}` })),
  };
}

function rowTenantShards(sql: Sql, id: string): Promise<ShardRow[]> {
  return sql<ShardRow[]>`
    SELECT p.logicalrelid::regclass::text AS "table", s.shardid::text AS shard, n.nodename AS host, n.nodeport AS port,
           p.colocationid AS colocation, s.shardminvalue = s.shardmaxvalue AS isolated
    FROM pg_catalog.pg_dist_partition p
    CROSS JOIN LATERAL pg_catalog.get_shard_id_for_distribution_column(p.logicalrelid, ${id}::uuid) AS g(shardid)
    JOIN pg_catalog.pg_dist_shard s ON s.shardid = g.shardid
    JOIN pg_catalog.pg_dist_placement pl ON pl.shardid = s.shardid
    JOIN pg_catalog.pg_dist_node n ON n.groupid = pl.groupid AND n.noderole = 'primary'
    WHERE p.colocationid = (SELECT colocationid FROM pg_catalog.pg_dist_partition
                            WHERE logicalrelid = to_regclass('public.users') AND partkey IS NOT NULL)
    ORDER BY p.logicalrelid::regclass::text = 'users' DESC, 1, n.nodeid`;
}

function schemaTenantShards(sql: Sql, schema: string): Promise<ShardRow[]> {
  return sql<ShardRow[]>`
    SELECT p.logicalrelid::regclass::text AS "table", s.shardid::text AS shard, n.nodename AS host, n.nodeport AS port,
           p.colocationid AS colocation, true AS isolated
    FROM pg_catalog.pg_dist_schema ds
    JOIN pg_catalog.pg_dist_partition p ON p.colocationid = ds.colocationid
    JOIN pg_catalog.pg_dist_shard s ON s.logicalrelid = p.logicalrelid
    JOIN pg_catalog.pg_dist_placement pl ON pl.shardid = s.shardid
    JOIN pg_catalog.pg_dist_node n ON n.groupid = pl.groupid AND n.noderole = 'primary'
    WHERE ds.schemaid = to_regnamespace(${schema})
    ORDER BY p.logicalrelid::regclass::text LIKE '%.users' DESC, 1, n.nodeid`;
}
