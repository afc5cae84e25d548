// A tenant deleted behind the gateway's back (its change event not delivered yet): a write for it
// fails on the users -> tenants foreign key, and only then does the gateway answer 404, after the
// catalog has confirmed the tenant is gone. On either path: never a 500, never a 404 from the database
// error alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { expectError } from '../support/http.js';

const USERS = '/v1/internal/users';
let gw: TestGateway;

beforeAll(async () => {
  // Promotion off: the one dedicated pool is opened on purpose.
  gw = await startTestGateway({ pool: { promoteRps: 1_000_000 } });
});
afterAll(async () => {
  await gw?.close();
});

function postUser(tenantId: string): Promise<Response> {
  return gw.request(USERS, { method: 'POST', headers: { 'x-tenant-id': tenantId }, json: { first_name: 'Ada', last_name: 'Lovelace' } });
}

/** Deletes the catalog row without its trigger (no event, no NOTIFY), so the gateway keeps it cached. */
async function deleteSilently(tenantId: string): Promise<void> {
  await gw.db.admin.begin(async (tx) => {
    await tx`SET LOCAL session_replication_role = replica`;
    await tx`DELETE FROM tenants WHERE id = ${tenantId}`;
  });
}

describe('a write for a tenant deleted since it was cached', () => {
  it('on the shared path is answered 404 tenant_not_found and writes nothing', async () => {
    const t = await gw.createTenant();
    expect((await postUser(t.id)).status).toBe(201);
    await deleteSilently(t.id);
    await expectError(await postUser(t.id), 404, 'tenant_not_found');
    const [row] = await gw.db.admin<{ n: number }[]>`SELECT count(*)::int AS n FROM users WHERE tenant_id = ${t.id}`;
    expect(row?.n).toBe(1);
  });

  it('on a dedicated pool is answered 404 tenant_not_found and writes nothing', async () => {
    const t = await gw.createTenant();
    await gw.gateway.registry.run(t.id, async (sql) => sql`SELECT 1`);
    expect(gw.gateway.registry.stats().dedicatedOpen).toBe(1);
    expect((await postUser(t.id)).status).toBe(201);
    await deleteSilently(t.id);
    await expectError(await postUser(t.id), 404, 'tenant_not_found');
    const [row] = await gw.db.admin<{ n: number }[]>`SELECT count(*)::int AS n FROM users WHERE tenant_id = ${t.id}`;
    expect(row?.n).toBe(1);
  });
});
