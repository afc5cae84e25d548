// Two tenants on one gateway: everything tenant A writes stays invisible to tenant B, whatever B asks
// through the API or runs by hand on its own pool, because B's connections log in as B's role.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sql } from 'postgres';
import { startTestGateway, testTenantModel, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let a: { id: string; db_user: string };
let b: { id: string; db_user: string };
const aUserIds: string[] = [];

type Page = { records: { id: string; first_name: string }[]; total: number };

async function listAs(tenantId: string, query = ''): Promise<Page> {
  const res = await gw.request(`/v1/internal/users${query}`, { headers: { 'x-tenant-id': tenantId } });
  expect(res.status, query).toBe(200);
  return (await res.json()) as Page;
}

function onPoolOf<T>(tenantId: string, fn: (sql: Sql) => Promise<T>): Promise<T> {
  return gw.gateway.registry.run(tenantId, fn);
}

beforeAll(async () => {
  // Promotion is driven explicitly below, so request counts say which pool served what.
  gw = await startTestGateway({ pool: { promoteRps: 1_000_000 } });
  a = await gw.createTenant();
  b = await gw.createTenant();
  for (const [first, last] of [
    ['Alice', 'Anders'],
    ['Albert', 'Ames'],
    ['Zed', 'Secret'],
  ]) {
    const res = await gw.request('/v1/internal/users', {
      method: 'POST',
      headers: { 'x-tenant-id': a.id },
      json: { first_name: first, last_name: last },
    });
    aUserIds.push(((await res.json()) as { id: string }).id);
  }
  await gw.request('/v1/internal/users', {
    method: 'POST',
    headers: { 'x-tenant-id': b.id },
    json: { first_name: 'Bob', last_name: 'Builder' },
  });
  await gw.db.admin`UPDATE users SET confirmed = true WHERE first_name = 'Zed'`;
});

afterAll(async () => {
  await gw?.close();
});

const QUERIES = [
  '',
  '?page_size=100',
  '?search=al',
  '?search=secret&search_columns=last_name',
  '?first_name=Alice',
  '?last_name=Ames',
  '?confirmed=true',
  '?confirmed=false',
  '?date_after=2000-01-01T00:00:00Z&date_before=2999-01-01T00:00:00Z',
  '?date_column=updated_at&date_after=2000-01-01T00:00:00Z',
  '?sort_column=first_name&sort_direction=ascending',
  '?sort_column=id&sort_direction=descending&page=1&page_size=1',
  '?page=2&page_size=1',
];

// Both ways a request can be served: the shared authenticator pool (every tenant starts there) and the
// tenant's dedicated own-role pool (hot tenants). Isolation must hold on each. Database tenants have
// no shared path: every request runs on their own pool.
const PATHS = testTenantModel() === 'database' ? (['dedicated'] as const) : (['shared', 'dedicated'] as const);
describe.each(PATHS)('through the API on the %s pool', (path) => {
  const servedBy = (): number => (path === 'shared' ? gw.gateway.registry.stats().servedShared : gw.gateway.registry.stats().servedDedicated);
  let servedBefore = 0;

  beforeAll(async () => {
    if (path === 'dedicated') {
      await onPoolOf(a.id, (sql) => sql`SELECT 1`);
      await onPoolOf(b.id, (sql) => sql`SELECT 1`);
    }
    servedBefore = servedBy();
  });

  it.each(QUERIES)('tenant B never sees tenant A rows: GET users%s', async (query) => {
    const page = await listAs(b.id, query);
    expect(page.records.every((r) => !aUserIds.includes(r.id))).toBe(true);
    expect(page.records.every((r) => r.first_name === 'Bob')).toBe(true);
    expect(page.total).toBeLessThanOrEqual(1);
  });

  it.each([0, 1, 2])('tenant B cannot fetch tenant A user #%i by id', async (i) => {
    const page = await listAs(b.id, `?id=${aUserIds[i]}`);
    expect(page.total).toBe(0);
    expect(page.records).toEqual([]);
  });

  it('tenant A sees exactly its own three users', async () => {
    const page = await listAs(a.id, '?page_size=100');
    expect(page.records.map((r) => r.id).sort()).toEqual([...aUserIds].sort());
  });

  it(`every one of these requests was served by the ${path} pool`, () => {
    // One statement per request, plus the count for '?page=2&page_size=1', a page past B's last.
    expect(servedBy() - servedBefore).toBe(QUERIES.length + 3 + 1 + 1);
  });
});

describe("on tenant B's own pool", () => {
  it("runs as B's role, both current_user and session_user", async () => {
    const [row] = await onPoolOf(b.id, (sql) => sql`SELECT current_user::text AS cu, session_user::text AS su`);
    expect(row).toEqual({ cu: b.db_user, su: b.db_user });
  });

  it("sees none of A's rows with a hand-written SELECT * FROM users", async () => {
    const rows = await onPoolOf(b.id, (sql) => sql`SELECT * FROM ${sql.unsafe(gw.usersTableName(b.id))}`);
    expect(rows.length).toBe(1);
    expect(rows.every((r) => r.tenant_id === b.id)).toBe(true);
  });

  it('cannot switch row security off to see more', async () => {
    await expect(
      onPoolOf(b.id, (sql) =>
        sql.begin(async (tx) => {
          await tx`SET LOCAL row_security = off`;
          return tx`SELECT * FROM ${tx.unsafe(gw.usersTableName(b.id))}`;
        }),
      ),
    ).rejects.toMatchObject({ code: '42501' });
  });

  it("cannot UPDATE its rows into A's tenant_id", async () => {
    await expect(onPoolOf(b.id, (sql) => sql`UPDATE ${sql.unsafe(gw.usersTableName(b.id))} SET tenant_id = ${a.id}`)).rejects.toMatchObject({ code: '42501' });
    const [count] = await gw.adminOf(a.id)`SELECT count(*)::int AS n FROM ${gw.usersOf(a.id)} WHERE tenant_id = ${a.id}`;
    expect(count?.n).toBe(3);
  });

  it("cannot UPDATE A's rows (they match nothing)", async () => {
    const result = await onPoolOf(b.id, (sql) => sql`UPDATE ${sql.unsafe(gw.usersTableName(b.id))} SET first_name = 'pwned' WHERE id = ${aUserIds[0] ?? ''}`);
    expect(result.count).toBe(0);
    const [row] = await gw.adminOf(a.id)`SELECT first_name FROM ${gw.usersOf(a.id)} WHERE id = ${aUserIds[0] ?? ''}`;
    expect(row?.first_name).toBe('Alice');
  });

  it("cannot INSERT a row into A: a row naming A is refused, one naming no tenant becomes B's", async () => {
    await expect(
      onPoolOf(b.id, (sql) => sql`INSERT INTO ${sql.unsafe(gw.usersTableName(b.id))} (tenant_id, first_name, last_name) VALUES (${a.id}, 'Mallory', 'M')`),
    ).rejects.toBeDefined();
    const [count] = await gw.adminOf(a.id)`SELECT count(*)::int AS n FROM ${gw.usersOf(a.id)} WHERE tenant_id = ${a.id}`;
    expect(count?.n).toBe(3);
    const [row] = await onPoolOf(
      b.id,
      (sql) => sql`
      INSERT INTO ${sql.unsafe(gw.usersTableName(b.id))} (first_name, last_name) VALUES ('Mallory', 'M') RETURNING tenant_id`,
    );
    expect(row?.tenant_id).toBe(b.id);
    await gw.adminOf(b.id)`DELETE FROM ${gw.usersOf(b.id)} WHERE first_name = 'Mallory'`;
  });

  it("cannot claim A's scope: a tenant role's tenantgate.tenant_id setting is ignored", async () => {
    const rows = await onPoolOf(b.id, async (sql) => {
      await sql`SELECT set_config('tenantgate.tenant_id', ${a.id}, false)`;
      try {
        return await sql`SELECT first_name FROM ${sql.unsafe(gw.usersTableName(b.id))}`;
      } finally {
        await sql`RESET tenantgate.tenant_id`;
      }
    });
    expect(rows.map((r) => r.first_name)).toEqual(['Bob']);
  });

  it("cannot SET ROLE to A's role", async () => {
    await expect(onPoolOf(b.id, (sql) => sql`SET ROLE ${sql(a.db_user)}`)).rejects.toMatchObject({ code: '42501' });
  });

  it('cannot read the tenant catalog or any password', async () => {
    if (testTenantModel() === 'database') {
      // Its own database has no catalog (and its role cannot connect to the catalog's: database-model.test.ts).
      expect(await onPoolOf(b.id, (sql) => sql`SELECT to_regclass('public.tenants') AS t`)).toEqual([{ t: null }]);
    } else {
      await expect(onPoolOf(b.id, (sql) => sql`SELECT db_password_encrypted FROM public.tenants`)).rejects.toMatchObject({ code: '42501' });
    }
    await expect(onPoolOf(b.id, (sql) => sql`SELECT rolpassword FROM pg_authid`)).rejects.toMatchObject({ code: '42501' });
  });

  it('cannot create large objects (they would live outside RLS)', async () => {
    await expect(onPoolOf(b.id, (sql) => sql`SELECT lo_create(0)`)).rejects.toMatchObject({ code: '42501' });
    await expect(onPoolOf(b.id, (sql) => sql`SELECT lo_from_bytea(0, '\\x00'::bytea)`)).rejects.toMatchObject({ code: '42501' });
  });

  it('cannot create objects: tables, temporary tables, functions', async () => {
    await expect(onPoolOf(b.id, (sql) => sql`CREATE TABLE mine (x int)`)).rejects.toMatchObject({ code: '42501' });
    await expect(onPoolOf(b.id, (sql) => sql`CREATE TEMP TABLE mine (x int)`)).rejects.toMatchObject({ code: '42501' });
    await expect(onPoolOf(b.id, (sql) => sql`CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'`)).rejects.toMatchObject({ code: '42501' });
  });

  it('cannot use the role-management functions of the gateway', async () => {
    // A database tenant's database has none: undefined function (42883) rather than refused.
    const refused = testTenantModel() === 'database' ? '42883' : '42501';
    await expect(onPoolOf(b.id, (sql) => sql`SELECT public.tenantgate_set_role_password(${a.db_user}, 'x')`)).rejects.toMatchObject({ code: refused });
  });

  it("can delete only its own rows: a DELETE aimed at A's rows removes none", async () => {
    const before = await gw.adminOf(a.id)`SELECT count(*)::int AS n FROM ${gw.usersOf(a.id)} WHERE tenant_id = ${a.id}`;
    expect(before[0]?.n).toBeGreaterThan(0);
    expect(await onPoolOf(b.id, (sql) => sql`DELETE FROM ${sql.unsafe(gw.usersTableName(b.id))} WHERE tenant_id = ${a.id} RETURNING id`)).toEqual([]);
    const after = await gw.adminOf(a.id)`SELECT count(*)::int AS n FROM ${gw.usersOf(a.id)} WHERE tenant_id = ${a.id}`;
    expect(after).toEqual(before);
  });
});
