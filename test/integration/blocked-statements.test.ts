// Statements blocked behind a lock, on both paths: one PostgreSQL cancels at QUERY_TIMEOUT
// (statement_timeout, SQLSTATE 57014) is answered as a timeout, `503 database_timeout` with
// Retry-After, the same code as the gateway's own deadline, not as a database outage; and while one
// waits, pg_stat_activity shows `$n` in its text, never the tenant's search term (bind parameters).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from '../support/database.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let shared: { id: string };
let dedicated: { id: string };

beforeAll(async () => {
  gw = await startTestGateway({ pool: { queryTimeoutMs: 300, promoteRps: 1_000_000 } });
  shared = await gw.createTenant();
  dedicated = await gw.createTenant();
  await gw.gateway.registry.run(dedicated.id, (sql) => sql`SELECT 1`);
});

afterAll(async () => {
  await gw?.close();
});

it.each(['shared', 'dedicated'] as const)('on the %s path, a statement stuck behind a lock gets 503 database_timeout', async (path) => {
  const tenant = path === 'shared' ? shared : dedicated;
  const locker = await gw.db.admin.reserve();
  try {
    await locker`BEGIN`;
    await locker`LOCK TABLE users IN ACCESS EXCLUSIVE MODE`;
    const started = Date.now();
    const res = await gw.request('/v1/internal/users', { headers: { 'x-tenant-id': tenant.id } });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(await res.json()).toMatchObject({ error: { code: 'database_timeout' } });
    // PostgreSQL's statement_timeout answered, well before the gateway's own deadline (CONNECT_TIMEOUT + QUERY_TIMEOUT).
    expect(Date.now() - started).toBeLessThan(3_000);
  } finally {
    await locker`ROLLBACK`;
    locker.release();
  }
  expect((await gw.request('/v1/internal/users', { headers: { 'x-tenant-id': tenant.id } })).status).toBe(200);
});

it.each(['shared', 'dedicated'] as const)('on the %s path, a search term is not in pg_stat_activity while its statement runs', async (path) => {
  const tenant = path === 'shared' ? shared : dedicated;
  const term = `secret-term-${path}-${Date.now()}`;
  const locker = await gw.db.admin.reserve();
  let answer: Promise<Response> | undefined;
  try {
    await locker`BEGIN`;
    await locker`LOCK TABLE users IN ACCESS EXCLUSIVE MODE`;
    answer = gw.request(`/v1/internal/users?search=${term}`, { headers: { 'x-tenant-id': tenant.id } });
    // The list statement is now waiting for the lock, visible in pg_stat_activity.
    await waitFor(
      async () => {
        const rows = await gw.db.admin`
        SELECT query FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FROM public.users%'`;
        return rows.length > 0;
      },
      5_000,
      'the statement to wait on the lock',
    );
    const visible = await gw.db.admin`SELECT query FROM pg_stat_activity WHERE query LIKE ${'%' + term + '%'} AND pid <> pg_backend_pid()`;
    expect(visible).toEqual([]);
  } finally {
    await locker`ROLLBACK`;
    locker.release();
  }
  const res = await answer;
  expect(res?.status).toBe(200);
});
