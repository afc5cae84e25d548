// The schema model's isolation, by PostgreSQL and through the API: a schema tenant's rows live in its own
// schema; its role can use only that schema; the shared role is still held to the session's scope by
// each table's policy; and no search_path trick (CVE-2018-1058 class) changes what our statements
// resolve to. Row-model tenants live beside them on the same gateway and server.
import postgres, { type Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderBound } from '../../src/db/statement.js';
import { schemaTables, STATEMENT_SEARCH_PATH } from '../../src/db/tenant-tables.js';
import { loadTenantMigrations } from '../../src/db/tenant-migrations.js';
import { tenantScopeSetting } from '../../src/isolation/rls.js';
import { ensureAuthenticator } from '../../src/pool/authenticator.js';
import { createSharedPool, type SharedPool } from '../../src/pool/shared-pool.js';
import { parseListParams } from '../../src/users/list-params.js';
import { createUserStatement, listUsersStatement } from '../../src/users/queries.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let a: { id: string; db_user: string };
let b: { id: string; db_user: string };
let r: { id: string; db_user: string };
let raw: Sql;
let pool: SharedPool;
const schemaOf = (t: { db_user: string }): string => `s_${t.db_user.slice(2)}`;

const names = async (tenantId: string): Promise<string[]> => {
  const res = await gw.request('/v1/internal/users?page_size=100&sort_column=first_name&sort_direction=ascending', { headers: { 'x-tenant-id': tenantId } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { records: { first_name: string }[] }).records.map((u) => u.first_name);
};

const create = async (tenantId: string, first: string): Promise<void> => {
  const res = await gw.request('/v1/internal/users', { method: 'POST', headers: { 'x-tenant-id': tenantId }, json: { first_name: first, last_name: 'X' } });
  expect(res.status, await res.clone().text()).toBe(201);
};

/** Runs `fn` on B's dedicated pool: logged in as B's own role. */
const asB = <T>(fn: (sql: Sql) => Promise<T>): Promise<T> => gw.gateway.registry.run(b.id, fn);

beforeAll(async () => {
  // The shared path unless a test opens a dedicated pool itself.
  gw = await startTestGateway({ pool: { promoteRps: 1_000_000 } });
  a = await gw.createTenant(undefined, 'schema');
  b = await gw.createTenant(undefined, 'schema');
  r = await gw.createTenant(undefined, 'rls');
  for (const [t, people] of [
    [a, ['Alice', 'Anna']],
    [b, ['Bob']],
    [r, ['Rita']],
  ] as const) {
    for (const p of people) await create(t.id, p);
  }
  const login = await ensureAuthenticator(gw.gateway.catalog, gw.keys);
  raw = postgres(gw.db.url, { ...login, max: 1, onnotice: () => {}, fetch_types: false });
  pool = createSharedPool({
    databaseUrl: gw.db.url,
    ...login,
    max: 1,
    pipelineDepth: 4,
    connectTimeoutSeconds: 5,
    statementTimeoutMs: 30_000,
    scope: tenantScopeSetting,
  });
});

afterAll(async () => {
  await raw?.end();
  await pool?.end();
  await gw?.close();
});

describe('schema tenants through the API', () => {
  it('are created with their model and server, and shown so', async () => {
    const res = await gw.request(`/v1/admin/tenants/${a.id}`, { headers: { authorization: `Bearer ${gw.adminToken}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: a.id, model: 'schema', server: 'main' });
    const [row] = await gw.db.admin`SELECT model, data_name, data_version FROM tenants WHERE id = ${a.id}`;
    expect(row).toEqual({ model: 'schema', data_name: schemaOf(a), data_version: (await loadTenantMigrations()).latest });
  });

  it('keep their users in their own schema, none in the shared table', async () => {
    const inSchema = await gw.db.admin.unsafe(`SELECT first_name FROM ${schemaTables(schemaOf(a)).users} ORDER BY 1`);
    expect(inSchema.map((u) => u.first_name)).toEqual(['Alice', 'Anna']);
    const [shared] = await gw.db.admin`SELECT count(*)::int AS n FROM public.users WHERE tenant_id IN (${a.id}, ${b.id})`;
    expect(shared?.n).toBe(0);
  });

  it('each see only their own users, beside a row-model tenant, on the shared path', async () => {
    // Interleaved, so the one shared connection keeps switching scope and statement text.
    for (let i = 0; i < 3; i++) {
      expect(await names(a.id)).toEqual(['Alice', 'Anna']);
      expect(await names(r.id)).toEqual(['Rita']);
      expect(await names(b.id)).toEqual(['Bob']);
    }
  });

  it('each see only their own users on their dedicated pools', async () => {
    await gw.gateway.registry.run(a.id, async () => undefined);
    await asB(async () => undefined);
    expect(await names(a.id)).toEqual(['Alice', 'Anna']);
    expect(await names(b.id)).toEqual(['Bob']);
    expect(await names(r.id)).toEqual(['Rita']);
  });

  it('rejects an unknown model, naming the field', async () => {
    const res = await gw.request('/v1/admin/tenants', {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.adminToken}` },
      json: { name: 'm1', model: 'citus' },
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('invalid_field');
    expect(body.error.message).toMatch(/^model must be one of rls, schema, database/);
  });
});

describe("on schema tenant B's own pool", () => {
  it('runs as B, under a search_path where no table name resolves (statements name their schema)', async () => {
    const [row] = await asB((sql) => sql`SELECT current_user AS who, current_setting('search_path') AS path`);
    expect(row).toEqual({ who: b.db_user, path: STATEMENT_SEARCH_PATH });
    await expect(asB((sql) => sql`SELECT * FROM users`)).rejects.toMatchObject({ code: 'tenant_changed' });
  });

  it("cannot read or write A's schema, not even by a qualified name", async () => {
    const s = `"${schemaOf(a)}"`;
    await expect(asB((sql) => sql.unsafe(`SELECT * FROM ${s}.users`))).rejects.toMatchObject({ code: '42501' });
    await expect(asB((sql) => sql.unsafe(`INSERT INTO ${s}.users (tenant_id, first_name, last_name) VALUES ('${a.id}', 'x', 'y')`))).rejects.toMatchObject({
      code: '42501',
    });
    // Without USAGE the schema is skipped by name look-up: not even its tables' names resolve (42P01,
    // which the pool reads as "the tenant's data is gone", asks the catalog, and answers tenant_changed).
    await expect(asB((sql) => sql.begin((tx) => tx.unsafe(`SET LOCAL search_path = ${s}; SELECT * FROM users`)))).rejects.toMatchObject({
      code: 'tenant_changed',
    });
  });

  it('cannot read the shared users table or the catalog', async () => {
    await expect(asB((sql) => sql`SELECT * FROM public.users`)).rejects.toMatchObject({ code: '42501' });
    await expect(asB((sql) => sql`SELECT * FROM public.tenants`)).rejects.toMatchObject({ code: '42501' });
  });

  it('cannot create objects anywhere: its schema, public, temporary, a schema of its own', async () => {
    for (const ddl of [
      `CREATE TABLE "${schemaOf(b)}".t (x int)`,
      'CREATE TABLE public.t (x int)',
      'CREATE TEMP TABLE users (x int)',
      'CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$',
      `CREATE SCHEMA "${b.db_user}"`,
    ]) {
      await expect(
        asB((sql) => sql.unsafe(ddl)),
        ddl,
      ).rejects.toMatchObject({ code: '42501' });
    }
  });

  it("cannot claim A's scope: a tenant role's setting is ignored", async () => {
    const rows = await asB((sql) =>
      sql.begin(async (tx) => {
        await tx.unsafe(`SET LOCAL tenantgate.tenant_id = '${a.id}'`);
        return tx.unsafe<{ first_name: string; tenant_id: string }[]>(`SELECT first_name, tenant_id FROM ${schemaTables(schemaOf(b)).users}`);
      }),
    );
    expect(rows.map((u) => u.first_name)).toEqual(['Bob']);
    expect(rows.every((u) => u.tenant_id === b.id)).toBe(true);
  });

  it("cannot move its rows to another tenant, and reaches no other schema's rows to delete", async () => {
    const own = schemaTables(schemaOf(b)).users;
    await expect(asB((sql) => sql`UPDATE ${sql.unsafe(own)} SET tenant_id = ${a.id}`)).rejects.toMatchObject({ code: '42501' });
    await expect(asB((sql) => sql.unsafe(`DELETE FROM "${schemaOf(a)}".users`))).rejects.toMatchObject({ code: '42501' });
    expect(await asB((sql) => sql`DELETE FROM ${sql.unsafe(own)} WHERE tenant_id = ${a.id} RETURNING id`)).toEqual([]);
    expect(await names(a.id)).toEqual(['Alice', 'Anna']);
  });
});

describe('the shared role on schema tenants', () => {
  const listA = renderBound(
    listUsersStatement({ tenantId: '00000000-0000-0000-0000-000000000000', checkContext: true }, parseListParams(new URLSearchParams('page_size=100'))),
  );

  it("reads A's rows under A's scope, with A's schema in the text, through the pool", async () => {
    const st = renderBound(
      listUsersStatement({ tenantId: a.id, checkContext: true }, parseListParams(new URLSearchParams('page_size=100'))),
      schemaTables(schemaOf(a)),
    );
    expect(st.text).toContain(`FROM "${schemaOf(a)}".users`);
    const rows = await pool.run(a.id, st, true);
    expect(rows.map((u) => u.first_name).sort()).toEqual(['Alice', 'Anna']);
    // And a row-model tenant right after, on the same connection: the shared table, named so.
    const rr = renderBound(listUsersStatement({ tenantId: r.id, checkContext: true }, parseListParams(new URLSearchParams('page_size=100'))));
    expect((await pool.run(r.id, rr)).map((u) => u.first_name)).toEqual(['Rita']);
    expect(listA.text).toContain('public.tenantgate_check_scope');
  });

  it("sees nothing of A's schema without a scope, or under B's scope", async () => {
    const usersOfA = schemaTables(schemaOf(a)).users;
    await raw.unsafe(`RESET tenantgate.tenant_id; SET search_path = ${STATEMENT_SEARCH_PATH}`);
    expect(await raw.unsafe(`SELECT * FROM ${usersOfA}`)).toHaveLength(0);
    await raw.unsafe(tenantScopeSetting(b.id, false));
    expect(await raw.unsafe(`SELECT * FROM ${usersOfA}`)).toHaveLength(0);
    // The statement's own check turns the stale scope into an error, which makes the pool re-scope.
    const st = renderBound(
      listUsersStatement({ tenantId: a.id, checkContext: true }, parseListParams(new URLSearchParams('page_size=100'))),
      schemaTables(schemaOf(a)),
    );
    await expect(raw.unsafe(st.text, st.params)).rejects.toMatchObject({ code: 'TG001' });
  });

  it("cannot insert into A's schema under B's scope or under none", async () => {
    const insert = renderBound(createUserStatement({ tenantId: a.id, checkContext: true }, { firstName: 'Mallory', lastName: 'X' }), schemaTables(schemaOf(a)));
    await raw.unsafe(`${tenantScopeSetting(b.id, false)}; SET search_path = ${STATEMENT_SEARCH_PATH}`);
    await expect(raw.unsafe(insert.text, insert.params)).rejects.toMatchObject({ code: 'TG001' });
    await raw.unsafe(`RESET tenantgate.tenant_id`);
    await expect(raw.unsafe(insert.text, insert.params)).rejects.toMatchObject({ code: 'TG001' });
    const [n] = await gw.db.admin.unsafe(`SELECT count(*)::int AS n FROM "${schemaOf(a)}".users WHERE first_name = 'Mallory'`);
    expect(n?.n).toBe(0);
    await raw.unsafe('RESET search_path');
  });
});

describe('statements that name their tables', () => {
  it('fail closed when a table is named without its schema: no session resolves an unqualified name', async () => {
    const bare = { text: 'SELECT * FROM users WHERE public.tenantgate_check_scope($1::uuid)', params: [a.id] };
    for (const t of [a, r]) {
      await expect(pool.run(t.id, { ...bare, params: [t.id] }, t === a)).rejects.toMatchObject({ code: '42P01' });
    }
    // The pool is fine afterwards.
    const st = renderBound(
      listUsersStatement({ tenantId: a.id, checkContext: true }, parseListParams(new URLSearchParams('page_size=100'))),
      schemaTables(schemaOf(a)),
    );
    expect((await pool.run(a.id, st, true)).map((u) => u.first_name).sort()).toEqual(['Alice', 'Anna']);
  });

  it('are prepared per tenant, and a connection keeps at most its bound of them', async () => {
    const login = await ensureAuthenticator(gw.gateway.catalog, gw.keys);
    const small = createSharedPool({
      databaseUrl: gw.db.url,
      ...login,
      max: 1,
      pipelineDepth: 4,
      connectTimeoutSeconds: 5,
      statementTimeoutMs: 30_000,
      scope: tenantScopeSetting,
      preparedPerConnection: 2,
    });
    try {
      const params = parseListParams(new URLSearchParams('page_size=100'));
      for (let i = 0; i < 3; i++) {
        for (const t of [a, b, r]) {
          const tables = t === r ? undefined : schemaTables(schemaOf(t));
          expect(
            (await small.run(t.id, renderBound(listUsersStatement({ tenantId: t.id, checkContext: true }, params), tables), t !== r)).length,
          ).toBeGreaterThan(0);
        }
      }
      const [row] = await small.run(a.id, {
        text: 'SELECT count(*)::int AS n FROM pg_catalog.pg_prepared_statements WHERE public.tenantgate_check_scope($1::uuid)',
        params: [a.id],
      });
      expect(row?.n).toBeLessThanOrEqual(2);
    } finally {
      await small.end();
    }
  });
});

describe('schema tenants on a shared pool of several connections', () => {
  it('go to their home connection while it has room, so their tables stay cached in one backend', async () => {
    const login = await ensureAuthenticator(gw.gateway.catalog, gw.keys);
    const four = createSharedPool({
      databaseUrl: gw.db.url,
      ...login,
      max: 4,
      pipelineDepth: 16,
      connectTimeoutSeconds: 5,
      statementTimeoutMs: 30_000,
      scope: tenantScopeSetting,
    });
    try {
      const st = (t: { id: string; db_user: string }): { text: string; params: string[] } => ({
        text: `SELECT pg_backend_pid() AS pid, pg_sleep(0.02) FROM ${schemaTables(schemaOf(t)).users} WHERE public.tenantgate_check_scope($1::uuid) LIMIT 1`,
        params: [t.id],
      });
      const pids = new Map<string, Set<number>>([
        [a.id, new Set()],
        [b.id, new Set()],
      ]);
      // Concurrent and overlapping: without the affinity they would spread over the idle connections.
      await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const t = i % 2 === 0 ? a : b;
          for (const row of await four.run(t.id, st(t), true)) pids.get(t.id)?.add(row.pid as number);
        }),
      );
      expect(pids.get(a.id)?.size).toBe(1);
      expect(pids.get(b.id)?.size).toBe(1);
    } finally {
      await four.end();
    }
  });

  it('never leave their two homes, even when both are full and other connections idle', async () => {
    const login = await ensureAuthenticator(gw.gateway.catalog, gw.keys);
    // Depth 1: a tenant's third concurrent statement finds both homes busy and queues at one of them.
    const four = createSharedPool({
      databaseUrl: gw.db.url,
      ...login,
      max: 4,
      pipelineDepth: 1,
      connectTimeoutSeconds: 5,
      statementTimeoutMs: 30_000,
      scope: tenantScopeSetting,
    });
    try {
      const st = {
        text: `SELECT pg_backend_pid() AS pid, pg_sleep(0.05) FROM ${schemaTables(schemaOf(a)).users} WHERE public.tenantgate_check_scope($1::uuid) LIMIT 1`,
        params: [a.id],
      };
      const pids = new Set<number>();
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (const row of await four.run(a.id, st, true)) pids.add(row.pid as number);
        }),
      );
      // Both homes used (the first was busy), never a third connection.
      expect(pids.size).toBe(2);
      // A row-model tenant (one statement text for all) spreads over idle connections as before.
      const spread = new Set<number>();
      const rr = {
        text: 'SELECT pg_backend_pid() AS pid, pg_sleep(0.05) FROM public.users WHERE public.tenantgate_check_scope($1::uuid) LIMIT 1',
        params: [r.id],
      };
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (const row of await four.run(r.id, rr)) spread.add(row.pid as number);
        }),
      );
      expect(spread.size).toBe(4);
    } finally {
      await four.end();
    }
  });
});

