// The cluster's state through the admin API, /metrics and the CLI, on a real 3-node Citus cluster with
// the gateway's catalog on the coordinator: nodes and their health, tables, shards per node as the
// workers' own tables count them, tenant activity counted by Citus, where row and schema tenants live
// (checked against the shard tables on the workers), and a stopped or frozen worker shown down while
// every answer still comes promptly.
import { readdir, readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutCitus, startCitusCluster, type CitusCluster } from '../support/citus-cluster.js';
import { startDataServer } from '../support/data-server.js';
import { waitFor } from '../support/database.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { runCli } from '../support/processes.js';

const USERS = '/v1/internal/users';
const skip = skipWithoutCitus();
let cluster: CitusCluster;
let gw: TestGateway;

interface Node {
  host: string;
  port: number;
  role: string;
  healthy: boolean;
  should_have_shards: boolean;
  shards: number;
  shard_bytes: number | null;
  worker_connections: number;
}
interface CitusServer {
  name: string;
  kind: 'citus';
  citus_version: string;
  nodes: Node[];
  tables: { name: string; type: string; distribution_column: string | null; colocation_id: number; shard_count: number; bytes: number | null }[];
  schemas: { count: number; tables: number; bytes: number | null };
  tenant_activity: {
    period_seconds: number;
    tenants: { tenant_id: string | null; attribute: string; queries_this_period: number; queries_last_period: number }[];
  } | null;
}
interface Location {
  id: string;
  server: string;
  model: string;
  kind: string;
  placement: {
    node: string;
    colocation_id: number;
    isolated: boolean;
    schema: string | null;
    shards: { table: string; shard_id: number; node: string }[];
  } | null;
}

const admin = () => ({ authorization: `Bearer ${gw.adminToken}` });

async function clusterStatus(): Promise<CitusServer> {
  const res = await gw.request('/v1/admin/cluster', { headers: admin() });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { servers: CitusServer[] };
  expect(body.servers.map((s) => [s.name, s.kind])).toEqual([['main', 'citus']]);
  return body.servers[0] as CitusServer;
}

async function locate(id: string): Promise<Location> {
  const res = await gw.request(`/v1/admin/cluster?tenant=${id}`, { headers: admin() });
  expect(res.status).toBe(200);
  return (await res.json()) as Location;
}

/** Shard tables on a worker (`users_102008`, `s_….users_102070`), as the worker itself has them. */
async function shardTablesOn(port: number): Promise<{ name: string; bytes: number }[]> {
  return cluster.worker(port).begin(async (tx) => {
    // Citus hides shards from other applications' catalog queries on a worker.
    await tx`SET LOCAL citus.override_table_visibility = off`;
    return tx<{ name: string; bytes: number }[]>`
      SELECT c.oid::regclass::text AS name, pg_total_relation_size(c.oid)::float8 AS bytes
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND c.relname ~ '^(users|idempotency_keys)_[0-9]+$' AND (n.nspname = 'public' OR n.nspname ~ '^s_[0-9a-f]{32}$')`;
  });
}

async function addUsers(tenantId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const res = await gw.request(USERS, { method: 'POST', headers: { 'x-tenant-id': tenantId }, json: { first_name: `F${i}`, last_name: 'L' } });
    expect(res.status).toBe(201);
  }
}

