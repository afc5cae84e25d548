// Keyset pagination (cursor in, next_cursor out) and the capped total, through the API on both paths.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/users/cursor.js';
import { TOTAL_COUNT_CAP } from '../../src/users/queries.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

interface Page {
  records: { id: string; first_name: string; last_name: string; created_at: string }[];
  page: number | null;
  page_size: number;
  total: number | null;
  total_pages: number | null;
  total_exact: boolean;
  next_cursor: string | null;
}

let gw: TestGateway;
let a: { id: string };
let b: { id: string };
let big: { id: string };
const USERS = '/v1/internal/users';

async function get(tenantId: string, query: string): Promise<{ status: number; body: unknown }> {
  const res = await gw.request(`${USERS}?${query}`, { headers: { 'x-tenant-id': tenantId } });
  return { status: res.status, body: await res.json() };
}

async function page(tenantId: string, query: string): Promise<Page> {
  const { status, body } = await get(tenantId, query);
  expect(status, `${query}: ${JSON.stringify(body)}`).toBe(200);
  return body as Page;
}

/** Follows next_cursor from the first page to the end; returns every record in order. */
async function walk(tenantId: string, query: string): Promise<Page['records']> {
  const records: Page['records'] = [];
  let current = await page(tenantId, query);
  records.push(...current.records);
  for (let hops = 0; current.next_cursor !== null; hops++) {
    if (hops > 100) throw new Error('cursor walk does not end');
    const rest = query.replace(/(^|&)(sort_column|sort_direction)=[^&]*/g, '');
    current = await page(tenantId, `${rest}&cursor=${current.next_cursor}`);
    expect(current.page).toBeNull();
    records.push(...current.records);
  }
  return records;
}

/** Every record by plain offset pages, for comparison. */
async function allByOffset(tenantId: string, query: string): Promise<Page['records']> {
  const records: Page['records'] = [];
  for (let n = 1; ; n++) {
    const p = await page(tenantId, `${query}&page=${n}`);
    if (p.records.length === 0) return records;
    records.push(...p.records);
  }
}

beforeAll(async () => {
  // Promotion off: these requests run on the shared path; a second gateway below covers dedicated.
  gw = await startTestGateway({ pool: { promoteRps: 1_000_000 } });
  a = await gw.createTenant();
  b = await gw.createTenant();
  big = await gw.createTenant();
  // Names with ties (so the id tie-break matters) and timestamps that collide in pairs.
  await gw.adminOf(a.id)`
    INSERT INTO ${gw.usersOf(a.id)} (tenant_id, first_name, last_name, created_at, updated_at)
    SELECT ${a.id}, 'N' || (g % 4), 'L' || g, timestamptz '2026-01-01' + (g / 2) * interval '1 second',
           timestamptz '2026-02-01' + g * interval '1 microsecond'
    FROM generate_series(1, 23) g`;
  await gw.adminOf(b.id)`
    INSERT INTO ${gw.usersOf(b.id)} (tenant_id, first_name, last_name) SELECT ${b.id}, 'B' || g, 'Other' FROM generate_series(1, 7) g`;
  await gw.adminOf(big.id)`
    INSERT INTO ${gw.usersOf(big.id)} (tenant_id, first_name, last_name) SELECT ${big.id}, 'G' || g, 'Big' FROM generate_series(1, ${TOTAL_COUNT_CAP + 500}) g`;
  for (const t of [a, b, big]) await gw.adminOf(t.id)`ANALYZE ${gw.usersOf(t.id)}`;
});

afterAll(async () => {
  await gw?.close();
});