describe('search_path tricks (CVE-2018-1058 class) change nothing', () => {
  it('a users table in public, a schema named like the role, and a look-alike function do not capture our statements', async () => {
    // Made by a superuser, as a careless administrator might: tenants themselves can create nothing.
    await gw.db.admin.unsafe(`
      CREATE SCHEMA "${b.db_user}";
      CREATE TABLE "${b.db_user}".users (LIKE public.users);
      GRANT USAGE ON SCHEMA "${b.db_user}" TO "${b.db_user}";
      GRANT SELECT, INSERT ON "${b.db_user}".users TO "${b.db_user}";
      INSERT INTO "${b.db_user}".users (tenant_id, id, first_name, last_name, confirmed, created_at, updated_at)
        VALUES ('${b.id}', gen_random_uuid(), 'Decoy', 'X', false, now(), now());
      CREATE FUNCTION "${b.db_user}".tenantgate_check_scope(uuid) RETURNS boolean LANGUAGE sql AS 'SELECT true';
      GRANT EXECUTE ON FUNCTION "${b.db_user}".tenantgate_check_scope(uuid) TO PUBLIC;`);
    try {
      // Both paths: the dedicated pool opened above, and the shared one after its eviction.
      expect(await names(b.id)).toEqual(['Bob']);
      await create(b.id, 'Bea');
      await gw.gateway.registry.evict(b.id);
      expect(await names(b.id)).toEqual(['Bea', 'Bob']);
      const [decoy] = await gw.db.admin.unsafe(`SELECT count(*)::int AS n FROM "${b.db_user}".users`);
      expect(decoy?.n).toBe(1);
    } finally {
      await gw.db.admin.unsafe(`DROP SCHEMA "${b.db_user}" CASCADE`);
    }
  });
});

