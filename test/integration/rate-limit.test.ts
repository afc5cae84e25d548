// Proves per-tenant rate limits over HTTP against a real gateway and PostgreSQL: the gateway-wide token
// bucket (429 rate_limited + Retry-After, per tenant, refilling over time), per-tenant overrides set
// through PATCH /v1/admin/tenants/{id} and the CLI (raise, clear, 0 = unlimited), their validation,
// and that the default (RATE_LIMIT_RPS=0) never limits.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/database.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { expectError } from '../support/http.js';
import { runCli, type RunResult } from '../support/processes.js';

interface TenantRecord {
  id: string;
  rate_limit_rps: number | null;
  rate_limit_burst: number | null;
}

const USERS = '/v1/internal/users';
const TENANTS = '/v1/admin/tenants';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ rateLimit: { rps: 2, burst: 3 } });
  // Open a shared-pool connection up front so the first limited requests are not slowed by a login.
  const warm = await gw.createTenant();
  await gw.request(USERS, { headers: { 'x-tenant-id': warm.id } });
});
afterAll(async () => {
  await gw?.close();
});

function users(tenantId: string, via: TestGateway = gw): Promise<Response> {
  return via.request(USERS, { headers: { 'x-tenant-id': tenantId } });
}

/** Sends `count` requests one after another, as fast as they complete; returns their statuses. */
async function burst(tenantId: string, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const res = await users(tenantId);
    await res.arrayBuffer();
    statuses.push(res.status);
  }
  return statuses;
}

function patch(id: string, json: unknown, token: string | null = gw.adminToken): Promise<Response> {
  return gw.request(`${TENANTS}/${id}`, { method: 'PATCH', headers: token === null ? {} : { authorization: `Bearer ${token}` }, json });
}

