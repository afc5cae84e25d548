// Proves tenant suspension over HTTP and the CLI against a real gateway and PostgreSQL: a suspended
// tenant's requests get 403 tenant_suspended and store nothing, its dedicated pool's connections end,
// other tenants carry on, and resuming serves it again. A change made by the CLI reaches the running
// gateway through LISTEN/NOTIFY within a second, without waiting for the tenant cache to expire.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/database.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { expectError } from '../support/http.js';
import { runCli, type RunResult } from '../support/processes.js';

const USERS = '/v1/internal/users';
const TENANTS = '/v1/admin/tenants';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => {
  await gw?.close();
});

function listUsers(tenantId: string): Promise<Response> {
  return gw.request(USERS, { headers: { 'x-tenant-id': tenantId } });
}

function postUser(tenantId: string, firstName = 'Grace'): Promise<Response> {
  return gw.request(USERS, { method: 'POST', headers: { 'x-tenant-id': tenantId }, json: { first_name: firstName, last_name: 'Hopper' } });
}

function admin(path: string, token: string | null = gw.adminToken): Promise<Response> {
  return gw.request(path, { method: 'POST', headers: token === null ? {} : { authorization: `Bearer ${token}` } });
}

async function status(id: string): Promise<string | undefined> {
  const [row] = await gw.db.admin<{ status: string }[]>`SELECT status FROM tenants WHERE id = ${id}`;
  return row?.status;
}

async function userCount(tenantId: string): Promise<number> {
  const [row] = await gw.adminOf(tenantId)<{ n: number }[]>`SELECT count(*)::int AS n FROM ${gw.usersOf(tenantId)} WHERE tenant_id = ${tenantId}`;
  return row?.n ?? -1;
}

