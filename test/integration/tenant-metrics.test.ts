// Per-tenant series in GET /metrics: the busiest METRICS_TENANT_SERIES tenants by id, everyone else as
// tenant="other"; real requests produce them, made-up tenant ids never do, and however many tenants
// there are, no family has more than N + 1 tenants. The clock per-tenant series change hands on is the
// test's own.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

/** Samples of the per-tenant families: name, labels (tenant and the rest) and value. */
interface Sample {
  /** The family (a histogram's _bucket, _sum and _count lines share it). */
  readonly name: string;
  /** The sample's own name. */
  readonly metric: string;
  readonly tenant: string;
  /** The other labels, as written (le excluded), for grouping. */
  readonly rest: string;
  readonly value: number;
}

function tenantSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^(tenantgate_tenant_\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels = [...(m[2] as string).matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k as string, v as string] as const);
    const tenant = labels.find(([k]) => k === 'tenant')?.[1];
    if (tenant === undefined) continue;
    const rest = labels
      .filter(([k]) => k !== 'tenant' && k !== 'le')
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    out.push({ name: (m[1] as string).replace(/_(bucket|sum|count)$/, ''), metric: m[1] as string, tenant, rest, value: Number(m[3]) });
  }
  return out;
}

/** The value of one per-tenant counter (a histogram's _count) for one tenant. */
function valueOf(samples: Sample[], name: string, tenant: string, rest = ''): number | undefined {
  return samples.find((s) => (s.metric === name || s.metric === `${name}_count`) && s.tenant === tenant && s.rest === rest)?.value;
}

/** Most tenants any one series group (family and other labels) has. */
function widestGroup(samples: Sample[]): { group: string; tenants: number } {
  const groups = new Map<string, Set<string>>();
  for (const s of samples) {
    const key = `${s.name}{${s.rest}}`;
    let set = groups.get(key);
    if (set === undefined) groups.set(key, (set = new Set()));
    set.add(s.tenant);
  }
  let widest = { group: '', tenants: 0 };
  for (const [group, set] of groups) if (set.size > widest.tenants) widest = { group, tenants: set.size };
  return widest;
}

describe('per-tenant series from real requests', () => {
  let gw: TestGateway;
  let clock = 1_000_000;

  beforeAll(async () => {
    // No promotion: every statement takes the shared path, whatever the pace of the requests.
    gw = await startTestGateway({ pool: { promoteRps: 1_000_000 }, metrics: { tenantSeries: 2, now: () => clock } });
  });

  afterAll(async () => {
    await gw?.close();
  });

  const scrape = async (): Promise<Sample[]> => {
    const res = await gw.request('/metrics');
    expect(res.status).toBe(200);
    return tenantSamples(await res.text());
  };
  const get = (tenantId: string): Promise<Response> => gw.request('/v1/internal/users', { headers: { 'x-tenant-id': tenantId } });
  const admin = { authorization: `Bearer ${'' as string}` };

  it('gives the first tenants their own series (first scraped at zero), counts the rest as other, never a made-up id', async () => {
    admin.authorization = `Bearer ${gw.adminToken}`;
    // Unknown ids first, while every slot is free: they must not take one.
    const madeUp = [randomUUID(), randomUUID()];
    for (const id of madeUp) expect((await get(id)).status).toBe(404);
    const [a, b, c] = [await gw.createTenant(), await gw.createTenant(), await gw.createTenant()];
    // b: one request a second, so most of a quick burst is refused.
    expect((await gw.request(`/v1/admin/tenants/${b.id}`, { method: 'PATCH', headers: admin, json: { rate_limit_rps: 1, rate_limit_burst: 1 } })).status).toBe(
      200,
    );
    // a and b take the two slots; their series are first scraped at zero, their requests so far in other.
    expect((await get(a.id)).status).toBe(200);
    expect((await get(b.id)).status).toBe(200);
    const first = await scrape();
    expect(new Set(first.map((s) => s.tenant))).toEqual(new Set([a.id, b.id, 'other']));
    for (const id of madeUp) expect(first.some((s) => s.tenant === id)).toBe(false);
    expect(valueOf(first, 'tenantgate_tenant_requests_total', a.id)).toBe(0);
    expect(valueOf(first, 'tenantgate_tenant_request_duration_seconds', a.id)).toBe(0);
    expect(valueOf(first, 'tenantgate_tenant_requests_total', 'other')).toBe(2);

    for (let i = 0; i < 5; i++) expect((await get(a.id)).status).toBe(200);
    const statuses = await Promise.all(Array.from({ length: 6 }, () => get(b.id).then((r) => r.status)));
    const refused = statuses.filter((s) => s === 429).length;
    expect(refused).toBeGreaterThanOrEqual(3);
    // c: suspended, and both slots are taken, so it is counted under other.
    expect((await gw.request(`/v1/admin/tenants/${c.id}/suspend`, { method: 'POST', headers: admin })).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await get(c.id)).status).toBe(403);

    const samples = await scrape();
    expect(new Set(samples.map((s) => s.tenant))).toEqual(new Set([a.id, b.id, 'other']));
    expect(valueOf(samples, 'tenantgate_tenant_requests_total', a.id)).toBe(5);
    expect(valueOf(samples, 'tenantgate_tenant_request_duration_seconds', a.id)).toBe(5);
    expect(valueOf(samples, 'tenantgate_tenant_statements_total', a.id, 'path=shared')).toBe(5);
    expect(valueOf(samples, 'tenantgate_tenant_statements_total', a.id, 'path=dedicated')).toBe(0);
    expect(valueOf(samples, 'tenantgate_tenant_requests_total', b.id)).toBe(6);
    expect(valueOf(samples, 'tenantgate_tenant_rate_limited_total', b.id)).toBe(refused);
    expect(valueOf(samples, 'tenantgate_tenant_suspended_total', 'other')).toBe(3);
    expect(valueOf(samples, 'tenantgate_tenant_requests_total', 'other')).toBe(2 + 3);
    expect(valueOf(samples, 'tenantgate_tenant_suspended_total', a.id)).toBe(0);

    // c comes back busier than both: after the next scrape it takes the weaker slot (a's). That scrape
    // still shows a, with its final count; the one after shows c at zero and no a, and other keeps
    // growing (c's requests so far stay there).
    expect((await gw.request(`/v1/admin/tenants/${c.id}/resume`, { method: 'POST', headers: admin })).status).toBe(200);
    for (let i = 0; i < 20; i++) expect((await get(c.id)).status).toBe(200);
    clock += 60_000;
    const last = await scrape();
    expect(new Set(last.map((s) => s.tenant))).toEqual(new Set([a.id, b.id, 'other']));
    expect(valueOf(last, 'tenantgate_tenant_requests_total', 'other')).toBe(25);
    const ranked = await scrape();
    expect(new Set(ranked.map((s) => s.tenant))).toEqual(new Set([b.id, c.id, 'other']));
    expect(valueOf(ranked, 'tenantgate_tenant_requests_total', c.id)).toBe(0);
    expect(valueOf(ranked, 'tenantgate_tenant_requests_total', 'other')).toBe(25);
    await get(c.id);
    await get(a.id);
    const after = await scrape();
    expect(valueOf(after, 'tenantgate_tenant_requests_total', c.id)).toBe(1);
    expect(valueOf(after, 'tenantgate_tenant_statements_total', c.id, 'path=shared')).toBe(1);
    expect(valueOf(after, 'tenantgate_tenant_request_duration_seconds', c.id)).toBe(1);
    expect(valueOf(after, 'tenantgate_tenant_requests_total', 'other')).toBe(26);
  });
});

