// A statement that misses the gateway's deadline is cancelled, not left running: the caller gets 503
// database_timeout, the statement leaves PostgreSQL at once (pg_stat_activity) although what it waits on
// is still held, its write does not commit, and a retry with the same Idempotency-Key writes exactly
// once. Both isolation models, both paths. The deadline is set below QUERY_TIMEOUT here, so that it is
// the gateway, not PostgreSQL's statement_timeout, that ends the statement.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/database.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { expectError } from '../support/http.js';

const USERS = '/v1/internal/users';
const DEADLINE_MS = 700;
let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({ deadlineMs: DEADLINE_MS, pool: { promoteRps: 1_000_000, queryTimeoutMs: 60_000 } });
});
afterAll(async () => {
  await gw?.close();
});

const post = (tenantId: string, json: unknown, key: string): Promise<Response> =>
  gw.request(USERS, { method: 'POST', headers: { 'x-tenant-id': tenantId, 'idempotency-key': key }, json });

async function count(tenantId: string, first: string): Promise<number> {
  const [row] = await gw.adminOf(tenantId)`SELECT count(*)::int AS n FROM ${gw.usersOf(tenantId)} WHERE tenant_id = ${tenantId} AND first_name = ${first}`;
  return row?.n as number;
}

/** Gateway statements on this database waiting for a lock. */
async function waitingOnLock(): Promise<number> {
  const [row] = await gw.db.admin`
    SELECT count(*)::int AS n FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'
      AND query LIKE '%INSERT INTO users%'`;
  return row?.n as number;
}

describe.each([
  ['rls', 'shared'],
  ['rls', 'dedicated'],
  ['schema', 'shared'],
  ['schema', 'dedicated'],
] as const)('%s tenant on the %s pool', (model, path) => {
  it('a POST past its deadline is 503, its statement is cancelled and nothing commits; the retry with the key writes once', async () => {
    const tenant = (await gw.createTenant(undefined, model)).id;
    if (path === 'dedicated') await gw.gateway.registry.run(tenant, (sql) => sql`SELECT 1`);
    const first = `Late${model}${path}`;
    const json = { first_name: first, last_name: 'Deadline' };
    const key = randomUUID();

    // A lock that blocks every insert into the tenant's users table, held until the end.
    const lock = await gw.adminOf(tenant).reserve();
    try {
      await lock`BEGIN`;
      await lock.unsafe(`LOCK TABLE ${gw.usersTableName(tenant)} IN SHARE ROW EXCLUSIVE MODE`);
      const started = Date.now();
      const res = await post(tenant, json, key);
      expect(res.headers.get('retry-after')).toBe('1');
      await expectError(res, 503, 'database_timeout');
      expect(Date.now() - started).toBeLessThan(DEADLINE_MS + 2_000);
      // Cancelled while the lock is still held: without the cancel it would wait for a minute.
      await waitFor(async () => (await waitingOnLock()) === 0, 3_000, 'the late statement to be cancelled');
    } finally {
      await lock`COMMIT`;
      lock.release();
    }
    expect(await count(tenant, first)).toBe(0);

    const retry = await post(tenant, json, key);
    expect(retry.status, await retry.clone().text()).toBe(201);
    expect(retry.headers.get('idempotency-replayed')).toBeNull();
    const again = await post(tenant, json, key);
    expect(again.headers.get('idempotency-replayed')).toBe('true');
    expect(await again.text()).toBe(await retry.text());
    expect(await count(tenant, first)).toBe(1);
  });
});