async function sessions(dbUser: string): Promise<number> {
  const [row] = await gw.db.admin<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = ${dbUser}`;
  return row?.n ?? -1;
}

/** Opens the tenant's dedicated pool (own-role login), as a hot tenant's would be. */
async function openDedicatedPool(tenant: { id: string; db_user: string }): Promise<void> {
  await gw.gateway.registry.run(tenant.id, (sql) => sql`SELECT 1`);
  expect(await sessions(tenant.db_user)).toBeGreaterThan(0);
}

async function expectServed(tenantId: string): Promise<void> {
  const res = await listUsers(tenantId);
  expect(res.status, await res.text()).toBe(200);
}

describe('POST /v1/admin/tenants/{id}/suspend and /resume', () => {
  it('suspend answers {id, status: "suspended"} and records it in the catalog', async () => {
    const { id } = await gw.createTenant();
    const res = await admin(`${TENANTS}/${id}/suspend`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id, status: 'suspended' });
    expect(await status(id)).toBe('suspended');
  });

  it("a suspended tenant's GET and POST get 403 tenant_suspended and nothing is stored", async () => {
    const { id } = await gw.createTenant();
    expect((await postUser(id)).status).toBe(201);
    await expectServed(id); // cached as active before the suspension
    expect((await admin(`${TENANTS}/${id}/suspend`)).status).toBe(200);

    await expectError(await listUsers(id), 403, 'tenant_suspended', id);
    await expectError(await postUser(id, 'Suspended'), 403, 'tenant_suspended');
    expect(await userCount(id)).toBe(1);
  });

  it("suspending closes the tenant's dedicated pool, and the registry refuses it with 403", async () => {
    const tenant = await gw.createTenant();
    await openDedicatedPool(tenant);
    expect((await admin(`${TENANTS}/${tenant.id}/suspend`)).status).toBe(200);
    await waitFor(async () => (await sessions(tenant.db_user)) === 0, 5000, "the suspended tenant's connections to end");
    await expect(gw.gateway.registry.run(tenant.id, (sql) => sql`SELECT 1`)).rejects.toMatchObject({ status: 403, code: 'tenant_suspended' });
    expect(await sessions(tenant.db_user)).toBe(0);
  });

  it('other tenants are unaffected by a suspension', async () => {
    const suspended = await gw.createTenant();
    const other = await gw.createTenant();
    await openDedicatedPool(other);
    expect((await admin(`${TENANTS}/${suspended.id}/suspend`)).status).toBe(200);
    await expectServed(other.id);
    expect((await postUser(other.id)).status).toBe(201);
    expect(await gw.gateway.registry.run(other.id, (sql) => sql`SELECT 1 AS one`)).toEqual([{ one: 1 }]);
    expect(await sessions(other.db_user)).toBeGreaterThan(0);
  });

  it('resume answers {id, status: "active"} and the tenant is served again', async () => {
    const tenant = await gw.createTenant();
    expect((await admin(`${TENANTS}/${tenant.id}/suspend`)).status).toBe(200);
    await expectError(await listUsers(tenant.id), 403, 'tenant_suspended');

    const res = await admin(`${TENANTS}/${tenant.id}/resume`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: tenant.id, status: 'active' });
    expect(await status(tenant.id)).toBe('active');
    await expectServed(tenant.id);
    expect((await postUser(tenant.id)).status).toBe(201);
    expect(await userCount(tenant.id)).toBe(1);
    await gw.gateway.registry.run(tenant.id, (sql) => sql`SELECT 1`);
    expect(await sessions(tenant.db_user)).toBeGreaterThan(0);
  });

  it('suspending twice and resuming an active tenant are harmless', async () => {
    const { id } = await gw.createTenant();
    expect((await admin(`${TENANTS}/${id}/resume`)).status).toBe(200);
    await expectServed(id);
    expect((await admin(`${TENANTS}/${id}/suspend`)).status).toBe(200);
    const again = await admin(`${TENANTS}/${id}/suspend`);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ id, status: 'suspended' });
    await expectError(await listUsers(id), 403, 'tenant_suspended');
  });

  it.each(['suspend', 'resume'])('%s of an unknown tenant gets 404, of a non-UUID 400', async (action) => {
    await expectError(await admin(`${TENANTS}/${randomUUID()}/${action}`), 404, 'tenant_not_found');
    await expectError(await admin(`${TENANTS}/not-a-uuid/${action}`), 400, 'invalid_tenant_id');
  });

  it.each(['suspend', 'resume'])('%s needs an admin token (401 without one, nothing changes)', async (action) => {
    const { id } = await gw.createTenant();
    if (action === 'resume') expect((await admin(`${TENANTS}/${id}/suspend`)).status).toBe(200);
    const before = await status(id);
    await expectError(await admin(`${TENANTS}/${id}/${action}`, null), 401, 'unauthorized');
    await expectError(await admin(`${TENANTS}/${id}/${action}`, 'not.a.token'), 401, 'unauthorized');
    expect(await status(id)).toBe(before);
  });
});

describe('CLI tenant suspend / resume', () => {
  const cli = (args: string[]): Promise<RunResult> =>
    runCli(args, { ...process.env, DATABASE_URL: gw.db.url, CREDENTIALS_KEY: gw.credentialsKey.toString('hex'), ADMIN_JWT_SECRET: gw.adminSecret });

  /** Polls the gateway's answer for the tenant until it has `expected` status, with a 1 s deadline. */
  async function gatewayAnswers(tenantId: string, expected: number): Promise<void> {
    await waitFor(
      async () => {
        const res = await listUsers(tenantId);
        await res.arrayBuffer();
        return res.status === expected;
      },
      1000,
      `the running gateway to answer ${expected}`,
    );
  }

  it('suspend and resume change the catalog, and the running gateway follows within a second', async () => {
    const tenant = await gw.createTenant();
    await expectServed(tenant.id); // cached as active: only the change feed can tell the gateway
    await openDedicatedPool(tenant);

    const suspended = await cli(['tenant', 'suspend', tenant.id]);
    expect(suspended.code, suspended.stderr).toBe(0);
    expect(JSON.parse(suspended.stdout)).toEqual({ id: tenant.id, status: 'suspended' });
    expect(await status(tenant.id)).toBe('suspended');
    await gatewayAnswers(tenant.id, 403);
    await expectError(await listUsers(tenant.id), 403, 'tenant_suspended');
    await waitFor(async () => (await sessions(tenant.db_user)) === 0, 5000, "the suspended tenant's connections to end");

    const resumed = await cli(['tenant', 'resume', tenant.id]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toEqual({ id: tenant.id, status: 'active' });
    expect(await status(tenant.id)).toBe('active');
    await gatewayAnswers(tenant.id, 200);
    expect((await postUser(tenant.id)).status).toBe(201);
  });

  it('an unknown tenant (id or name) exits 1 with tenant_not_found; a missing one exits 2', async () => {
    const results = await Promise.all([
      cli(['tenant', 'suspend', randomUUID()]),
      cli(['tenant', 'resume', randomUUID()]),
      cli(['tenant', 'suspend', 'no-such-tenant-name']),
      cli(['tenant', 'resume']),
    ]);
    for (const unknown of results.slice(0, 3)) {
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('tenant_not_found');
      expect(unknown.stdout).toBe('');
    }
    for (const malformed of results.slice(3)) {
      expect(malformed.code).toBe(2);
      expect(malformed.stderr).toContain('usage: npm run cli -- <command>');
      expect(malformed.stdout).toBe('');
    }
  });
});