describe.skipIf(skip)('the Citus cluster as the admin API, /metrics and the CLI show it', () => {
  const row: { id: string }[] = [];
  const schema: { id: string }[] = [];
  beforeAll(async () => {
    cluster = await startCitusCluster();
    gw = await startTestGateway({ database: cluster.asDatabase() });
    // Row tenants hash to a worker by their random id: four land on one worker 1 time in 8, so more
    // are made until both workers hold one (the test below relies on it).
    const workerOf = async (id: string): Promise<number | undefined> =>
      (
        await cluster.coordinator<{ port: number }[]>`
          SELECT nodeport AS port FROM citus_shards
          WHERE table_name = 'public.users'::regclass AND shardid = get_shard_id_for_distribution_column('public.users', ${id}::uuid)`
      )[0]?.port;
    const workers = new Set<number | undefined>();
    for (let i = 0; i < 4 || (workers.size < 2 && i < 40); i++) {
      const tenant = await gw.createTenant(`row-${i}`, 'rls');
      row.push(tenant);
      workers.add(await workerOf(tenant.id));
    }
    for (let i = 0; i < 2; i++) schema.push(await gw.createTenant(`schema-${i}`, 'schema'));
    for (const t of [...row, ...schema]) await addUsers(t.id, 2);
  }, 180_000);
  afterAll(async () => {
    await gw?.close();
    await cluster?.destroy();
  });

  it('lists the coordinator and both workers, healthy, with the tables sql/016 distributes', async () => {
    const started = Date.now();
    const main = await clusterStatus();
    console.log(`cluster status, every node up: ${Date.now() - started} ms`);
    expect(main.citus_version).toMatch(/^13\.\d+\.\d+$/);
    expect(main.nodes.map((n) => [n.port, n.role, n.healthy])).toEqual([
      [cluster.coordinatorPort, 'coordinator', true],
      ...cluster.workerPorts.map((p) => [p, 'worker', true]),
    ]);
    expect(main.tables).toEqual([
      expect.objectContaining({ name: 'idempotency_keys', type: 'distributed', distribution_column: 'tenant_id', shard_count: 32 }),
      expect.objectContaining({ name: 'users', type: 'distributed', distribution_column: 'tenant_id', shard_count: 32 }),
    ]);
    expect(main.tables[0]?.colocation_id).toBe(main.tables[1]?.colocation_id);
    // Two schema tenants: two distributed schemas of two tables each.
    expect(main.schemas).toMatchObject({ count: 2, tables: 4 });
    expect(main.schemas.bytes).toBeGreaterThan(0);
  });

  it("counts and sizes each worker's shards as the worker's own tables do", async () => {
    const main = await clusterStatus();
    for (const port of cluster.workerPorts) {
      const node = main.nodes.find((n) => n.port === port);
      const tables = await shardTablesOn(port);
      expect(tables.length).toBeGreaterThan(10);
      expect(node?.shards, `shards on ${port}`).toBe(tables.length);
      expect(node?.shard_bytes, `bytes on ${port}`).toBe(tables.reduce((sum, t) => sum + t.bytes, 0));
    }
    // 32 + 32 row-model shards and 2 × 2 schema shards, each on one node.
    expect(main.nodes.reduce((sum, n) => sum + n.shards, 0)).toBe(68);
    const users = main.tables.find((t) => t.name === 'users');
    const [sized] = await cluster.coordinator<{ bytes: number }[]>`
      SELECT sum(size)::float8 AS bytes FROM citus_shard_sizes() JOIN pg_dist_shard ON shardid = shard_id WHERE logicalrelid = 'users'::regclass`;
    expect(users?.bytes).toBe(sized?.bytes);
  });

  it('shows the connections the coordinator holds to each worker', async () => {
    for (const t of row) expect((await gw.request(USERS, { headers: { 'x-tenant-id': t.id } })).status).toBe(200);
    const main = await clusterStatus();
    const [stats] = await cluster.coordinator<{ n: number }[]>`
      SELECT COALESCE(sum(connection_count_to_node), 0)::int AS n FROM citus_remote_connection_stats() WHERE port = ANY(${cluster.workerPorts as number[]})`;
    const shown = main.nodes.filter((n) => n.role === 'worker').reduce((sum, n) => sum + n.worker_connections, 0);
    expect(shown).toBeGreaterThan(0);
    // The gateway's answer was read a moment before: connections may have been opened or closed since.
    expect(Math.abs(shown - (stats?.n ?? 0))).toBeLessThanOrEqual(4);
  });

  it("counts each tenant's statements as Citus attributes them (citus_stat_tenants), row and schema tenants alike", async () => {
    const rowTenant = row[1]?.id ?? '';
    const schemaTenant = schema[1]?.id ?? '';
    for (const id of [rowTenant, schemaTenant]) {
      for (let i = 0; i < 5; i++) expect((await gw.request(USERS, { headers: { 'x-tenant-id': id } })).status).toBe(200);
    }
    const main = await clusterStatus();
    expect(main.tenant_activity?.period_seconds).toBe(60);
    // A period (60 s) may have ended since: the reads above then count in the last one.
    const counted = (id: string) =>
      main.tenant_activity?.tenants.filter((t) => t.tenant_id === id).reduce((sum, t) => sum + t.queries_this_period + t.queries_last_period, 0) ?? 0;
    expect(counted(rowTenant)).toBeGreaterThanOrEqual(5);
    expect(counted(schemaTenant)).toBeGreaterThanOrEqual(5);
    const schemaRow = main.tenant_activity?.tenants.find((t) => t.tenant_id === schemaTenant);
    expect(schemaRow?.attribute).toMatch(/^s_[0-9a-f]{32}$/);
  });

  it('says where row and schema tenants live, as the shard tables on the workers confirm', async () => {
    const nodesUsed = new Set<string>();
    for (const t of [...row, ...schema]) {
      const where = await locate(t.id);
      expect(where).toMatchObject({ id: t.id, server: 'main', kind: 'citus' });
      const placement = where.placement;
      if (placement === null) throw new Error(`no placement for ${t.id}`);
      nodesUsed.add(`${where.model} ${placement.node}`);
      const port = Number(placement.node.split(':')[1]);
      expect(cluster.workerPorts).toContain(port);
      const users = placement.shards.find((s) => /(^|\.)users$/.test(s.table));
      expect(placement.shards.map((s) => s.node)).toEqual([placement.node, placement.node]);
      const shardTable = `${users?.table}_${users?.shard_id}`;
      // The tenant's two users are in that shard on that worker, and the other worker has no such shard.
      const [here] = await cluster.worker(port).unsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM ${shardTable} WHERE tenant_id = $1`, [t.id]);
      expect(here?.n, `${shardTable} on ${port}`).toBe(2);
      const other = cluster.workerPorts.find((p) => p !== port) ?? 0;
      const [elsewhere] = await cluster.worker(other)<{ r: string | null }[]>`SELECT to_regclass(${shardTable})::text AS r`;
      expect(elsewhere?.r).toBeNull();
      if (where.model === 'schema') {
        expect(placement).toMatchObject({ isolated: true, schema: users?.table.split('.')[0] });
      } else {
        expect(placement).toMatchObject({ isolated: false, schema: null });
      }
    }
    // The row tenants hash to both workers (made so above); two schemas are placed one per worker.
    expect([...nodesUsed].filter((n) => n.startsWith('rls')).length, [...nodesUsed].join(', ')).toBe(2);
    expect([...nodesUsed].filter((n) => n.startsWith('schema')).length, [...nodesUsed].join(', ')).toBe(2);
  });

  it('shows a row tenant isolated once its shard holds only it', async () => {
    const id = row[2]?.id ?? '';
    const before = await locate(id);
    expect(before.placement?.isolated).toBe(false);
    await cluster.coordinator`SELECT isolate_tenant_to_new_shard('public.users', ${id}::uuid, 'CASCADE', shard_transfer_mode => 'force_logical')`;
    const after = await locate(id);
    expect(after.placement?.isolated).toBe(true);
    expect(after.placement?.shards.map((s) => s.shard_id)).not.toEqual(before.placement?.shards.map((s) => s.shard_id));
    // Still served, from its own shard.
    const list = await gw.request(USERS, { headers: { 'x-tenant-id': id } });
    expect(((await list.json()) as { records: unknown[] }).records).toHaveLength(2);
  });

  it('answers 404 for an unknown tenant and 400 naming the parameter for a bad one', async () => {
    const unknown = await gw.request(`/v1/admin/cluster?tenant=${randomUUID()}`, { headers: admin() });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('tenant_not_found');
    for (const [query, code] of [
      ['tenant=nope', 'invalid_parameter'],
      ['tenant=1&tenant=2', 'duplicate_parameter'],
      ['node=1', 'unknown_parameter'],
    ] as const) {
      const res = await gw.request(`/v1/admin/cluster?${query}`, { headers: admin() });
      expect(res.status, query).toBe(400);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe(code);
      expect(error.message).toContain(query.startsWith('node') ? 'node' : 'tenant');
    }
    expect((await gw.request('/v1/admin/cluster')).status).toBe(401);
    expect((await gw.request('/v1/admin/cluster', { method: 'POST', headers: admin() })).status).toBe(405);
  });

  it('exports nodes, shards, sizes and worker connections as gauges', async () => {
    const main = await clusterStatus();
    const text = await scrape();
    for (const node of main.nodes) {
      const labels = `{server="main",node="${node.host}:${node.port}"}`;
      expect(sample(text, `tenantgate_citus_node_up${labels}`)).toBe(1);
      expect(sample(text, `tenantgate_citus_shards${labels}`)).toBe(node.shards);
      expect(sample(text, `tenantgate_citus_shard_bytes${labels}`)).toBeGreaterThanOrEqual(0);
      expect(sample(text, `tenantgate_citus_worker_connections${labels}`)).toBeGreaterThanOrEqual(0);
    }
  });

  it('prints the cluster as text and as the API answers it (cluster status)', async () => {
    const env = { ...process.env, DATABASE_URL: cluster.url, CREDENTIALS_KEY: gw.credentialsKey.toString('hex'), ADMIN_JWT_SECRET: gw.adminSecret };
    const text = await runCli(['cluster', 'status'], env, 60_000);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^server main: Citus 13\.\d+\.\d+$/m);
    for (const port of cluster.workerPorts) expect(text.stdout).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}\\s+worker\\s+up\\s+\\d+`));
    expect(text.stdout).toMatch(/^\s+users\s+distributed\s+tenant_id\s+\d+\s+\d+\s/m);
    const json = await runCli(['cluster', 'status', '--json', '--tenant', 'schema-0'], env, 60_000);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(await locate(schema[0]?.id ?? ''));
  });

  it('shows a stopped worker down, its sizes unknown, while the API and /metrics answer promptly', async () => {
    const port = cluster.workerPorts[1] ?? 0;
    await cluster.stopNode(port);
    try {
      const started = Date.now();
      const main = await clusterStatus();
      const ms = Date.now() - started;
      console.log(`cluster status with a stopped worker: ${ms} ms`);
      expect(ms).toBeLessThan(3000);
      const down = main.nodes.find((n) => n.port === port);
      expect(down).toMatchObject({ healthy: false, shard_bytes: null });
      expect(down?.shards).toBeGreaterThan(0);
      expect(main.nodes.filter((n) => n.port !== port).every((n) => n.healthy && n.shard_bytes !== null)).toBe(true);
      // A tenant placed there can still be located: the coordinator's metadata says where it is.
      expect((await locate(schema[0]?.id ?? '')).placement).not.toBeNull();
      await waitFor(async () => {
        const scrapeStarted = Date.now();
        const text = await scrape();
        expect(Date.now() - scrapeStarted).toBeLessThan(2000);
        return sample(text, `tenantgate_citus_node_up{server="main",node="127.0.0.1:${port}"}`) === 0;
      }, 15_000);
    } finally {
      await cluster.startNode(port);
    }
    await waitFor(async () => (await clusterStatus()).nodes.every((n) => n.healthy), 15_000);
  });

  it('shows a frozen worker (accepting connections, answering none) down within the probe timeout', async () => {
    const port = cluster.workerPorts[0] ?? 0;
    const [dir] = await cluster.worker(port)<{ setting: string }[]>`SELECT setting FROM pg_settings WHERE name = 'data_directory'`;
    const postmaster = Number((await readFile(`${dir?.setting}/postmaster.pid`, 'utf8')).split('\n')[0]);
    // The postmaster and every backend: connections the coordinator has open to it hang too.
    const frozen = [postmaster, ...(await childrenOf(postmaster))];
    for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    try {
      const started = Date.now();
      const res = await gw.request('/v1/admin/cluster', { headers: admin() });
      const ms = Date.now() - started;
      expect(res.status).toBe(200);
      const main = ((await res.json()) as { servers: CitusServer[] }).servers[0];
      expect(main?.nodes.find((n) => n.port === port)?.healthy).toBe(false);
      // One second per query that reaches the workers (health, sizes, tenant activity), and some slack.
      expect(ms).toBeLessThan(6000);
      console.log(`cluster status with a frozen worker: ${ms} ms`);
      const scrapeStarted = Date.now();
      expect((await gw.request('/metrics')).status).toBe(200);
      expect(Date.now() - scrapeStarted).toBeLessThan(2000);
    } finally {
      for (const pid of frozen) process.kill(pid, 'SIGCONT');
    }
  });

  it('lists a plain PostgreSQL data server as such, its tenants without placement, and shows it unreachable once stopped', async () => {
    const plain = await startDataServer(gw.keys);
    try {
      const added = await gw.request('/v1/admin/servers', {
        method: 'POST',
        headers: admin(),
        json: { name: 'plain', url: plain.ownerUrl, max_connections: 10 },
      });
      expect(added.status).toBe(201);
      const tenant = await gw.createTenant('on-plain', 'rls', 'plain');
      const listing = async () =>
        ((await (await gw.request('/v1/admin/cluster', { headers: admin() })).json()) as { servers: { name: string; kind: string }[] }).servers;
      expect((await listing()).map((s) => [s.name, s.kind])).toEqual([
        ['main', 'citus'],
        ['plain', 'postgres'],
      ]);
      expect((await listing())[1]).toEqual({ name: 'plain', kind: 'postgres' });
      expect(await locate(tenant.id)).toMatchObject({ id: tenant.id, server: 'plain', model: 'rls', kind: 'postgres', placement: null });
      await plain.stop();
      const started = Date.now();
      expect((await listing()).map((s) => [s.name, s.kind])).toEqual([
        ['main', 'citus'],
        ['plain', 'unreachable'],
      ]);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await plain.destroy();
    }
  });
});

/** The processes whose parent is `pid`, from /proc (procps may be missing in a slim image). */
async function childrenOf(pid: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) children.push(Number(entry));
  }
  return children;
}

async function scrape(): Promise<string> {
  const res = await gw.request('/metrics');
  expect(res.status).toBe(200);
  return res.text();
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
