// The pool registry against a real PostgreSQL: single-flight creation, failures not cached, LRU
// eviction, the idle sweeper, draining, and connections really closed (pg_stat_activity).
import { afterEach, describe, expect, it } from 'vitest';
import { sealCredential } from '../../src/crypto/credentials.js';
import { waitFor } from '../support/database.js';
import { startTestGateway, type TestGateway, type TestGatewayOptions } from '../support/gateway.js';

const open: TestGateway[] = [];

async function gateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const gw = await startTestGateway(options);
  open.push(gw);
  return gw;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((gw) => gw.close()));
});

async function backends(gw: TestGateway, role: string): Promise<number> {
  const [row] = await gw.db.admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = ${role}`;
  return (row?.n as number) ?? 0;
}

function listUsers(gw: TestGateway, tenantId: string): Promise<Response> {
  return gw.request('/v1/internal/users', { headers: { 'x-tenant-id': tenantId } });
}

describe('pool creation', () => {
  it('concurrent first requests for a cold tenant share one pool creation', async () => {
    const gw = await gateway({ pool: { maxPerTenant: 4 } });
    const t = await gw.createTenant();
    const before = gw.gateway.registry.stats().created;
    const responses = await Promise.all(Array.from({ length: 40 }, () => listUsers(gw, t.id)));
    expect(responses.map((r) => r.status)).toEqual(Array(40).fill(200));
    expect(gw.gateway.registry.stats().created - before).toBe(1);
    expect(await backends(gw, t.db_user)).toBeLessThanOrEqual(4);
  });

  it('a failed creation is not cached: the next request tries again and succeeds', async () => {
    const gw = await gateway();
    const t = await gw.createTenant();
    const [{ sealed }] = (await gw.db.admin`
      SELECT db_password_encrypted AS sealed FROM tenants WHERE id = ${t.id}`) as unknown as [{ sealed: string }];
    await gw.db.admin`UPDATE tenants SET db_password_encrypted = ${sealCredential('not-the-password', gw.credentialsKey)}
      WHERE id = ${t.id}`;
    const failed = await listUsers(gw, t.id);
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('1');
    expect(await failed.json()).toMatchObject({ error: { code: 'database_unavailable' } });
    expect(gw.gateway.registry.stats().open).toBe(0);

    await gw.db.admin`UPDATE tenants SET db_password_encrypted = ${sealed} WHERE id = ${t.id}`;
    expect((await listUsers(gw, t.id)).status).toBe(200);
  });

  it('an unknown tenant gets 404 and leaves no pool behind', async () => {
    const gw = await gateway();
    const res = await listUsers(gw, '00000000-0000-4000-8000-000000000000');
    expect(res.status).toBe(404);
    expect(gw.gateway.registry.stats()).toMatchObject({ open: 0, creating: 0 });
  });
});

describe('pool eviction', () => {
  it('beyond MAX_POOLS the least recently used pool is closed and its connections end', async () => {
    const gw = await gateway({ pool: { maxPools: 2 } });
    const [x, y, z] = [await gw.createTenant(), await gw.createTenant(), await gw.createTenant()];
    expect((await listUsers(gw, x.id)).status).toBe(200);
    expect((await listUsers(gw, y.id)).status).toBe(200);
    expect((await listUsers(gw, x.id)).status).toBe(200); // y is now the least recently used
    expect((await listUsers(gw, z.id)).status).toBe(200);
    expect(gw.gateway.registry.stats().open).toBe(2);
    await waitFor(async () => (await backends(gw, y.db_user)) === 0, 10_000, 'y connections to close');
    expect(await backends(gw, x.db_user)).toBeGreaterThan(0);
    expect(await backends(gw, z.db_user)).toBeGreaterThan(0);
    expect((await listUsers(gw, y.id)).status).toBe(200); // and y simply comes back
  });

  it('the sweeper closes pools idle past POOL_IDLE_TIMEOUT and their connections end', async () => {
    const gw = await gateway({ pool: { idleTimeoutSeconds: 1 } });
    const t = await gw.createTenant();
    expect((await listUsers(gw, t.id)).status).toBe(200);
    expect(await backends(gw, t.db_user)).toBeGreaterThan(0);
    await waitFor(() => gw.gateway.registry.stats().open === 0, 10_000, 'the idle pool to be swept');
    await waitFor(async () => (await backends(gw, t.db_user)) === 0, 10_000, 'connections to close');
  });

  it('evicting a pool lets the queries in flight on it finish', async () => {
    const gw = await gateway();
    const t = await gw.createTenant();
    expect((await listUsers(gw, t.id)).status).toBe(200);
    const slow = gw.gateway.registry.run(t.id, (sql) => sql`SELECT pg_sleep(0.5), 42 AS answer`);
    await waitFor(async () => {
      const [row] = await gw.db.admin`SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE usename = ${t.db_user} AND query LIKE '%pg_sleep%' AND state = 'active'`;
      return row?.n === 1;
    }, 5_000, 'the slow query to start');
    await gw.gateway.registry.evict(t.id);
    await expect(slow).resolves.toMatchObject([{ answer: 42 }]);
    await waitFor(async () => (await backends(gw, t.db_user)) === 0, 10_000, 'connections to close');
  });

  it('closing the registry closes every tenant connection', async () => {
    const gw = await gateway();
    const tenants = [await gw.createTenant(), await gw.createTenant(), await gw.createTenant()];
    for (const t of tenants) expect((await listUsers(gw, t.id)).status).toBe(200);
    await gw.gateway.registry.close();
    for (const t of tenants) expect(await backends(gw, t.db_user)).toBe(0);
  });
});
