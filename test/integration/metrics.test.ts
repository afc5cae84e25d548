// GET /metrics: Prometheus text that moves with traffic (requests, paths, pools, queue) and never
// carries a secret; a tenant id only as the label of its own per-tenant series (tenant-metrics.test.ts).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCredential } from '../../src/crypto/credentials.js';
import postgres from 'postgres';
import { superuserUrl, waitFor } from '../support/database.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({ pool: { promoteRps: 5, maxConnectionsTotal: 30, pipelineDepth: 1 }, queue: { timeoutMs: 200 } });
});

afterAll(async () => {
  await gw?.close();
});

async function scrape(): Promise<string> {
  const res = await gw.request('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** The value of one sample, e.g. value(text, 'tenantgate_pools_open{kind="dedicated"}'). */
function value(text: string, sample: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}

describe('GET /metrics', () => {
  it('exposes every documented metric', async () => {
    const text = await scrape();
    for (const name of [
      'tenantgate_http_requests_total',
      'tenantgate_http_request_duration_seconds',
      'tenantgate_pools_open',
      'tenantgate_connections_in_use',
      'tenantgate_connections_reserved',
      'tenantgate_connections_budget',
      'tenantgate_queue_length',
      'tenantgate_queue_wait_seconds',
      'tenantgate_pool_creations_total',
      'tenantgate_pool_evictions_total',
      'tenantgate_requests_by_path_total',
      'tenantgate_tenants_known',
      'tenantgate_process_resident_memory_bytes',
      'tenantgate_http_errors_total',
      'tenantgate_tenant_requests_total',
      'tenantgate_tenant_request_duration_seconds',
      'tenantgate_tenant_server_errors_total',
      'tenantgate_tenant_rate_limited_total',
      'tenantgate_tenant_suspended_total',
      'tenantgate_tenant_queue_rejections_total',
      'tenantgate_tenant_statements_total',
      'tenantgate_tenant_series_limit',
      'tenantgate_tenant_series_changes_total',
      'tenantgate_change_feed_up',
    ]) {
      expect(text, name).toContain(`# TYPE ${name} `);
    }
    expect(value(text, 'tenantgate_connections_budget')).toBe(30);
    expect(value(text, 'tenantgate_connections_reserved')).toBe(3 + 4);
  });

  it("is what README's metrics table lists, name and type, no more and no less", async () => {
    const exported = [...(await scrape()).matchAll(/^# TYPE (tenantgate_\w+) (\w+)$/gm)]
      .map(([, name, type]) => `${name} ${type}`)
      .filter((m) => !/^tenantgate_(process|nodejs)_/.test(m));
    const readme =
      readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
        .split('## Monitoring')[1]
        ?.split('\n## ')[0] ?? '';
    const documented = [...readme.matchAll(/^\| `(tenantgate_\w+)` \| (\w+) \|/gm)].map(([, name, type]) => `${name} ${type}`);
    expect(documented.sort()).toEqual(exported.sort());
    expect(readme).toContain('`tenantgate_process_*`, `tenantgate_nodejs_*`');
  });

  it('moves with traffic: requests by route and status, the path that served them, pools and creations', async () => {
    const t = await gw.createTenant();
    const before = await scrape();
    const route = 'tenantgate_http_requests_total{method="GET",route="/v1/internal/users",status="200"}';
    for (let i = 0; i < 12; i++) {
      expect((await gw.request('/v1/internal/users', { headers: { 'x-tenant-id': t.id } })).status).toBe(200);
    }
    await gw.request('/v1/internal/users', { headers: { 'x-tenant-id': 'nope' } });
    await gw.request('/no/such/route/12345');
    await waitFor(() => gw.gateway.registry.stats().dedicatedOpen === 1, 5_000, 'promotion');
    for (let i = 0; i < 3; i++) await gw.request('/v1/internal/users', { headers: { 'x-tenant-id': t.id } });
    const after = await scrape();
    expect(value(after, route) - value(before, route)).toBe(15);
    expect(value(after, 'tenantgate_http_requests_total{method="GET",route="/v1/internal/users",status="400"}')).toBeGreaterThanOrEqual(1);
    expect(after).toContain('route="unmatched"');
    expect(after).not.toContain('12345');
    expect(value(after, 'tenantgate_requests_by_path_total{path="shared"}')).toBeGreaterThan(value(before, 'tenantgate_requests_by_path_total{path="shared"}'));
    expect(value(after, 'tenantgate_requests_by_path_total{path="dedicated"}')).toBeGreaterThanOrEqual(3);
    expect(value(after, 'tenantgate_pools_open{kind="dedicated"}')).toBe(1);
    expect(value(after, 'tenantgate_pool_creations_total')).toBe(1);
    // A pool promoted at a few requests a second is sized for that rate: one connection.
    expect(value(after, 'tenantgate_connections_reserved')).toBe(3 + 4 + 1);
    expect(value(after, 'tenantgate_tenants_known')).toBeGreaterThanOrEqual(1);
    expect(value(after, 'tenantgate_http_request_duration_seconds_count{method="GET",route="/v1/internal/users"}')).toBeGreaterThanOrEqual(15);
  });

  it('records queue waits, timeouts included', async () => {
    const t = await gw.createTenant();
    const [a, b, c, d, e] = await Promise.all(Array.from({ length: 5 }, () => gw.createTenant()));
    const reserved = await gw.db.admin.reserve();
    await reserved`BEGIN`;
    await reserved`LOCK TABLE users IN ACCESS EXCLUSIVE MODE`;
    // Fill the 4 shared connections, then one more request must wait and time out.
    const blocked = [a, b, c, d].map((x) => gw.request('/v1/internal/users', { headers: { 'x-tenant-id': x?.id ?? '' } }));
    await waitFor(() => gw.gateway.registry.stats().sharedInUse === 4, 5_000, 'the shared pool to fill');
    const timedOut = await gw.request('/v1/internal/users', { headers: { 'x-tenant-id': e?.id ?? t.id } });
    expect(timedOut.status).toBe(503);
    await reserved`COMMIT`;
    reserved.release();
    await Promise.all(blocked);
    const text = await scrape();
    expect(value(text, 'tenantgate_queue_wait_seconds_count{outcome="timeout"}')).toBeGreaterThanOrEqual(1);
    expect(value(text, 'tenantgate_http_requests_total{method="GET",route="/v1/internal/users",status="503"}')).toBeGreaterThanOrEqual(1);
  });

  it('never contains a secret: no password, key, token or database credential', async () => {
    const t = await gw.createTenant();
    await gw.request('/v1/internal/users', { headers: { 'x-tenant-id': t.id } });
    const text = await scrape();
    const [row] = await gw.db.admin`SELECT db_password_encrypted AS sealed FROM tenants WHERE id = ${t.id}`;
    const password = openCredential(row?.sealed as string, gw.credentialsKey);
    for (const secret of [password, row?.sealed as string, gw.credentialsKey.toString('hex'), gw.adminSecret, gw.adminToken, new URL(gw.db.url).password]) {
      expect(text.includes(secret)).toBe(false);
    }
    for (const line of text.split('\n').filter((l) => l.includes(t.id))) {
      expect(line).toMatch(new RegExp(`^tenantgate_tenant_\\w+\\{(le="[^"]+",)?tenant="${t.id}"[,}]`));
    }
  });
});

describe('tenantgate_change_feed_up', () => {
  it('is 1 while the change feed is connected, 0 while the catalog refuses connections', async () => {
    expect(value(await scrape(), 'tenantgate_change_feed_up')).toBe(1);
    const server = postgres(superuserUrl(), { max: 1, onnotice: () => {} });
    const db = new URL(gw.db.url).pathname.slice(1);
    try {
      await server`ALTER DATABASE ${server(db)} WITH ALLOW_CONNECTIONS false`;
      try {
        await gw.db.admin`
          SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'tenantgate-listener'`;
        await waitFor(() => !gw.gateway.listener.listening(), 5_000, 'the listener to notice');
        expect(value(await scrape(), 'tenantgate_change_feed_up')).toBe(0);
      } finally {
        await server`ALTER DATABASE ${server(db)} WITH ALLOW_CONNECTIONS true`;
      }
      await waitFor(() => gw.gateway.listener.listening(), 15_000, 'the listener to reconnect');
      expect(value(await scrape(), 'tenantgate_change_feed_up')).toBe(1);
    } finally {
      await server.end({ timeout: 5 });
    }
  });
});