describe('bounded series', () => {
  const N = 5;
  let gw: TestGateway;
  let clock = 1_000_000;

  beforeAll(async () => {
    gw = await startTestGateway({ metrics: { tenantSeries: N, now: () => clock } });
  });

  afterAll(async () => {
    await gw?.close();
  });

  it(`10,000 tenants create at most N + 1 = ${N + 1} tenants in every per-tenant series group`, async () => {
    // Real requests of a real tenant first, then 10,000 tenants' traffic handed to the metrics as the
    // request envelope hands it (creating 10,000 tenants would take minutes), over three rankings
    // with the busiest tenants changing.
    const real = await gw.createTenant();
    for (let i = 0; i < 3; i++) expect((await gw.request('/v1/internal/users', { headers: { 'x-tenant-id': real.id } })).status).toBe(200);
    const ids: string[] = Array.from({ length: 10_000 }, () => randomUUID());
    const seen = new Set<string>();
    const before = (await (await gw.request('/metrics')).text()).length;
    for (let round = 0; round < 3; round++) {
      ids.forEach((id, i) => {
        const busy = (i + round * 1000) % 2000 === 0 ? 50 : 1;
        for (let k = 0; k < busy; k++)
          gw.gateway.metrics.observeRequest('GET', '/v1/internal/users', i % 10 === 0 ? 429 : 200, 0.002, id, i % 10 === 0 ? 'rate_limited' : undefined);
        gw.gateway.metrics.observeStatement(id, 'shared');
      });
      clock += 60_000;
      const res = await gw.request('/metrics');
      const text = await res.text();
      const samples = tenantSamples(text);
      const widest = widestGroup(samples);
      expect(widest.tenants, widest.group).toBeLessThanOrEqual(N + 1);
      const tenants = new Set(samples.map((s) => s.tenant));
      expect(tenants.size).toBeLessThanOrEqual(N + 1);
      expect(tenants.has('other')).toBe(true);
      for (const t of tenants) seen.add(t);
      // The page grows by the N + 1 tenants' series, not with the tenants.
      expect(text.length - before).toBeLessThan(40_000);
    }
    // The busy tenants of each round did take slots: the set moved, within the bound.
    expect(seen.size).toBeGreaterThan(N + 1);
    expect([...seen].filter((t) => t !== 'other' && t !== real.id).every((t) => ids.includes(t))).toBe(true);
  });
});

describe('METRICS_TENANT_SERIES=0', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({ metrics: { tenantSeries: 0 } });
  });

  afterAll(async () => {
    await gw?.close();
  });

  it('counts every tenant as other and shows no tenant id', async () => {
    const t = await gw.createTenant();
    for (let i = 0; i < 4; i++) expect((await gw.request('/v1/internal/users', { headers: { 'x-tenant-id': t.id } })).status).toBe(200);
    const text = await (await gw.request('/metrics')).text();
    expect(text.includes(t.id)).toBe(false);
    const samples = tenantSamples(text);
    expect(new Set(samples.map((s) => s.tenant))).toEqual(new Set(['other']));
    expect(valueOf(samples, 'tenantgate_tenant_requests_total', 'other')).toBe(4);
    expect(text).toContain('tenantgate_tenant_series_limit 0');
  });
});
