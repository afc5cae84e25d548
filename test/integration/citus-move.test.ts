// Tenant operations on a real Citus cluster (coordinator + 2 workers), through the admin API and the
// CLI: isolating a row-model tenant to a shard of its own, and moving a tenant (its shard, or its
// distributed schema) between the workers while writers and a reader use it through the gateway. After
// each tenant's moves the cluster holds exactly what was acknowledged (row set and checksum), its
// idempotency keys moved with it (a replay is answered from them), reads never failed, the worst write
// latency during a move (the pause) is measured, and another tenant of the same model — for rls, one
// sharing the moving tenant's shard, so that the isolation splits a shard under its writes — is served
// throughout. MOVE_ROUNDS (default 2) moves each tenant back and forth that many times.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IsolationModelName } from '../../src/tenants/placement.js';
import { skipWithoutCitus, startCitusCluster, type CitusCluster } from '../support/citus-cluster.js';
import { waitFor } from '../support/database.js';
import { startDataServer, type DataServer } from '../support/data-server.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { runCli } from '../support/processes.js';

const ROUNDS = Number(process.env.MOVE_ROUNDS ?? '2');
const SEED_ROWS = 10_000;
const WRITERS = 4;
const skip = skipWithoutCitus();

let cluster: CitusCluster;
let gw: TestGateway;
let plain: DataServer;

function admin(method: string, path: string, json?: unknown): Promise<Response> {
  return gw.request(path, { method, headers: { authorization: `Bearer ${gw.adminToken}` }, ...(json === undefined ? {} : { json }) });
}

const node = (port: number): string => `127.0.0.1:${port}`;

interface UserRow {
  readonly id: string;
  readonly first_name: string;
  readonly last_name: string;
  readonly confirmed: boolean;
}

const schemaOf = (tenantId: string): string => `s_${tenantId.replaceAll('-', '')}`;
const tableOf = (tenantId: string, model: IsolationModelName): string => (model === 'rls' ? 'public.users' : `"${schemaOf(tenantId)}".users`);

/** The tenant's rows as the coordinator's superuser reads them (RLS does not apply), ordered by id. */
async function rowsOf(tenantId: string, model: IsolationModelName): Promise<UserRow[]> {
  return cluster.coordinator.unsafe<UserRow[]>(
    `SELECT id, first_name, last_name, confirmed FROM ${tableOf(tenantId, model)} WHERE tenant_id = $1 ORDER BY id`,
    [tenantId],
  );
}

function checksum(rows: readonly UserRow[]): string {
  return [...rows]
    .sort((x, y) => (x.id < y.id ? -1 : 1))
    .map((r) => `${r.id}|${r.first_name}|${r.last_name}|${r.confirmed}`)
    .join('\n');
}

/** The worker holding the tenant's users shard, and whether the shard is the tenant's alone, per Citus' metadata. */
async function shardOf(tenantId: string, model: IsolationModelName): Promise<{ port: number; isolated: boolean; shardId: string }> {
  const [row] =
    model === 'rls'
      ? await cluster.coordinator<{ port: number; isolated: boolean; shardId: string }[]>`
          SELECT n.nodeport AS port, s.shardminvalue = s.shardmaxvalue AS isolated, s.shardid::text AS "shardId"
          FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n ON n.groupid = p.groupid
          WHERE s.shardid = get_shard_id_for_distribution_column('public.users', ${tenantId}::uuid)`
      : await cluster.coordinator<{ port: number; isolated: boolean; shardId: string }[]>`
          SELECT nodeport AS port, true AS isolated, shardid::text AS "shardId" FROM citus_shards
          WHERE table_name = ${`${schemaOf(tenantId)}.users`}::regclass`;
  if (!row) throw new Error(`no shard for ${tenantId}`);
  return row;
}

interface Timed {
  readonly start: number;
  readonly ms: number;
}

interface Workload {
  /** Every write the gateway acknowledged: the row's last acknowledged state, or null once deleted. */
  readonly acked: Map<string, UserRow | null>;
  readonly writes: Timed[];
  readonly reads: Timed[];
  readonly readFailures: string[];
  readonly writeFailures: string[];
  /** 503 answers, each retried with the same Idempotency-Key (code: count). */
  readonly retried: Map<string, number>;
  /** The first create, with its Idempotency-Key: replayed after the moves. */
  first?: { key: string; body: { first_name: string; last_name: string }; id: string };
  stop(): Promise<void>;
}

