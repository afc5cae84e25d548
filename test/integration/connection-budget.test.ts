// The global connection budget and the admission queues, against a real PostgreSQL: the gateway never
// holds more server connections than MAX_CONNECTIONS_TOTAL, idle pools give their connections back to
// hotter tenants, waiting is bounded (503 + Retry-After), and one tenant cannot starve the others.
import type { Sql } from 'postgres';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/database.js';
import { gatewayPerTest, type TestGateway } from '../support/gateway.js';

const gateway = gatewayPerTest();

function listUsers(gw: TestGateway, tenantId: string): Promise<Response> {
  return gw.request('/v1/internal/users', { headers: { 'x-tenant-id': tenantId } });
}

/** Server connections this gateway holds: catalog, shared and dedicated pools all name themselves. */
async function gatewayConnections(gw: TestGateway): Promise<number> {
  const [row] = await gw.db.admin`SELECT count(*)::int AS n FROM pg_stat_activity
    WHERE datname = current_database() AND application_name LIKE 'tenantgate%'`;
  return (row?.n as number) ?? 0;
}

/** Holds an exclusive lock on users until released: every tenant query blocks, holding its connection. */
async function lockUsers(admin: Sql): Promise<() => Promise<void>> {
  const reserved = await admin.reserve();
  await reserved`BEGIN`;
  await reserved`LOCK TABLE users IN ACCESS EXCLUSIVE MODE`;
  return async () => {
    await reserved`COMMIT`;
    reserved.release();
  };
}

