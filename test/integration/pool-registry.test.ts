// Dedicated (own-role) pools against a real PostgreSQL: single-flight creation, failures not cached,
// LRU eviction, the idle sweeper, draining, and connections really closed (pg_stat_activity).
import { describe, expect, it } from 'vitest';
import { sealCredential } from '../../src/crypto/credentials.js';
import { waitFor } from '../support/database.js';
import { gatewayPerTest, type TestGateway } from '../support/gateway.js';

const gateway = gatewayPerTest();

async function backends(gw: TestGateway, role: string): Promise<number> {
  const [row] = await gw.db.admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = ${role}`;
  return (row?.n as number) ?? 0;
}

function listUsers(gw: TestGateway, tenantId: string): Promise<Response> {
  return gw.request('/v1/internal/users', { headers: { 'x-tenant-id': tenantId } });
}

/** Makes the tenant's dedicated pool exist (as promotion of a hot tenant would) and uses it once. */
function dedicated(gw: TestGateway, tenantId: string): Promise<unknown> {
  return gw.gateway.registry.run(tenantId, (sql) => sql`SELECT 1`);
}

describe('dedicated pool creation', () => {
  it('concurrent first uses of a cold tenant share one pool creation', async () => {
    const gw = await gateway({ pool: { maxPerTenant: 4 } });
    const t = await gw.createTenant();
    const before = gw.gateway.registry.stats().created;
    await Promise.all(Array.from({ length: 40 }, () => dedicated(gw, t.id)));
    expect(gw.gateway.registry.stats().created - before).toBe(1);
    expect(await backends(gw, t.db_user)).toBeGreaterThan(0);
    expect(await backends(gw, t.db_user)).toBeLessThanOrEqual(4);
  });

  it('a hot tenant is promoted once however many requests race, and is then served by its own pool', async () => {
    const gw = await gateway({ pool: { promoteRps: 5 } });
    const t = await gw.createTenant();
    const responses = await Promise.all(Array.from({ length: 60 }, () => listUsers(gw, t.id)));
    expect(responses.map((r) => r.status)).toEqual(Array(60).fill(200));
    await waitFor(() => gw.gateway.registry.stats().dedicatedOpen === 1, 5_000, 'the promotion');
    expect(gw.gateway.registry.stats().created).toBe(1);
    const served = gw.gateway.registry.stats().servedDedicated;
    expect((await listUsers(gw, t.id)).status).toBe(200);
    expect(gw.gateway.registry.stats().servedDedicated).toBe(served + 1);
    expect(await backends(gw, t.db_user)).toBeGreaterThan(0);
  });

  it('a pool promoted at a low rate is sized for it, and replaced by a bigger one when the rate grows', async () => {
    const gw = await gateway({ pool: { promoteRps: 3, maxPerTenant: 5, dedicatedConnectionRps: 20 } });
    const baseline = gw.gateway.budget.reserved();
    const t = await gw.createTenant();
    for (let i = 0; i < 5; i++) expect((await listUsers(gw, t.id)).status).toBe(200);
    await waitFor(() => gw.gateway.registry.stats().dedicatedOpen === 1, 5_000, 'the promotion');
    expect(gw.gateway.budget.reserved()).toBe(baseline + 1);
    // Now hundreds of requests a second: the one-connection pool is outgrown.
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        for (let i = 0; i < 30; i++) statuses.push((await listUsers(gw, t.id)).status);
      }),
    );
    expect(statuses.every((s) => s === 200)).toBe(true);
    await waitFor(() => gw.gateway.registry.stats().created >= 2, 5_000, 'the bigger pool');
    await waitFor(() => gw.gateway.budget.reserved() > baseline + 1, 5_000, 'the bigger reservation');
    expect(gw.gateway.registry.stats().dedicatedOpen).toBe(1);
    expect(gw.gateway.budget.reserved()).toBeLessThanOrEqual(baseline + 5);
  });

  it('many hot tenants never hold more than DEDICATED_MAX_CONNECTIONS dedicated backends; the rest stay shared and served', async () => {
    const gw = await gateway({ pool: { promoteRps: 2, maxPerTenant: 2, dedicatedMaxConnections: 3, dedicatedConnectionRps: 1 } });
    const tenants = await Promise.all(Array.from({ length: 6 }, () => gw.createTenant()));
    const baseline = gw.gateway.budget.reserved();
    const statuses: number[] = [];
    let peakDedicated = 0;
    for (let round = 0; round < 15; round++) {
      const answers = await Promise.all(tenants.flatMap((t) => [listUsers(gw, t.id), listUsers(gw, t.id)]));
      statuses.push(...answers.map((r) => r.status));
      peakDedicated = Math.max(peakDedicated, gw.gateway.budget.reserved() - baseline);
    }
    expect(statuses.every((s) => s === 200)).toBe(true);
    await waitFor(() => gw.gateway.registry.stats().created >= 1, 5_000, 'a promotion');
    expect(peakDedicated).toBeLessThanOrEqual(3);
    const roles = tenants.map((t) => t.db_user);
    const [row] = await gw.db.admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = ANY(${roles})`;
    expect(row?.n).toBeLessThanOrEqual(3);
    expect(gw.gateway.registry.stats().servedShared).toBeGreaterThan(0);
  });

  it('a failed creation is not cached, and the tenant keeps being served meanwhile', async () => {
    const gw = await gateway();
    const t = await gw.createTenant();
    const [{ sealed }] = (await gw.db.admin`
      SELECT db_password_encrypted AS sealed FROM tenants WHERE id = ${t.id}`) as unknown as [{ sealed: string }];
    await gw.db.admin`UPDATE tenants SET db_password_encrypted = ${sealCredential('not-the-password', gw.credentialsKey)}
      WHERE id = ${t.id}`;
    await expect(dedicated(gw, t.id)).rejects.toMatchObject({ status: 503, code: 'database_unavailable' });
    expect(gw.gateway.registry.stats()).toMatchObject({ dedicatedOpen: 0, creating: 0 });
    // The shared path does not need the tenant's password: requests still succeed.
    expect((await listUsers(gw, t.id)).status).toBe(200);

    await gw.db.admin`UPDATE tenants SET db_password_encrypted = ${sealed} WHERE id = ${t.id}`;
    await expect(dedicated(gw, t.id)).resolves.toBeDefined();
    expect(gw.gateway.registry.stats().dedicatedOpen).toBe(1);
  });

  it('an unknown tenant gets 404 and leaves no pool behind', async () => {
    const gw = await gateway();
    const res = await listUsers(gw, '00000000-0000-4000-8000-000000000000');
    expect(res.status).toBe(404);
    await expect(dedicated(gw, '00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ status: 404 });
    expect(gw.gateway.registry.stats()).toMatchObject({ dedicatedOpen: 0, creating: 0 });
  });
});