async function record(id: string): Promise<TenantRecord | undefined> {
  const res = await gw.request(`${TENANTS}?page_size=1000`, { headers: { authorization: `Bearer ${gw.adminToken}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { records: TenantRecord[] }).records.find((r) => r.id === id);
}

async function catalogLimits(id: string): Promise<{ rps: number | null; burst: number | null }> {
  const [row] = await gw.db.admin<{ rps: number | null; burst: number | null }[]>`
    SELECT rate_limit_rps AS rps, rate_limit_burst AS burst FROM tenants WHERE id = ${id}`;
  if (!row) throw new Error(`tenant ${id} is not in the catalog`);
  return row;
}

describe('the gateway-wide limit (rps 2, burst 3)', () => {
  it('the 4th immediate request of a tenant gets 429 rate_limited with Retry-After, while another tenant is unaffected', async () => {
    const limited = (await gw.createTenant()).id;
    const other = (await gw.createTenant()).id;
    expect(await burst(limited, 3)).toEqual([200, 200, 200]);
    const res = await users(limited);
    const retryAfter = res.headers.get('retry-after');
    await expectError(res, 429, 'rate_limited', limited);
    expect(retryAfter).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);

    expect(await burst(other, 3)).toEqual([200, 200, 200]);
    // POST is limited too, and a refused POST stores nothing.
    const post = await gw.request(USERS, { method: 'POST', headers: { 'x-tenant-id': limited }, json: { first_name: 'Over', last_name: 'Limit' } });
    await expectError(post, 429, 'rate_limited');
    expect(await gw.db.admin`SELECT 1 FROM users WHERE tenant_id = ${limited}`).toHaveLength(0);
  });

  it('once the bucket has refilled, the tenant is served again', async () => {
    const tenant = (await gw.createTenant()).id;
    expect(await burst(tenant, 4)).toEqual([200, 200, 200, 429]);
    const limitedAt = Date.now();
    let status = 0;
    await waitFor(
      async () => {
        const res = await users(tenant);
        await res.arrayBuffer();
        status = res.status;
        return status === 200;
      },
      3000,
      'the bucket to refill',
    );
    expect(status).toBe(200);
    // At 2 tokens per second, one token takes about half a second to come back.
    expect(Date.now() - limitedAt).toBeGreaterThanOrEqual(300);
  });

  it('an unknown tenant gets 404, not 429, however often it calls', async () => {
    const statuses = await burst(randomUUID(), 6);
    expect(statuses).toEqual([404, 404, 404, 404, 404, 404]);
  });
});

describe('per-tenant overrides through PATCH /v1/admin/tenants/{id}', () => {
  it('raising the limit serves that tenant beyond the gateway-wide burst, and only that tenant', async () => {
    const raised = (await gw.createTenant()).id;
    const other = (await gw.createTenant()).id;
    const res = await patch(raised, { rate_limit_rps: 50, rate_limit_burst: 60 });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ id: raised, rate_limit_rps: 50, rate_limit_burst: 60 });
    expect(await record(raised)).toMatchObject({ rate_limit_rps: 50, rate_limit_burst: 60 });
    expect(await record(other)).toMatchObject({ rate_limit_rps: null, rate_limit_burst: null });

    expect(await burst(raised, 20)).toEqual(Array(20).fill(200));
    expect(await burst(other, 4)).toEqual([200, 200, 200, 429]);
  });

  it('null clears the override: the gateway-wide limit applies again', async () => {
    const tenant = (await gw.createTenant()).id;
    expect((await patch(tenant, { rate_limit_rps: 50, rate_limit_burst: 60 })).status).toBe(200);
    expect(await burst(tenant, 6)).toEqual(Array(6).fill(200));

    const res = await patch(tenant, { rate_limit_rps: null });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ id: tenant, rate_limit_rps: null, rate_limit_burst: null });
    expect(await record(tenant)).toMatchObject({ rate_limit_rps: null, rate_limit_burst: null });
    expect(await burst(tenant, 4)).toEqual([200, 200, 200, 429]);
  });

  it('an override of 0 means unlimited, even for a tenant that is being limited right now', async () => {
    const tenant = (await gw.createTenant()).id;
    expect(await burst(tenant, 4)).toEqual([200, 200, 200, 429]);
    const res = await patch(tenant, { rate_limit_rps: 0 });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ rate_limit_rps: 0, rate_limit_burst: null });
    expect(await burst(tenant, 20)).toEqual(Array(20).fill(200));
  });

  it.each([
    ['a negative rate', { rate_limit_rps: -1 }, 'invalid_field', 'rate_limit_rps'],
    ['a fractional rate', { rate_limit_rps: 1.5 }, 'invalid_field', 'rate_limit_rps'],
    ['a string rate', { rate_limit_rps: '5' }, 'invalid_field', 'rate_limit_rps'],
    ['a boolean rate', { rate_limit_rps: true }, 'invalid_field', 'rate_limit_rps'],
    ['a rate over a million', { rate_limit_rps: 1_000_001 }, 'invalid_field', 'rate_limit_rps'],
    ['a burst of 0', { rate_limit_rps: 5, rate_limit_burst: 0 }, 'invalid_field', 'rate_limit_burst'],
    ['a negative burst', { rate_limit_rps: 5, rate_limit_burst: -2 }, 'invalid_field', 'rate_limit_burst'],
    ['a fractional burst', { rate_limit_rps: 5, rate_limit_burst: 2.5 }, 'invalid_field', 'rate_limit_burst'],
    ['a string burst', { rate_limit_rps: 5, rate_limit_burst: '7' }, 'invalid_field', 'rate_limit_burst'],
    ['an unknown field', { rate_limit_rps: 5, rate_limit_window: 10 }, 'unknown_field', 'rate_limit_window'],
    ['tenant_id', { rate_limit_rps: 5, tenant_id: randomUUID() }, 'unknown_field', 'tenant_id'],
    ['a burst without a rate', { rate_limit_burst: 5 }, 'invalid_field', 'rate_limit_rps'],
    ['a burst with a null rate', { rate_limit_rps: null, rate_limit_burst: 5 }, 'invalid_field', 'rate_limit_burst'],
    ['an empty object', {}, 'invalid_field', 'rate_limit_rps'],
    ['an array', [{ rate_limit_rps: 5 }], 'invalid_body', undefined],
  ])('a body with %s gets 400 naming the field, and changes nothing', async (_label, body, code, field) => {
    const tenant = (await gw.createTenant()).id;
    expect((await patch(tenant, { rate_limit_rps: 7, rate_limit_burst: 9 })).status).toBe(200);
    await expectError(await patch(tenant, body), 400, code, field);
    expect(await catalogLimits(tenant)).toEqual({ rps: 7, burst: 9 });
  });

  it('a body that is not JSON gets 400 invalid_json', async () => {
    const tenant = (await gw.createTenant()).id;
    const res = await gw.request(`${TENANTS}/${tenant}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${gw.adminToken}`, 'content-type': 'application/json' },
      body: '{"rate_limit_rps": ',
    });
    await expectError(res, 400, 'invalid_json');
  });

  it('PATCH of an unknown tenant gets 404, of a non-UUID 400', async () => {
    await expectError(await patch(randomUUID(), { rate_limit_rps: 5 }), 404, 'tenant_not_found');
    await expectError(await patch('not-a-uuid', { rate_limit_rps: 5 }), 400, 'invalid_tenant_id');
  });

  it('PATCH needs an admin token', async () => {
    const tenant = (await gw.createTenant()).id;
    await expectError(await patch(tenant, { rate_limit_rps: 0 }, null), 401, 'unauthorized');
    expect(await catalogLimits(tenant)).toEqual({ rps: null, burst: null });
  });
});

describe('the default gateway-wide limit (RATE_LIMIT_RPS=0)', () => {
  let unlimited: TestGateway;
  beforeAll(async () => {
    unlimited = await startTestGateway({ peerOf: gw, pool: { promoteRps: 1_000_000 } });
  });
  afterAll(async () => {
    await unlimited?.close();
  });

  it('never answers 429, even to 200 quick requests of one tenant', async () => {
    const tenant = (await gw.createTenant()).id;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 50; i++) {
          const res = await users(tenant, unlimited);
          await res.arrayBuffer();
          statuses.push(res.status);
        }
      }),
    );
    expect(statuses).toHaveLength(200);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });
});

describe('CLI tenant limit', () => {
  const cli = (args: string[]): Promise<RunResult> =>
    runCli(args, { ...process.env, DATABASE_URL: gw.db.url, CREDENTIALS_KEY: gw.credentialsKey.toString('hex'), ADMIN_JWT_SECRET: gw.adminSecret });

  it('--rps 5 --burst 7 stores the override, and the running gateway applies it', async () => {
    const tenant = (await gw.createTenant()).id;
    const result = await cli(['tenant', 'limit', tenant, '--rps', '5', '--burst', '7']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ id: tenant, rate_limit_rps: 5, rate_limit_burst: 7 });
    expect(result.stdout.toLowerCase()).not.toContain('password');
    expect(await catalogLimits(tenant)).toEqual({ rps: 5, burst: 7 });
    // Concurrent, so all eight land well within the 200 ms a token takes to come back at 5 per second.
    const statuses = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const res = await users(tenant);
        await res.arrayBuffer();
        return res.status;
      }),
    );
    expect(statuses.sort()).toEqual([...Array(7).fill(200), 429]);
  });

  it('--clear removes the override', async () => {
    const tenant = (await gw.createTenant()).id;
    expect((await patch(tenant, { rate_limit_rps: 9, rate_limit_burst: 11 })).status).toBe(200);
    const result = await cli(['tenant', 'limit', tenant, '--clear']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ id: tenant, rate_limit_rps: null, rate_limit_burst: null });
    expect(await catalogLimits(tenant)).toEqual({ rps: null, burst: null });
  });

  it('bad values exit 2 with the usage text and change nothing', async () => {
    const tenant = (await gw.createTenant()).id;
    expect((await patch(tenant, { rate_limit_rps: 7, rate_limit_burst: 9 })).status).toBe(200);
    const cases = [
      ['--rps', '-1'],
      ['--rps=-1'],
      ['--rps', '1.5'],
      ['--rps', 'abc'],
      ['--rps', ''],
      ['--rps', '5', '--burst', '0'],
      ['--rps', '5', '--burst', 'x'],
      ['--burst', '5'],
      [],
    ];
    const results = await Promise.all(cases.map((extra) => cli(['tenant', 'limit', tenant, ...extra])));
    // One comparison over every case, so a failure lists all the values that were accepted.
    const outcome = results.map((result, i) => ({
      args: cases[i],
      code: result.code,
      usage: result.stderr.includes('usage: npm run cli -- <command>'),
      stdout: result.stdout,
    }));
    expect(outcome).toEqual(cases.map((args) => ({ args, code: 2, usage: true, stdout: '' })));
    expect(await catalogLimits(tenant)).toEqual({ rps: 7, burst: 9 });
  });

  it('an unknown tenant, by id or by name, exits 1 with tenant_not_found', async () => {
    const [unknown, unnamed] = await Promise.all([
      cli(['tenant', 'limit', randomUUID(), '--rps', '5']),
      cli(['tenant', 'limit', 'no-such-tenant-name', '--rps', '5']),
    ]);
    for (const result of [unknown, unnamed]) {
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('tenant_not_found');
    }
  });
});