describe('the global connection budget', () => {
  it('is never exceeded while many tenants are promoted concurrently', async () => {
    // 3 catalog + 4 shared + 3 dedicated pools of 4 = 19 ≤ 20: room for three pools, thirty want one.
    const gw = await gateway({ pool: { maxConnectionsTotal: 20, sharedPoolMax: 4, maxPerTenant: 4, promoteRps: 2 } });
    const tenants = await Promise.all(Array.from({ length: 30 }, () => gw.createTenant()));
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await gatewayConnections(gw));
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const statuses: number[] = [];
    for (let wave = 0; wave < 8; wave++) {
      const responses = await Promise.all(tenants.flatMap((t) => [listUsers(gw, t.id), listUsers(gw, t.id)]));
      statuses.push(...responses.map((r) => r.status));
    }
    // Let background promotions and evictions settle while still sampling.
    await waitFor(() => gw.gateway.registry.stats().creating === 0, 10_000, 'promotions to settle');
    sampling = false;
    await sampler;
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(gw.gateway.registry.stats().created).toBeGreaterThanOrEqual(3);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(20);
    expect(gw.gateway.budget.reserved()).toBeLessThanOrEqual(20);
  });

  it('takes the connections of the least recently used idle pool for a hotter tenant', async () => {
    // Room for exactly two dedicated pools: 3 + 4 + 2×5 = 17.
    const gw = await gateway({ pool: { maxConnectionsTotal: 17, sharedPoolMax: 4, maxPerTenant: 5, promoteRps: 3 } });
    const [a, b, c] = [await gw.createTenant(), await gw.createTenant(), await gw.createTenant()];
    await gw.gateway.registry.run(a.id, (sql) => sql`SELECT 1`);
    await gw.gateway.registry.run(b.id, (sql) => sql`SELECT 1`);
    await gw.gateway.registry.run(b.id, (sql) => sql`SELECT 1`); // a is now the least recently used
    expect(gw.gateway.registry.stats().dedicatedOpen).toBe(2);
    for (let i = 0; i < 10; i++) expect((await listUsers(gw, c.id)).status).toBe(200);
    await waitFor(() => gw.gateway.registry.stats().created === 3, 5_000, 'c to be promoted');
    await waitFor(
      async () => {
        const [row] = await gw.db.admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = ${a.db_user}`;
        return row?.n === 0;
      },
      5_000,
      "a's connections to close",
    );
    const [bRow] = await gw.db.admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = ${b.db_user}`;
    expect(bRow?.n).toBeGreaterThan(0);
    // c was promoted at ~10 req/s, so its pool is sized for that: one connection.
    expect(gw.gateway.budget.reserved()).toBe(3 + 4 + 5 + 1);
  });

  it('keeps a hot tenant on the shared pool, served, when no pool is idle to give way', async () => {
    const gw = await gateway({ pool: { maxConnectionsTotal: 12, sharedPoolMax: 4, maxPerTenant: 5, promoteRps: 2 } });
    const [a, c] = [await gw.createTenant(), await gw.createTenant()];
    // a's dedicated pool is busy (blocked on the lock), so it cannot give its connections away.
    const lock = await lockUsers(gw.db.admin);
    const busy = gw.gateway.registry.run(a.id, (sql) => sql`SELECT count(*) FROM public.users`);
    await waitFor(() => gw.gateway.registry.stats().dedicatedInUse === 1, 5_000, "a's query to start");
    const cRequests = Array.from({ length: 5 }, () => listUsers(gw, c.id));
    await waitFor(() => gw.gateway.registry.stats().sharedInUse > 0, 5_000, "c's requests to start");
    await waitFor(() => gw.gateway.registry.stats().creating === 0, 5_000, "c's promotion attempt to end");
    await lock();
    await busy;
    expect((await Promise.all(cRequests)).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    // a kept its pool (it was busy); c was served by the shared pool instead.
    expect(gw.gateway.registry.stats()).toMatchObject({ dedicatedOpen: 1, created: 1 });
    const [aRow] = await gw.db.admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = ${a.db_user}`;
    expect(aRow?.n).toBeGreaterThan(0);
    expect(gw.gateway.budget.reserved()).toBeLessThanOrEqual(12);
  });
});

describe('waiting for a connection', () => {
  it('ends in 503 with Retry-After after QUEUE_TIMEOUT, and the blocked request still completes', async () => {
    const gw = await gateway({
      pool: { maxConnectionsTotal: 9, sharedPoolMax: 1, promoteRps: 1_000_000, pipelineDepth: 1 },
      queue: { timeoutMs: 300 },
    });
    const [t, u] = [await gw.createTenant(), await gw.createTenant()];
    const release = await lockUsers(gw.db.admin);
    const blocked = listUsers(gw, t.id);
    await waitFor(() => gw.gateway.registry.stats().sharedInUse === 1, 5_000, 'the first request to hold the connection');
    const started = Date.now();
    const timedOut = await listUsers(gw, u.id);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(timedOut.status).toBe(503);
    expect(timedOut.headers.get('retry-after')).toBe('1');
    expect(await timedOut.json()).toMatchObject({ error: { code: 'queue_timeout' } });
    expect(gw.gateway.registry.stats().waiting).toBe(0);
    await release();
    expect((await blocked).status).toBe(200);
  });

  it('gives one tenant at most its share of the queue; other tenants still get a place', async () => {
    const gw = await gateway({
      pool: { maxConnectionsTotal: 9, sharedPoolMax: 1, promoteRps: 1_000_000, pipelineDepth: 1 },
      queue: { timeoutMs: 5_000, maxWaiting: 6, maxWaitingPerTenant: 2 },
    });
    const [flood, other] = [await gw.createTenant(), await gw.createTenant()];
    const release = await lockUsers(gw.db.admin);
    const first = listUsers(gw, flood.id);
    await waitFor(() => gw.gateway.registry.stats().sharedInUse === 1, 5_000, 'the connection to be held');
    const queued = [listUsers(gw, flood.id), listUsers(gw, flood.id)];
    await waitFor(() => gw.gateway.registry.stats().waiting === 2, 5_000, 'two waiting');
    const refused = await listUsers(gw, flood.id);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ error: { code: 'tenant_queue_full' } });
    const otherRequest = listUsers(gw, other.id);
    await waitFor(() => gw.gateway.registry.stats().waiting === 3, 5_000, 'the other tenant to wait');
    await release();
    expect((await Promise.all([first, ...queued, otherRequest])).map((r) => r.status)).toEqual([200, 200, 200, 200]);
  });

  it('serves waiting tenants round-robin: a flood does not push others to the back of the line', async () => {
    const gw = await gateway({
      pool: { maxConnectionsTotal: 9, sharedPoolMax: 1, promoteRps: 1_000_000, pipelineDepth: 1 },
      queue: { timeoutMs: 10_000, maxWaiting: 100, maxWaitingPerTenant: 50 },
    });
    const [flood, other] = [await gw.createTenant(), await gw.createTenant()];
    const release = await lockUsers(gw.db.admin);
    const order: string[] = [];
    const track = (name: string, p: Promise<Response>): Promise<number> =>
      p.then((r) => {
        order.push(name);
        return r.status;
      });
    const all = [track('flood', listUsers(gw, flood.id))];
    await waitFor(() => gw.gateway.registry.stats().sharedInUse === 1, 5_000, 'the connection to be held');
    for (let i = 0; i < 20; i++) all.push(track('flood', listUsers(gw, flood.id)));
    await waitFor(() => gw.gateway.registry.stats().waiting === 20, 5_000, 'the flood to queue');
    all.push(track('other', listUsers(gw, other.id)));
    await waitFor(() => gw.gateway.registry.stats().waiting === 21, 5_000, 'the other tenant to queue');
    await release();
    expect((await Promise.all(all)).every((s) => s === 200)).toBe(true);
    // Behind the request holding the connection, the other tenant is next or nearly so, not 21st.
    expect(order.indexOf('other')).toBeLessThanOrEqual(3);
  });
});

describe('fairness under a flood', () => {
  it('one tenant at full blast does not stop the others from being served', async () => {
    const gw = await gateway({
      pool: { maxConnectionsTotal: 12, sharedPoolMax: 4, maxPerTenant: 2, promoteRps: 1_000_000, pipelineDepth: 1 },
      queue: { timeoutMs: 2_000, maxWaiting: 200, maxWaitingPerTenant: 50 },
    });
    const flooder = await gw.createTenant();
    const others = await Promise.all(Array.from({ length: 5 }, () => gw.createTenant()));
    let flooding = true;
    const floodStatuses: number[] = [];
    const flood = Promise.all(
      Array.from({ length: 100 }, async () => {
        for (let i = 0; flooding && i < 200; i++) floodStatuses.push((await listUsers(gw, flooder.id)).status);
      }),
    );
    await waitFor(() => floodStatuses.length > 100, 10_000, 'the flood to be under way');
    const otherStatuses: number[] = [];
    await Promise.all(
      others.map(async (t) => {
        for (let i = 0; i < 10; i++) otherStatuses.push((await listUsers(gw, t.id)).status);
      }),
    );
    flooding = false;
    await flood;
    expect(otherStatuses).toEqual(Array(50).fill(200));
    // The flooder is held to its share: some of its requests may be refused, none fails otherwise.
    expect(floodStatuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(gw.gateway.budget.reserved()).toBeLessThanOrEqual(12);
  });
});