describe('dedicated pool eviction', () => {
  it('beyond MAX_POOLS the least recently used pool is closed and its connections end', async () => {
    const gw = await gateway({ pool: { maxPools: 2 } });
    const [x, y, z] = [await gw.createTenant(), await gw.createTenant(), await gw.createTenant()];
    await dedicated(gw, x.id);
    await dedicated(gw, y.id);
    await dedicated(gw, x.id); // y is now the least recently used
    await dedicated(gw, z.id);
    expect(gw.gateway.registry.stats().dedicatedOpen).toBe(2);
    await waitFor(async () => (await backends(gw, y.db_user)) === 0, 10_000, 'y connections to close');
    expect(await backends(gw, x.db_user)).toBeGreaterThan(0);
    expect(await backends(gw, z.db_user)).toBeGreaterThan(0);
    await dedicated(gw, y.id); // and y simply comes back
    await waitFor(() => gw.gateway.budget.reserved() <= gw.gateway.budget.total, 1_000, 'budget');
  });

  it('the sweeper closes pools idle past POOL_IDLE_TIMEOUT, their connections end and the budget is returned', async () => {
    const gw = await gateway({ pool: { idleTimeoutSeconds: 1 } });
    const baseline = gw.gateway.budget.reserved();
    const t = await gw.createTenant();
    await dedicated(gw, t.id);
    expect(gw.gateway.budget.reserved()).toBe(baseline + 5);
    expect(await backends(gw, t.db_user)).toBeGreaterThan(0);
    await waitFor(() => gw.gateway.registry.stats().dedicatedOpen === 0, 10_000, 'the idle pool to be swept');
    await waitFor(async () => (await backends(gw, t.db_user)) === 0, 10_000, 'connections to close');
    await waitFor(() => gw.gateway.budget.reserved() === baseline, 5_000, 'the reservation to be returned');
  });

  it('evicting a pool lets the queries in flight on it finish', async () => {
    const gw = await gateway();
    const t = await gw.createTenant();
    await dedicated(gw, t.id);
    const slow = gw.gateway.registry.run(t.id, (sql) => sql`SELECT pg_sleep(0.5), 42 AS answer`);
    await waitFor(
      async () => {
        const [row] = await gw.db.admin`SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE usename = ${t.db_user} AND query LIKE '%pg_sleep%' AND state = 'active'`;
        return row?.n === 1;
      },
      5_000,
      'the slow query to start',
    );
    await gw.gateway.registry.evict(t.id);
    await expect(slow).resolves.toMatchObject([{ answer: 42 }]);
    await waitFor(async () => (await backends(gw, t.db_user)) === 0, 10_000, 'connections to close');
  });

  it('closing the registry closes every tenant connection, shared ones included', async () => {
    const gw = await gateway();
    const tenants = [await gw.createTenant(), await gw.createTenant(), await gw.createTenant()];
    for (const t of tenants) await dedicated(gw, t.id);
    expect((await listUsers(gw, tenants[0]?.id ?? '')).status).toBe(200);
    await gw.gateway.registry.close();
    for (const t of tenants) expect(await backends(gw, t.db_user)).toBe(0);
    const [row] = await gw.db.admin`SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = 'tenantgate-shared'`;
    expect(row?.n).toBe(0);
  });
});
