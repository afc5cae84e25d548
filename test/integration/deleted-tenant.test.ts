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
    const [row] = await tx<{ data_name: string | null }[]>`DELETE FROM tenants WHERE id = ${tenantId} RETURNING data_name`;
    // A schema tenant's data goes with it (as the catalog's remove does); its role stays, like a row
    // tenant's rows here, so that only the catalog can tell.
    if (row?.data_name) await tx`DROP SCHEMA ${tx(row.data_name)} CASCADE`;
  });
}

/** The tenant's stored users after the deletion: the row model keeps the one row; a schema is gone. */
async function usersLeft(tenantId: string): Promise<number | 'schema gone'> {
  const [{ t } = { t: null }] = await gw.db.admin<{ t: string | null }[]>`SELECT to_regclass(${gw.usersTableName(tenantId)})::text AS t`;
  if (t === null) return 'schema gone';
  const [row] = await gw.adminOf(tenantId)<{ n: number }[]>`SELECT count(*)::int AS n FROM ${gw.usersOf(tenantId)} WHERE tenant_id = ${tenantId}`;
  return row?.n ?? -1;
}
const expectedLeft = (t: { model: string }): number | 'schema gone' => (t.model === 'schema' ? 'schema gone' : 1);

describe('a write for a tenant deleted since it was cached', () => {
  it('on the shared path is answered 404 tenant_not_found and writes nothing', async () => {
    const t = await gw.createTenant();
    expect((await postUser(t.id)).status).toBe(201);
    await deleteSilently(t.id);
    await expectError(await postUser(t.id), 404, 'tenant_not_found');
    expect(await usersLeft(t.id)).toBe(expectedLeft(t));
  });

  it('on a dedicated pool is answered 404 tenant_not_found and writes nothing', async () => {
    const t = await gw.createTenant();
    await gw.gateway.registry.run(t.id, async (sql) => sql`SELECT 1`);
    expect(gw.gateway.registry.stats().dedicatedOpen).toBe(1);
    expect((await postUser(t.id)).status).toBe(201);
    await deleteSilently(t.id);
    await expectError(await postUser(t.id), 404, 'tenant_not_found');
    expect(await usersLeft(t.id)).toBe(expectedLeft(t));
  });
});
