// What a tenant sends never becomes SQL text that PostgreSQL shows to monitoring roles: on both paths a
// search term reaches the server as a bind parameter, so pg_stat_activity (and pg_stat_statements)
// show `$n`, not the term, while the statement runs.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from '../support/database.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let shared: { id: string };
let dedicated: { id: string };

beforeAll(async () => {
  gw = await startTestGateway({ pool: { promoteRps: 1_000_000 } });
  shared = await gw.createTenant();
  dedicated = await gw.createTenant();
  await gw.gateway.registry.run(dedicated.id, (sql) => sql`SELECT 1`);
});

afterAll(async () => {
  await gw?.close();
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
    await waitFor(async () => {
      const rows = await gw.db.admin`
        SELECT query FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FROM users%'`;
      return rows.length > 0;
    }, 5_000, 'the statement to wait on the lock');
    const visible = await gw.db.admin`SELECT query FROM pg_stat_activity WHERE query LIKE ${'%' + term + '%'} AND pid <> pg_backend_pid()`;
    expect(visible).toEqual([]);
  } finally {
    await locker`ROLLBACK`;
    locker.release();
  }
  const res = await answer;
  expect(res?.status).toBe(200);
});