describe('deleting a schema tenant', () => {
  it('drops its schema, grants and role', async () => {
    const gone = await gw.createTenant(undefined, 'schema');
    await create(gone.id, 'Temp');
    const res = await gw.request(`/v1/admin/tenants/${gone.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${gw.adminToken}` } });
    expect(res.status).toBe(204);
    const [left] = await gw.db.admin`
      SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = ${schemaOf(gone)})::int AS schemas,
             (SELECT count(*) FROM pg_roles WHERE rolname = ${gone.db_user})::int AS roles`;
    expect(left).toEqual({ schemas: 0, roles: 0 });
  });
});

describe('a tenant whose schema is behind this build', () => {
  it('is refused with 503 tenant_schema_behind and Retry-After, then served once migrated', async () => {
    const t = await gw.createTenant(undefined, 'schema');
    await gw.db.admin`UPDATE tenants SET data_version = 0 WHERE id = ${t.id}`;
    await gw.gateway.registry.evict(t.id);
    const res = await gw.request('/v1/internal/users', { headers: { 'x-tenant-id': t.id } });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(await res.json()).toMatchObject({ error: { code: 'tenant_schema_behind' } });
    await gw.db.admin`UPDATE tenants SET data_version = ${(await loadTenantMigrations()).latest} WHERE id = ${t.id}`;
    await gw.gateway.registry.evict(t.id);
    expect((await gw.request('/v1/internal/users', { headers: { 'x-tenant-id': t.id } })).status).toBe(200);
  });
});