describe('keyset pagination', () => {
  it.each([
    'page_size=5',
    'page_size=4&sort_column=first_name&sort_direction=ascending',
    'page_size=3&sort_column=first_name&sort_direction=descending',
    'page_size=6&sort_column=last_name&sort_direction=ascending',
    'page_size=5&sort_column=created_at&sort_direction=ascending',
    'page_size=7&sort_column=updated_at&sort_direction=descending',
    'page_size=5&sort_column=id&sort_direction=ascending',
    'page_size=5&sort_column=confirmed&sort_direction=descending',
    'page_size=2&search=N1',
  ])('following next_cursor with %s visits every row once, in the offset order', async (query) => {
    const byCursor = await walk(a.id, query);
    const byOffset = await allByOffset(a.id, query);
    expect(byCursor.map((r) => r.id)).toEqual(byOffset.map((r) => r.id));
    expect(new Set(byCursor.map((r) => r.id)).size).toBe(byCursor.length);
  });

  it('next_cursor is null on the last page, and an offset page also hands out a cursor', async () => {
    const first = await page(a.id, 'page_size=10');
    expect(first.next_cursor).toEqual(expect.any(String));
    const last = await page(a.id, 'page_size=10&page=3');
    expect(last.records).toHaveLength(3);
    expect(last.next_cursor).toBeNull();
    const fromOffset = await page(a.id, 'page_size=10&page=2');
    const next = await page(a.id, `page_size=10&cursor=${fromOffset.next_cursor}`);
    expect(next.records.map((r) => r.id)).toEqual(last.records.map((r) => r.id));
  });

  it('a cursor page keeps the total of the whole result', async () => {
    const first = await page(a.id, 'page_size=10');
    const second = await page(a.id, `page_size=10&cursor=${first.next_cursor}`);
    expect(second).toMatchObject({ page: null, total: 23, total_pages: 3, total_exact: true });
  });

  it("another tenant's cursor only says where to resume: B still sees only its own rows", async () => {
    const fromA = await page(a.id, 'page_size=10');
    const asB = await page(b.id, `page_size=10&cursor=${fromA.next_cursor}`);
    expect(asB.records.every((r) => r.last_name === 'Other')).toBe(true);
    const crafted = encodeCursor({ column: 'created_at', direction: 'desc', value: '2999-01-01 00:00:00+00', id: 'ffffffff-ffff-4fff-bfff-ffffffffffff' });
    const all = await page(b.id, `page_size=100&cursor=${crafted}`);
    expect(all.records).toHaveLength(7);
    expect(all.records.every((r) => r.last_name === 'Other')).toBe(true);
  });

  it.each([
    ['cursor=not-a-cursor!', 'cursor'],
    ['cursor=', 'cursor'],
    [`cursor=${Buffer.from('{"a":1}').toString('base64url')}`, 'cursor'],
    [`cursor=${Buffer.from('[1,"tenant_id","desc","x","ffffffff-ffff-4fff-bfff-ffffffffffff"]').toString('base64url')}`, 'cursor'],
    [`cursor=${Buffer.from('[1,"created_at","desc","yesterday","ffffffff-ffff-4fff-bfff-ffffffffffff"]').toString('base64url')}`, 'cursor'],
    [`cursor=${encodeCursor({ column: 'first_name', direction: 'asc', value: 'N1', id: 'ffffffff-ffff-4fff-bfff-ffffffffffff' })}&page=2`, 'page'],
    [
      `cursor=${encodeCursor({ column: 'first_name', direction: 'asc', value: 'N1', id: 'ffffffff-ffff-4fff-bfff-ffffffffffff' })}&sort_column=last_name`,
      'sort_column',
    ],
    [
      `cursor=${encodeCursor({ column: 'first_name', direction: 'asc', value: 'N1', id: 'ffffffff-ffff-4fff-bfff-ffffffffffff' })}&sort_direction=descending`,
      'sort_direction',
    ],
    ['count=maybe', 'count'],
  ])('%s is a 400 naming %s', async (query, field) => {
    const { status, body } = await get(a.id, query);
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: { code: 'invalid_parameter', message: expect.stringContaining(field) } });
  });
});

describe('totals', () => {
  it(`are exact up to ${TOTAL_COUNT_CAP}, then a lower bound flagged total_exact: false`, async () => {
    expect(await page(a.id, '')).toMatchObject({ total: 23, total_exact: true });
    expect(await page(big.id, '')).toMatchObject({ total: TOTAL_COUNT_CAP, total_pages: TOTAL_COUNT_CAP / 10, total_exact: false });
  });

  it('count=exact counts everything; count=none skips the count', async () => {
    expect(await page(big.id, 'count=exact')).toMatchObject({ total: TOTAL_COUNT_CAP + 500, total_pages: (TOTAL_COUNT_CAP + 500) / 10, total_exact: true });
    const none = await page(big.id, 'count=none&page_size=3');
    expect(none).toMatchObject({ total: null, total_pages: null, total_exact: false });
    expect(none.records).toHaveLength(3);
  });

  it('follow the filters', async () => {
    expect(await page(big.id, 'search=G100')).toMatchObject({ total: 11, total_exact: true }); // G100, G1000-G1009
    expect(await page(big.id, 'search=G100&count=none')).toMatchObject({ total: null });
  });

  it('a page past the end still reports the total (capped or exact)', async () => {
    expect(await page(big.id, 'page=100000&page_size=100')).toMatchObject({ records: [], total: TOTAL_COUNT_CAP, total_exact: false });
    expect(await page(big.id, 'page=100000&page_size=100&count=exact')).toMatchObject({ records: [], total: TOTAL_COUNT_CAP + 500, total_exact: true });
    expect(await page(a.id, 'page=9&page_size=10')).toMatchObject({ records: [], total: 23, total_exact: true, next_cursor: null });
  });
});

describe('on a dedicated pool', () => {
  it('cursors and totals answer exactly as on the shared path', async () => {
    const dedicated = await startTestGateway({ peerOf: gw, pool: { promoteRps: 1_000_000 } });
    try {
      // Open the tenant's own pool: from now on its requests run there.
      await dedicated.gateway.registry.run(a.id, (sql) => sql`SELECT 1`);
      const before = dedicated.gateway.registry.stats().servedDedicated;
      const query = 'page_size=4&sort_column=first_name&sort_direction=ascending';
      const first = (await (await dedicated.request(`${USERS}?${query}`, { headers: { 'x-tenant-id': a.id } })).json()) as Page;
      const second = (await (await dedicated.request(`${USERS}?page_size=4&cursor=${first.next_cursor}`, { headers: { 'x-tenant-id': a.id } })).json()) as Page;
      expect(dedicated.gateway.registry.stats().servedDedicated).toBe(before + 2);
      expect(first).toEqual(await page(a.id, query));
      expect(second).toEqual(await page(a.id, `page_size=4&cursor=${first.next_cursor}`));
    } finally {
      await dedicated.close();
    }
  });
});
