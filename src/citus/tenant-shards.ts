// Where a tenant's data lives on a Citus cluster, and Citus' own operations that change it: isolating
// a row-model tenant to a shard of its own, and moving its shard (or a schema tenant's schema) to
// another worker. Each runs on a superuser connection to the coordinator. Moves go by logical
// replication (shard_transfer_mode 'force_logical': writes wait only for the final catch-up; users and
// idempotency_keys have the primary keys it needs as replica identity); the isolation's split copies
// with writes blocked (below). They run in the calling session, so no background executor is involved
// (citus.max_background_task_executors is for the rebalancer's jobs); each move takes one replication
// slot per source worker for its duration (max_replication_slots, default 10).
import type { Sql } from 'postgres';
import type { NodeAddress } from './node-address.js';

export interface TenantShard {
  /** The worker holding the tenant's users shard. */
  readonly node: NodeAddress;
  /** Its users shard: the row-model tenant's hash range, or the schema tenant's users table. */
  readonly shardId: number;
  /** The shard holds this tenant's hash value only (a schema tenant always: its own colocation group). */
  readonly isolated: boolean;
  /** The distributed schema of a schema tenant; null for a row-model tenant. */
  readonly schema: string | null;
}

interface ShardRow {
  readonly shardid: string;
  readonly isolated: boolean;
  readonly nodename: string;
  readonly nodeport: number;
}

const shardOf = (row: ShardRow | undefined): { shardId: number; isolated: boolean; node: NodeAddress } | undefined =>
  row === undefined ? undefined : { shardId: Number(row.shardid), isolated: row.isolated, node: { host: row.nodename, port: row.nodeport } };

/** A row-model tenant's users shard: the one covering its tenant_id's hash (it exists with no rows too). */
export async function rlsTenantShard(sql: Sql, tenantId: string): Promise<TenantShard> {
  const [row] = await sql<ShardRow[]>`
    SELECT s.shardid, s.shardminvalue = s.shardmaxvalue AS isolated, n.nodename, n.nodeport
    FROM pg_catalog.pg_dist_shard s
    JOIN pg_catalog.pg_dist_placement p ON p.shardid = s.shardid
    JOIN pg_catalog.pg_dist_node n ON n.groupid = p.groupid AND n.noderole = 'primary'
    WHERE s.shardid = pg_catalog.get_shard_id_for_distribution_column('public.users', ${tenantId}::uuid)`;
  const shard = shardOf(row);
  if (shard === undefined) throw new Error('public.users is not distributed here');
  return { ...shard, schema: null };
}

/** A schema tenant's users shard, or undefined when its schema is not a distributed schema. */
export async function schemaTenantShard(sql: Sql, schema: string): Promise<TenantShard | undefined> {
  const [row] = await sql<ShardRow[]>`
    SELECT s.shardid, true AS isolated, n.nodename, n.nodeport
    FROM pg_catalog.pg_dist_schema d
    JOIN pg_catalog.pg_dist_partition t ON t.colocationid = d.colocationid
    JOIN pg_catalog.pg_dist_shard s ON s.logicalrelid = t.logicalrelid
    JOIN pg_catalog.pg_dist_placement p ON p.shardid = s.shardid
    JOIN pg_catalog.pg_dist_node n ON n.groupid = p.groupid AND n.noderole = 'primary'
    JOIN pg_catalog.pg_class c ON c.oid = t.logicalrelid
    WHERE d.schemaid = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = ${schema}) AND c.relname = 'users'`;
  const shard = shardOf(row);
  return shard === undefined ? undefined : { ...shard, schema };
}

/**
 * Splits the tenant's hash value off into a shard of its own, with its colocated idempotency_keys
 * ('CASCADE'). The new shard stays on the node of the old one. Answers the new users shard's id.
 *
 * In 'block_writes' mode: writes to the shard being split (its other tenants' too) wait while Citus
 * copies it, reads go on. The non-blocking split ('force_logical') stalls for good under concurrent
 * UPDATEs — its apply worker keeps failing with "publisher did not send replica identity column
 * expected by the logical replication target relation" (measured here with Citus 13.2; open upstream
 * as citusdata/citus#6790) — while the shard's locks are held. The move that follows is logical.
 */
export async function isolateRlsTenant(sql: Sql, tenantId: string): Promise<number> {
  const [row] = await sql<{ shardid: string }[]>`
    SELECT pg_catalog.isolate_tenant_to_new_shard('public.users', ${tenantId}::uuid, 'CASCADE', shard_transfer_mode => 'block_writes') AS shardid`;
  return Number(row?.shardid);
}

/** Whether Citus may place shards on the node: an active primary that should have shards. */
export async function isShardNode(sql: Sql, node: NodeAddress): Promise<boolean> {
  const [row] = await sql`
    SELECT 1 FROM pg_catalog.pg_dist_node
    WHERE nodename = ${node.host} AND nodeport = ${node.port} AND noderole = 'primary' AND isactive AND shouldhaveshards`;
  return row !== undefined;
}

/** Moves the shard and the shards colocated with it (the tenant's idempotency_keys) to another worker. */
export async function moveShard(sql: Sql, shardId: number, from: NodeAddress, to: NodeAddress): Promise<void> {
  await sql`
    SELECT pg_catalog.citus_move_shard_placement(${shardId}::bigint, ${from.host}, ${from.port}::int, ${to.host}, ${to.port}::int,
                                                 shard_transfer_mode => 'force_logical')`;
}

/** Moves a distributed schema (every table of the tenant's colocation group) to another worker. */
export async function moveSchema(sql: Sql, schema: string, to: NodeAddress): Promise<void> {
  await sql`
    SELECT pg_catalog.citus_schema_move((SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = ${schema})::regnamespace,
                                        ${to.host}, ${to.port}::int, shard_transfer_mode => 'force_logical')`;
}
