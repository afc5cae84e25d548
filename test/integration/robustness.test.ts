// Settings and failures a real deployment brings: a server whose DateStyle is not ISO, a hot tenant
// whose dedicated pool cannot log in, and eviction that waits for statements in flight.
import { expect, it } from 'vitest';
import { waitFor } from '../support/database.js';
import { gatewayPerTest } from '../support/gateway.js';

const gateway = gatewayPerTest();

const RFC3339_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

it('answers RFC 3339 timestamps even when the database defaults to another DateStyle', async () => {
  const gw = await gateway({ pool: { promoteRps: 1_000_000 } });
  const [{ db }] = (await gw.db.admin`SELECT current_database() AS db`) as unknown as [{ db: string }];
  await gw.db.admin.unsafe(`ALTER DATABASE "${db}" SET datestyle = 'SQL, DMY'`);
  const t = await gw.createTenant();
  const created = await gw.request('/v1/internal/users', { method: 'POST', headers: { 'x-tenant-id': t.id }, json: { first_name: 'A', last_name: 'B' } });
  expect(created.status).toBe(201);
  expect(((await created.json()) as { created_at: string }).created_at).toMatch(RFC3339_MICROS);
  await gw.gateway.registry.run(t.id, (sql) => sql`SELECT 1`);
  const listed = await gw.request('/v1/internal/users', { headers: { 'x-tenant-id': t.id } });
  expect(listed.status).toBe(200);
  const page = (await listed.json()) as { records: { updated_at: string }[] };
  expect(page.records[0]?.updated_at).toMatch(RFC3339_MICROS);
});

it('a hot tenant whose dedicated login fails tries again only after a pause, and is served meanwhile', async () => {
  const lines: string[] = [];
  const gw = await gateway({ pool: { promoteRps: 2 }, logDestination: { write: (l: string) => void lines.push(l) }, logLevel: 'warn' });
  const t = await gw.createTenant();
  // The role's password no longer matches the sealed one: every login of a dedicated pool fails.
  await gw.db.admin.unsafe(`ALTER ROLE "${t.db_user}" PASSWORD 'not-the-sealed-one-at-all'`);
  const statuses: number[] = [];
  for (let i = 0; i < 150; i++) statuses.push((await gw.request('/v1/internal/users', { headers: { 'x-tenant-id': t.id } })).status);
  expect(statuses.every((s) => s === 200)).toBe(true);
  await waitFor(() => gw.gateway.registry.stats().creating === 0, 5_000, 'the promotion attempt to end');
  const failures = lines.filter((l) => l.includes('dedicated pool could not be created'));
  expect(failures).toHaveLength(1);
  expect(gw.gateway.registry.stats().dedicatedOpen).toBe(0);
});

it('evicting a pool returns only once its statements in flight have finished', async () => {
  const gw = await gateway();
  const t = await gw.createTenant();
  await gw.gateway.registry.run(t.id, (sql) => sql`SELECT 1`);
  let finished = false;
  const slow = gw.gateway.registry
    .run(t.id, (sql) => sql`SELECT pg_sleep(0.4)`)
    .then(() => {
      finished = true;
    });
  await waitFor(() => gw.gateway.registry.stats().dedicatedInUse === 1, 5_000, 'the slow statement to start');
  await gw.gateway.registry.evict(t.id);
  expect(finished).toBe(true);
  await slow;
});

it(
  'a dedicated pool whose connection stops answering is dropped at the first missed deadline; the tenant is served on the shared pool',
  { timeout: 30_000 },
  async () => {
    const gw = await gateway({ pool: { promoteRps: 1_000_000, maxPerTenant: 1, connectTimeoutSeconds: 1, queryTimeoutMs: 1000 } });
    const t = await gw.createTenant();
    await gw.gateway.registry.run(t.id, (sql) => sql`SELECT 1`);
    const [backend] = await gw.db.admin<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE usename = ${t.db_user}`;
    expect(backend).toBeDefined();
    const pid = backend?.pid as number;
    // A backend that neither answers nor fails (a hung server process, a half-open network path):
    // statement_timeout cannot fire in a stopped process, so only the gateway's deadline ends the wait.
    process.kill(pid, 'SIGSTOP');
    try {
      const stuck = await gw.request('/v1/internal/users', { headers: { 'x-tenant-id': t.id } });
      expect(stuck.status).toBe(503);
      expect(((await stuck.json()) as { error: { code: string } }).error.code).toBe('database_timeout');
      expect(gw.gateway.registry.stats().dedicatedOpen).toBe(0);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await gw.request('/v1/internal/users', { headers: { 'x-tenant-id': t.id } })).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200]);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  },
);