/** Writers (create, patch, delete their own rows, each with an Idempotency-Key) and a reader. */
function startWorkload(tenantId: string): Workload {
  let stopping = false;
  const headers = { 'x-tenant-id': tenantId };
  const load: Workload = { acked: new Map(), writes: [], reads: [], readFailures: [], writeFailures: [], retried: new Map(), stop: async () => undefined };

  /** One write, retried with the same Idempotency-Key while the answer is a 503. */
  const write = async (method: string, path: string, key: string, json?: unknown): Promise<Response | undefined> => {
    const start = Date.now();
    for (let attempt = 0; attempt < 50; attempt++) {
      const res = await gw.request(path, { method, headers: { ...headers, 'idempotency-key': key }, ...(json === undefined ? {} : { json }) });
      if (res.status !== 503) {
        load.writes.push({ start, ms: Date.now() - start });
        return res;
      }
      const code = `${method} ${((await res.json()) as { error: { code: string } }).error.code}`;
      load.retried.set(code, (load.retried.get(code) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 50));
    }
    load.writeFailures.push(`${method} ${path}: still 503 after 50 attempts`);
    return undefined;
  };

  const writer = async (w: number): Promise<void> => {
    const mine: string[] = [];
    for (let i = 0; !stopping; i++) {
      const roll = i % 10;
      const key = randomUUID();
      if (roll < 6 || mine.length === 0) {
        const body = { first_name: `w${w}-${i}`, last_name: 'moving' };
        const res = await write('POST', '/v1/internal/users', key, body);
        if (!res) continue;
        if (res.status !== 201) {
          load.writeFailures.push(`POST ${res.status} ${await res.text()}`);
          continue;
        }
        const row = (await res.json()) as UserRow;
        load.acked.set(row.id, { id: row.id, first_name: row.first_name, last_name: row.last_name, confirmed: row.confirmed });
        load.first ??= { key, body, id: row.id };
        mine.push(row.id);
      } else if (roll < 9) {
        const id = mine[i % mine.length] as string;
        const res = await write('PATCH', `/v1/internal/users/${id}`, key, { confirmed: i % 3 === 0, last_name: `p${i}` });
        if (!res) continue;
        if (res.status !== 200) {
          load.writeFailures.push(`PATCH ${res.status} ${await res.text()}`);
          continue;
        }
        const row = (await res.json()) as UserRow;
        load.acked.set(id, { id, first_name: row.first_name, last_name: row.last_name, confirmed: row.confirmed });
      } else {
        // Never the first row: its creation is replayed at the end.
        const id = mine.length > 1 ? (mine.pop() as string) : undefined;
        if (id === undefined) continue;
        const res = await write('DELETE', `/v1/internal/users/${id}`, key);
        if (!res) continue;
        await res.arrayBuffer();
        if (res.status !== 204) {
          load.writeFailures.push(`DELETE ${res.status}`);
          continue;
        }
        load.acked.set(id, null);
      }
    }
  };

  const reader = async (): Promise<void> => {
    while (!stopping) {
      const start = Date.now();
      const res = await gw.request('/v1/internal/users?page_size=20', { headers });
      const text = await res.text();
      load.reads.push({ start, ms: Date.now() - start });
      if (res.status !== 200) load.readFailures.push(`${res.status} ${text}`);
    }
  };

  const running = [...Array.from({ length: WRITERS }, (_, w) => writer(w)), reader()];
  load.stop = async () => {
    stopping = true;
    await Promise.all(running);
  };
  return load;
}

/** The longest request among those started within [from, to]. */
function worst(timed: readonly Timed[], from: number, to: number): number {
  return Math.max(0, ...timed.filter((t) => t.start >= from && t.start <= to).map((t) => t.ms));
}

interface NodeMoveStatus {
  readonly kind: string;
  readonly state: 'running' | 'done' | 'failed';
  readonly from: string;
  readonly to: string;
  readonly step: string | null;
  readonly report: {
    readonly shard_id: number;
    readonly isolated_first: boolean;
    readonly isolateMs: number | null;
    readonly moveMs: number;
    readonly totalMs: number;
  } | null;
  readonly error: { readonly code: string; readonly message: string } | null;
}

