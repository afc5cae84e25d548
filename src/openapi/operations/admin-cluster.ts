// The cluster's state (src/routes/admin-cluster.ts): the answers' schemas and the operation.
import { z } from 'zod';
import { ISOLATION_MODEL_NAMES } from '../../tenants/placement.js';
import type { NamedSchema, Operation } from '../operation.js';

const count = z.int().min(0);
const bytes = z.number().min(0).nullable();
const hostPort = z.string().describe('host:port, as the coordinator lists the node');

const node = z.strictObject({
  host: z.string(),
  port: z.int(),
  role: z.enum(['coordinator', 'worker']),
  healthy: z.boolean().describe('the coordinator could connect to it within a second, just now'),
  should_have_shards: z.boolean(),
  shards: count.describe("shard placements on it (the coordinator's metadata)"),
  shard_bytes: bytes.describe('their size; null when some could not be measured (the node did not answer)'),
  worker_connections: count.describe('connections the coordinator holds to it now, across its backends (citus_remote_connection_stats)'),
});

const table = z.strictObject({
  name: z.string(),
  type: z.enum(['distributed', 'reference']),
  distribution_column: z.string().nullable(),
  colocation_id: count,
  shard_count: count,
  bytes: bytes.describe('null when a shard could not be measured'),
});

const activity = z.strictObject({
  tenant_id: z.guid().nullable().describe('null when Citus counted a value or schema that is no tenant of the catalog'),
  attribute: z.string().describe("what Citus counted under: a row tenant's id, a schema tenant's schema"),
  colocation_id: count,
  queries_this_period: z.number().min(0),
  queries_last_period: z.number().min(0),
  reads_this_period: z.number().min(0),
  reads_last_period: z.number().min(0),
  cpu_seconds_this_period: z.number().min(0),
  cpu_seconds_last_period: z.number().min(0),
});

const citusServer = z.strictObject({
  name: z.string(),
  kind: z.literal('citus'),
  citus_version: z.string(),
  nodes: z.array(node),
  tables: z.array(table).describe('distributed and reference tables (tenant schemas are summed up in `schemas`)'),
  schemas: z
    .strictObject({ count, tables: count, bytes })
    .describe('distributed schemas: one per schema-model tenant, each a colocation group on one node (?tenant= shows one)'),
  tenant_activity: z
    .strictObject({ period_seconds: z.int().min(1), tenants: z.array(activity) })
    .nullable()
    .describe('citus_stat_tenants, busiest first (at most citus.stat_tenants_limit); null while citus.stat_tenants_track is none'),
});

const otherServer = z.strictObject({
  name: z.string(),
  kind: z.enum(['postgres', 'unreachable']).describe('plain PostgreSQL (no nodes or shards to show), or a server that did not answer within a second'),
});

const clusterList = z.strictObject({ servers: z.array(z.union([citusServer, otherServer])).describe('every server, main first') });

const tenantLocation = z.strictObject({
  id: z.guid(),
  name: z.string(),
  server: z.string(),
  model: z.enum(ISOLATION_MODEL_NAMES),
  kind: z.enum(['citus', 'postgres']).describe('the kind of its server'),
  placement: z
    .strictObject({
      node: hostPort.describe('the node holding its shards'),
      colocation_id: count,
      isolated: z.boolean().describe("the shards hold this tenant only (a schema tenant's always do)"),
      schema: z.string().nullable().describe("a schema tenant's distributed schema; null for a row tenant"),
      shards: z.array(z.strictObject({ table: z.string(), shard_id: z.int(), node: hostPort })),
    })
    .nullable()
    .describe('null on a plain PostgreSQL server, and for a database-model tenant'),
});

const clusterStatus: NamedSchema = { name: 'ClusterStatus', schema: z.union([clusterList, tenantLocation]) };

const listExample = {
  servers: [
    {
      name: 'main',
      kind: 'citus',
      citus_version: '13.2.2',
      nodes: [
        { host: '10.0.0.10', port: 5432, role: 'coordinator', healthy: true, should_have_shards: false, shards: 0, shard_bytes: 0, worker_connections: 0 },
        { host: '10.0.0.11', port: 5432, role: 'worker', healthy: true, should_have_shards: true, shards: 35, shard_bytes: 2_924_544, worker_connections: 4 },
        { host: '10.0.0.12', port: 5432, role: 'worker', healthy: false, should_have_shards: true, shards: 35, shard_bytes: null, worker_connections: 1 },
      ],
      tables: [
        { name: 'idempotency_keys', type: 'distributed', distribution_column: 'tenant_id', colocation_id: 1, shard_count: 32, bytes: null },
        { name: 'users', type: 'distributed', distribution_column: 'tenant_id', colocation_id: 1, shard_count: 32, bytes: null },
      ],
      schemas: { count: 3, tables: 6, bytes: null },
      tenant_activity: {
        period_seconds: 60,
        tenants: [
          {
            tenant_id: '0b6f4a1e-9c55-4f0e-8d2a-3f1c2b7a9e10',
            attribute: '0b6f4a1e-9c55-4f0e-8d2a-3f1c2b7a9e10',
            colocation_id: 1,
            queries_this_period: 120,
            queries_last_period: 310,
            reads_this_period: 80,
            reads_last_period: 200,
            cpu_seconds_this_period: 0.02,
            cpu_seconds_last_period: 0.05,
          },
        ],
      },
    },
    { name: 'eu2', kind: 'postgres' },
  ],
};

export const adminClusterOperations: readonly Operation[] = [
  {
    method: 'get',
    path: '/v1/admin/cluster',
    operationId: 'getCluster',
    tag: 'Servers',
    summary: "The Citus servers' nodes and their health, tables, shards per node and tenant activity; or where one tenant lives",
    description:
      'Without `tenant`: every server, a Citus coordinator with its nodes (each checked live from the coordinator, with a one-second timeout), its distributed and reference tables, its shards per node with their sizes, the connections the coordinator holds to each node and the per-tenant activity Citus counts (`citus_stat_tenants`); a plain PostgreSQL server as `kind: "postgres"` only. With `tenant`: the tenant\'s server, model, node and shards (for a row tenant, whether its shard is its own; for a schema tenant, its schema and colocation group).',
    access: 'admin',
    query: z.object({ tenant: z.guid().optional().describe('a tenant id: answer where that tenant lives instead of the whole listing') }),
    replies: {
      200: {
        description: 'the servers (`{"servers": […]}`), or with `tenant` that tenant\'s placement',
        body: clusterStatus,
        example: listExample,
      },
    },
    errors: ['tenant_not_found'],
  },
];
