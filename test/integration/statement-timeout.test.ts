// A statement PostgreSQL cancels at QUERY_TIMEOUT (statement_timeout, SQLSTATE 57014) is answered as a
// timeout, `503 database_timeout` with Retry-After, the same code as the gateway's own deadline, and
// not as a database outage. On both paths.
import { afterAll, beforeAll, expect, it } from 'vitest';
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
