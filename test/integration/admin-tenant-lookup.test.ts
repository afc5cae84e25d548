// The admin API's tenant look-ups: by name (GET /v1/admin/tenants/by-name/{name}), and the list's
// search, status filter and sort, checked against the catalog.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { expectError } from '../support/http.js';

interface TenantJson {
  id: string;
  name: string;
  status: string;
  created_at: string;
}
interface TenantPage {
  records: TenantJson[];
  page: number;
  page_size: number;
  total: number;
  total_pages: number;
}

const TENANTS = '/v1/admin/tenants';
let gw: TestGateway;
const run = `${process.pid}x${Date.now().toString(36)}`;
const created: TenantJson[] = [];

const admin = (path: string, method = 'GET'): Promise<Response> => gw.request(path, { method, headers: { authorization: `Bearer ${gw.adminToken}` } });

async function list(query: string): Promise<TenantPage> {
  const res = await admin(`${TENANTS}?${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as TenantPage;
}

beforeAll(async () => {
  gw = await startTestGateway();
  // Names chosen so that search, sort and LIKE escaping can each be told apart.
  for (const name of [`zeta-${run}`, `Alpha-${run}`, `mid_${run}`, `mid%${run}`, `a/b ${run}`]) {
    const res = await gw.request(TENANTS, { method: 'POST', headers: { authorization: `Bearer ${gw.adminToken}` }, json: { name } });
    expect(res.status).toBe(201);
    created.push((await res.json()) as TenantJson);
  }
  const suspended = created[0] as TenantJson;
  expect((await admin(`${TENANTS}/${suspended.id}/suspend`, 'POST')).status).toBe(200);
});
afterAll(async () => {
  await gw?.close();
});

describe('GET /v1/admin/tenants/by-name/{name}', () => {
  it('answers the tenant, the same body as by id', async () => {
    for (const tenant of created) {
      const res = await admin(`${TENANTS}/by-name/${encodeURIComponent(tenant.name)}`);
      expect(res.status, tenant.name).toBe(200);
      const body = (await res.json()) as TenantJson;
      expect(body).toEqual(await (await admin(`${TENANTS}/${tenant.id}`)).json());
      expect(body.name).toBe(tenant.name);
    }
  });

  it('is exact: another case or a part of the name is 404 tenant_not_found', async () => {
    await expectError(await admin(`${TENANTS}/by-name/${encodeURIComponent(`alpha-${run}`)}`), 404, 'tenant_not_found');
    await expectError(await admin(`${TENANTS}/by-name/${run}`), 404, 'tenant_not_found');
  });

  it('needs the admin token', async () => {
    expect((await gw.request(`${TENANTS}/by-name/${encodeURIComponent(`zeta-${run}`)}`)).status).toBe(401);
  });
});

describe('GET /v1/admin/tenants with search, status and sort', () => {
  it('search is a case-insensitive "contains" on the name', async () => {
    const page = await list(`search=${encodeURIComponent(run.toUpperCase())}&page_size=1000`);
    expect(page.records.map((t) => t.id).sort()).toEqual(created.map((t) => t.id).sort());
    expect(page.total).toBe(created.length);
  });

  it('% and _ in search are literal', async () => {
    expect((await list(`search=${encodeURIComponent(`mid%${run}`)}`)).records.map((t) => t.name)).toEqual([`mid%${run}`]);
    expect((await list(`search=${encodeURIComponent(`mid_${run}`)}`)).records.map((t) => t.name)).toEqual([`mid_${run}`]);
  });

  it('status filters, and the total counts only what matches', async () => {
    const suspended = await list(`search=${run}&status=suspended`);
    expect(suspended.records.map((t) => t.name)).toEqual([`zeta-${run}`]);
    expect(suspended.total).toBe(1);
    const active = await list(`search=${run}&status=active`);
    expect(active.total).toBe(created.length - 1);
    expect(active.records.every((t) => t.status === 'active')).toBe(true);
  });

  it('sorts by name both ways, and by created_at', async () => {
    const names = created.map((t) => t.name);
    const byName = [...names].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    const asc = await list(`search=${run}&sort_column=name&sort_direction=ascending`);
    const desc = await list(`search=${run}&sort_column=name&sort_direction=descending`);
    // PostgreSQL's collation decides the order: compare the two directions with each other and with the set.
    expect(asc.records.map((t) => t.name).sort()).toEqual([...byName].sort());
    expect(desc.records.map((t) => t.name)).toEqual(asc.records.map((t) => t.name).reverse());
    const newest = await list(`search=${run}&sort_column=created_at&sort_direction=descending&page_size=1`);
    expect(newest.records[0]?.id).toBe(created[created.length - 1]?.id);
    expect(newest.total_pages).toBe(created.length);
  });

  it('pages a search without overlap', async () => {
    const ids: string[] = [];
    for (let p = 1; p <= 3; p++) ids.push(...(await list(`search=${run}&sort_column=name&page_size=2&page=${p}`)).records.map((t) => t.id));
    expect(new Set(ids).size).toBe(created.length);
  });

  it.each([
    ['status=deleted', 'invalid_parameter', 'status'],
    ['sort_column=db_password_encrypted', 'invalid_parameter', 'sort_column'],
    ['sort_column=name;DROP TABLE tenants', 'invalid_parameter', 'sort_column'],
    ['sort_direction=up', 'invalid_parameter', 'sort_direction'],
    [`search=${'x'.repeat(101)}`, 'invalid_parameter', 'search'],
    ['search=a&search=b', 'duplicate_parameter', 'search'],
    ['sort_by=name', 'unknown_parameter', 'sort_by'],
  ])('?%s is 400 %s', async (query, code, field) => {
    await expectError(await admin(`${TENANTS}?${query}`), 400, code, field);
  });
});