async function moveAndWait(tenantId: string, body: unknown, until: 'done' | 'failed' = 'done'): Promise<NodeMoveStatus> {
  const res = await admin('POST', `/v1/admin/tenants/${tenantId}/move`, body);
  expect(res.status, await res.clone().text()).toBe(202);
  let status: NodeMoveStatus | undefined;
  await waitFor(
    async () => {
      status = (await (await admin('GET', `/v1/admin/tenants/${tenantId}/move`)).json()) as NodeMoveStatus;
      return status.state !== 'running';
    },
    180_000,
    `the move ${JSON.stringify(body)}`,
  );
  expect(status?.state, JSON.stringify(status)).toBe(until);
  return status as NodeMoveStatus;
}

async function errorOf(res: Response): Promise<[number, string]> {
  return [res.status, ((await res.json()) as { error: { code: string } }).error.code];
}

describe.skipIf(skip)('tenant operations on Citus', () => {
  beforeAll(async () => {
    cluster = await startCitusCluster();
    // One shard for all row-model tenants: the moving tenant shares it with the bystander, so isolating
    // it splits a shard under the bystander's writes (with Citus' default of 32, most share none).
    await cluster.coordinator`ALTER DATABASE postgres SET citus.shard_count = 1`;
    gw = await startTestGateway({ database: cluster.asDatabase(), pool: { tenantCacheTtlSeconds: 2 }, deadlineMs: 5000 });
    plain = await startDataServer(gw.keys);
    const res = await admin('POST', '/v1/admin/servers', { name: 'plain', url: plain.ownerUrl, max_connections: 20 });
    expect(res.status, await res.clone().text()).toBe(201);
  }, 180_000);

  afterAll(async () => {
    await gw?.gateway.citusTenants.settle();
    await gw?.close();
    await plain?.destroy();
    await cluster?.destroy();
  });

  describe.each(['rls', 'schema'] as const)('moving a %s tenant between workers under concurrent writers', (model) => {
    it(`moves it ${ROUNDS} times with nothing lost or duplicated, reads never failing, another tenant served throughout`, async () => {
      const t = await gw.createTenant(undefined, model, 'main');
      const bystander = await gw.createTenant(undefined, model, 'main');
      await cluster.coordinator.unsafe(
        `INSERT INTO ${tableOf(t.id, model)} (tenant_id, first_name, last_name, confirmed)
         SELECT $1, 'seed' || g, 'row', g % 2 = 0 FROM generate_series(1, $2::int) AS g`,
        [t.id, SEED_ROWS],
      );
      const seeded = await rowsOf(t.id, model);
      const before = await shardOf(t.id, model);
      if (model === 'rls') {
        expect(before.isolated).toBe(false);
        expect((await shardOf(bystander.id, model)).shardId).toBe(before.shardId);
      }
      const load = startWorkload(t.id);
      const bystanderLoad = startWorkload(bystander.id);
      const figures: string[] = [];
      const pauses: number[] = [];
      let where = before.port;
      try {
        // Let the writers get going first.
        await waitFor(() => load.writes.length > 20 && bystanderLoad.writes.length > 20, 30_000, 'the writers to start');
        for (let round = 0; round < ROUNDS; round++) {
          const to = cluster.workerPorts.find((p) => p !== where) as number;
          const from = Date.now();
          const status = await moveAndWait(t.id, { node: node(to) });
          const until = Date.now();
          expect(status).toMatchObject({ kind: 'node', from: node(where), to: node(to), step: 'move', error: null });
          // Only a row-model tenant's first move splits its shard.
          expect(status.report?.isolated_first).toBe(model === 'rls' && round === 0);
          expect(await shardOf(t.id, model)).toMatchObject({ port: to, isolated: true });
          const pause = worst(load.writes, from, until);
          pauses.push(pause);
          figures.push(
            `round ${round + 1} ${node(where)} → ${node(to)}: total ${until - from} ms (isolate ${status.report?.isolateMs ?? '-'} ms, move ${status.report?.moveMs} ms); ` +
              `worst write ${pause} ms, worst read ${worst(load.reads, from, until)} ms; bystander worst write ${worst(bystanderLoad.writes, from, until)} ms, read ${worst(bystanderLoad.reads, from, until)} ms; ` +
              `writes during the move ${load.writes.filter((w) => w.start >= from && w.start <= until).length}`,
          );
          where = to;
          await new Promise((r) => setTimeout(r, 300));
        }
      } finally {
        await load.stop();
        await bystanderLoad.stop();
      }
      expect(load.readFailures).toEqual([]);
      expect(load.writeFailures).toEqual([]);
      expect(bystanderLoad.readFailures).toEqual([]);
      expect(bystanderLoad.writeFailures).toEqual([]);

      // The cluster holds the seed plus exactly every acknowledged write, for both tenants.
      const expected = new Map(seeded.map((r) => [r.id, r as UserRow | null]));
      for (const [id, row] of load.acked) expected.set(id, row);
      const expectedRows = [...expected.values()].filter((r): r is UserRow => r !== null);
      const stored = await rowsOf(t.id, model);
      // On a mismatch, say which rows differ and what the workload last did with them.
      const storedIds = new Set(stored.map((r) => r.id));
      const extra = stored.filter((r) => !expected.get(r.id)).map((r) => ({ ...r, acked: load.acked.has(r.id) ? load.acked.get(r.id) : 'never' }));
      const missing = expectedRows.filter((r) => !storedIds.has(r.id));
      expect({ extra, missing }).toEqual({ extra: [], missing: [] });
      expect(stored.length).toBe(expectedRows.length);
      expect(checksum(stored)).toBe(checksum(expectedRows));
      const bystanderRows = [...bystanderLoad.acked.values()].filter((r): r is UserRow => r !== null);
      expect(checksum(await rowsOf(bystander.id, model))).toBe(checksum(bystanderRows));
      // Its idempotency keys moved with it: the first create, replayed, is answered from its record.
      const first = load.first as NonNullable<Workload['first']>;
      const replay = await gw.request('/v1/internal/users', {
        method: 'POST',
        headers: { 'x-tenant-id': t.id, 'idempotency-key': first.key },
        json: first.body,
      });
      expect(replay.status).toBe(201);
      expect(replay.headers.get('idempotency-replayed')).toBe('true');
      expect(((await replay.json()) as UserRow).id).toBe(first.id);
      // The bystander stayed where it was.
      if (model === 'rls') expect((await shardOf(bystander.id, model)).port).toBe(before.port);

      const sorted = load.writes.map((w) => w.ms).sort((x, y) => x - y);
      console.log(
        `citus move ${model}: ${ROUNDS} moves of ~${SEED_ROWS} rows; pause (worst write during a move) ${pauses.join(', ')} ms; ` +
          `writes ${sorted.length}, p99 ${sorted[Math.floor(sorted.length * 0.99)]} ms; 503s retried ${JSON.stringify([...load.retried])}, bystander ${JSON.stringify([...bystanderLoad.retried])}\n  ${figures.join('\n  ')}`,
      );
      // A blocking copy would hold writes for the whole move; logical replication only for its catch-up.
      expect(Math.max(...pauses)).toBeLessThan(5000);
    }, 600_000);
  });

  it('isolates a row-model tenant once (then answers that it is isolated), and a schema tenant is already', async () => {
    const t = await gw.createTenant(undefined, 'rls', 'main');
    const neighbour = await gw.createTenant(undefined, 'rls', 'main');
    const shared = await shardOf(t.id, 'rls');
    expect(shared.isolated).toBe(false);
    const res = await admin('POST', `/v1/admin/tenants/${t.id}/isolate`);
    expect(res.status, await res.clone().text()).toBe(200);
    const first = (await res.json()) as { shard_id: number; node: string; changed: boolean };
    const now = await shardOf(t.id, 'rls');
    expect(first).toMatchObject({
      id: t.id,
      server: 'main',
      model: 'rls',
      node: node(now.port),
      shard_id: Number(now.shardId),
      isolated: true,
      changed: true,
      schema: null,
    });
    expect(now.isolated).toBe(true);
    expect((await shardOf(neighbour.id, 'rls')).shardId).not.toBe(now.shardId);
    const again = await admin('POST', `/v1/admin/tenants/${t.id}/isolate`);
    expect(await again.json()).toMatchObject({ shard_id: first.shard_id, changed: false });
    // Its colocated idempotency_keys shard was split with it.
    const [keys] = await cluster.coordinator<{ isolated: boolean }[]>`
      SELECT shardminvalue = shardmaxvalue AS isolated FROM pg_dist_shard
      WHERE shardid = get_shard_id_for_distribution_column('public.idempotency_keys', ${t.id}::uuid)`;
    expect(keys?.isolated).toBe(true);
    // The tenant is served from its new shard, and sees only its own rows.
    const created = await gw.request('/v1/internal/users', {
      method: 'POST',
      headers: { 'x-tenant-id': t.id },
      json: { first_name: 'Iso', last_name: 'Lated' },
    });
    expect(created.status).toBe(201);
    const listed = (await (await gw.request('/v1/internal/users', { headers: { 'x-tenant-id': neighbour.id } })).json()) as { total: number };
    expect(listed.total).toBe(0);

    const s = await gw.createTenant(undefined, 'schema', 'main');
    const schemaRes = await admin('POST', `/v1/admin/tenants/${s.id}/isolate`);
    expect(schemaRes.status).toBe(200);
    const where = await shardOf(s.id, 'schema');
    expect(await schemaRes.json()).toMatchObject({
      model: 'schema',
      schema: schemaOf(s.id),
      node: node(where.port),
      shard_id: Number(where.shardId),
      changed: false,
    });
  }, 120_000);

  it('refuses what it cannot do: unknown node, same node, both targets, a tenant off Citus, a server move of a Citus tenant', async () => {
    const t = await gw.createTenant(undefined, 'rls', 'main');
    const at = (await shardOf(t.id, 'rls')).port;
    expect(await errorOf(await admin('POST', `/v1/admin/tenants/${t.id}/move`, { node: '127.0.0.1:1' }))).toEqual([422, 'unknown_node']);
    // The coordinator holds no shards here.
    expect(await errorOf(await admin('POST', `/v1/admin/tenants/${t.id}/move`, { node: node(cluster.coordinatorPort) }))).toEqual([422, 'unknown_node']);
    expect(await errorOf(await admin('POST', `/v1/admin/tenants/${t.id}/move`, { node: node(at) }))).toEqual([409, 'move_same_node']);
    expect(await errorOf(await admin('POST', `/v1/admin/tenants/${t.id}/move`, { node: 'w1' }))).toEqual([400, 'invalid_field']);
    expect(await errorOf(await admin('POST', `/v1/admin/tenants/${t.id}/move`, { node: node(at), server: 'plain' }))).toEqual([400, 'invalid_body']);
    expect(await errorOf(await admin('POST', `/v1/admin/tenants/${randomUUID()}/move`, { node: node(at) }))).toEqual([404, 'tenant_not_found']);
    expect(await errorOf(await admin('POST', `/v1/admin/tenants/${randomUUID()}/isolate`))).toEqual([404, 'tenant_not_found']);
    // Citus moves its tenants itself: the move between servers refuses a Citus source, and a Citus target.
    expect(await errorOf(await admin('POST', `/v1/admin/tenants/${t.id}/move`, { server: 'plain' }))).toEqual([409, 'move_citus_unsupported']);
    const off = await gw.createTenant(undefined, 'rls', 'plain');
    expect(await errorOf(await admin('POST', `/v1/admin/tenants/${off.id}/isolate`))).toEqual([409, 'not_on_citus']);
    expect(await errorOf(await admin('POST', `/v1/admin/tenants/${off.id}/move`, { node: node(at) }))).toEqual([409, 'not_on_citus']);
    const refused = await moveAndWait(off.id, { server: 'main' }, 'failed');
    expect(refused).toMatchObject({ kind: 'server', error: { code: 'move_citus_unsupported' } });
    const served = await gw.request('/v1/internal/users', {
      method: 'POST',
      headers: { 'x-tenant-id': off.id },
      json: { first_name: 'Still', last_name: 'Here' },
    });
    expect(served.status).toBe(201);
  }, 120_000);

  it('isolates and moves a tenant from the CLI', async () => {
    const t = await gw.createTenant(`cli-${randomUUID().slice(0, 8)}`, 'rls', 'main');
    const env = { ...process.env, DATABASE_URL: cluster.url, CREDENTIALS_KEY: gw.credentialsKey.toString('hex'), ADMIN_JWT_SECRET: gw.adminSecret };
    const isolated = await runCli(['tenant', 'isolate', t.id], env, 120_000);
    expect(isolated.code, isolated.stderr).toBe(0);
    expect(JSON.parse(isolated.stdout)).toMatchObject({ id: t.id, isolated: true, changed: true });
    const at = (await shardOf(t.id, 'rls')).port;
    const to = cluster.workerPorts.find((p) => p !== at) as number;
    const moved = await runCli(['tenant', 'move', t.id, '--node', node(to)], env, 120_000);
    expect(moved.code, moved.stderr).toBe(0);
    expect(JSON.parse(moved.stdout)).toMatchObject({ id: t.id, node: node(to), report: { isolated_first: false } });
    expect(moved.stderr).toContain(`move ${t.id}: move`);
    expect((await shardOf(t.id, 'rls')).port).toBe(to);
    const bad = await runCli(['tenant', 'move', t.id, '--node', 'nowhere'], env, 60_000);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('node must be');
  }, 240_000);
});
