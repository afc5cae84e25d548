// The database model (src/isolation/database.ts): a tenant's tables in a database of its own, reached
// only by the tenant's own role. Isolation by PostgreSQL (a role cannot connect to another tenant's
// database nor to the catalog's, and creates nothing), through the API (beside row and schema tenants on
// one gateway), the users API and Idempotency-Key, cold tenants opening their pool on the request path
// under the connection budget, deletion, and the tenant-data migration runner.
import { chmod, cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import postgres, { type Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTenantMigrations, migrateTenantSchemas, tenantMigrationStatus, TENANT_MIGRATIONS_DIR } from '../../src/db/tenant-migrations.js';
import { connectTenantDatabase } from '../../src/isolation/database.js';
import { waitFor, withDatabase } from '../support/database.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { freePort } from '../support/ports.js';
import { startPostgresServer } from '../support/postgres-server.js';

interface Created {
  readonly id: string;
  readonly db_user: string;
}

let gw: TestGateway;
let a: Created;
let b: Created;
let rowTenant: Created;
let schemaTenant: Created;
const databaseOf = (t: Created): string => `d_${t.db_user.slice(2)}`;
const headers = (t: Created): Record<string, string> => ({ 'x-tenant-id': t.id });

const names = async (t: Created): Promise<string[]> => {
  const res = await gw.request('/v1/internal/users?page_size=100&sort_column=first_name&sort_direction=ascending', { headers: headers(t) });
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { records: { first_name: string }[] }).records.map((u) => u.first_name);
};

const create = async (t: Created, first: string): Promise<{ id: string }> => {
  const res = await gw.request('/v1/internal/users', { method: 'POST', headers: headers(t), json: { first_name: first, last_name: 'X' } });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string };
};

/** A connection logged in as the tenant's own role (its password from the catalog) to `database`. */
const loginAs = async (t: Created, database: string): Promise<Sql> => {
  const [row] = await gw.db.admin<{ sealed: string }[]>`SELECT db_password_encrypted AS sealed FROM tenants WHERE id = ${t.id}`;
  const url = new URL(withDatabase(gw.db.url, database));
  url.username = t.db_user;
  url.password = gw.keys.open(row?.sealed ?? '');
  return postgres(url.toString(), { max: 1, onnotice: () => {}, fetch_types: false, connect_timeout: 5 });
};

const withLogin = async <T>(t: Created, database: string, fn: (sql: Sql) => Promise<T>): Promise<T> => {
  const sql = await loginAs(t, database);
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 1 });
  }
};

const catalogDatabase = (): string => new URL(gw.db.url).pathname.slice(1);

beforeAll(async () => {
  gw = await startTestGateway();
  a = await gw.createTenant(undefined, 'database');
  b = await gw.createTenant(undefined, 'database');
  rowTenant = await gw.createTenant(undefined, 'rls');
  schemaTenant = await gw.createTenant(undefined, 'schema');
  for (const [t, people] of [
    [a, ['Alice', 'Anna']],
    [b, ['Bob']],
    [rowTenant, ['Rita']],
    [schemaTenant, ['Sam']],
  ] as const) {
    for (const p of people) await create(t, p);
  }
}, 60_000);

afterAll(async () => {
  await gw?.close();
});

describe('database tenants', () => {
  it('are created with a database of their own, shown with their model', async () => {
    const res = await gw.request(`/v1/admin/tenants/${a.id}`, { headers: { authorization: `Bearer ${gw.adminToken}` } });
    expect(await res.json()).toMatchObject({ id: a.id, model: 'database', server: 'main' });
    const [row] = await gw.db.admin`SELECT model, data_name, data_version FROM tenants WHERE id = ${a.id}`;
    expect(row).toEqual({ model: 'database', data_name: databaseOf(a), data_version: (await loadTenantMigrations()).latest });
    const dbs = await gw.db.admin`SELECT datname FROM pg_database WHERE datname IN ${gw.db.admin([databaseOf(a), databaseOf(b)])} ORDER BY datname`;
    expect(dbs).toHaveLength(2);
  });

  it('keep their users in their own database, none in the catalog database', async () => {
    expect(await gw.adminOf(a.id)`SELECT first_name FROM ${gw.usersOf(a.id)} ORDER BY first_name`).toEqual([{ first_name: 'Alice' }, { first_name: 'Anna' }]);
    expect(await gw.db.admin`SELECT 1 FROM public.users WHERE tenant_id IN ${gw.db.admin([a.id, b.id])}`).toEqual([]);
    expect(await gw.db.admin`SELECT 1 FROM pg_namespace WHERE nspname = ${`s_${a.db_user.slice(2)}`}`).toEqual([]);
  });

  it('each see only their own users, beside a row tenant and a schema tenant on the same gateway', async () => {
    expect(await names(a)).toEqual(['Alice', 'Anna']);
    expect(await names(b)).toEqual(['Bob']);
    expect(await names(rowTenant)).toEqual(['Rita']);
    expect(await names(schemaTenant)).toEqual(['Sam']);
  });

  it("cannot reach another tenant's user by id: get, patch and delete answer 404 and change nothing", async () => {
    const [bob] = await gw.adminOf(b.id)<{ id: string }[]>`SELECT id::text FROM ${gw.usersOf(b.id)}`;
    const path = `/v1/internal/users/${bob?.id ?? ''}`;
    expect((await gw.request(path, { headers: headers(a) })).status).toBe(404);
    expect((await gw.request(path, { method: 'PATCH', headers: headers(a), json: { first_name: 'Mallory' } })).status).toBe(404);
    expect((await gw.request(path, { method: 'DELETE', headers: headers(a) })).status).toBe(404);
    expect(await names(b)).toEqual(['Bob']);
  });

  it('are served on their own pools, never on the shared pool', async () => {
    const before = gw.gateway.registry.stats();
    await names(a);
    await names(b);
    const after = gw.gateway.registry.stats();
    expect(after.servedShared).toBe(before.servedShared);
    expect(after.servedDedicated - before.servedDedicated).toBe(2);
    const sessions = await gw.db.admin<{ usename: string; datname: string }[]>`
      SELECT DISTINCT usename::text, datname::text FROM pg_stat_activity WHERE usename IN ${gw.db.admin([a.db_user, b.db_user])} ORDER BY 1`;
    expect(sessions).toEqual(
      [
        { usename: a.db_user, datname: databaseOf(a) },
        { usename: b.db_user, datname: databaseOf(b) },
      ].sort((x, y) => x.usename.localeCompare(y.usename)),
    );
  });
});

describe("a database tenant's role, by PostgreSQL", () => {
  it("cannot connect to another tenant's database", async () => {
    await expect(withLogin(a, databaseOf(b), (sql) => sql`SELECT 1`)).rejects.toMatchObject({ code: '42501' });
  });

  it('cannot connect to the catalog database (nor to a row or schema tenant through it)', async () => {
    await expect(withLogin(a, catalogDatabase(), (sql) => sql`SELECT 1`)).rejects.toMatchObject({ code: '42501' });
  });

  it('is a member of no role and holds no attribute beyond LOGIN', async () => {
    const [role] = await gw.db.admin`
      SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication,
             (SELECT count(*)::int FROM pg_auth_members WHERE member = r.oid) AS memberships
      FROM pg_roles r WHERE rolname = ${a.db_user}`;
    expect(role).toEqual({
      rolsuper: false,
      rolcreaterole: false,
      rolcreatedb: false,
      rolbypassrls: false,
      rolreplication: false,
      memberships: 0,
    });
  });

  it('connects to its own database and sees its rows there, and only what its schema grants', async () => {
    await withLogin(a, databaseOf(a), async (sql) => {
      expect(await sql`SELECT first_name FROM ${sql(`s_${a.db_user.slice(2)}`)}.users ORDER BY 1`).toEqual([{ first_name: 'Alice' }, { first_name: 'Anna' }]);
      await expect(sql`SELECT * FROM public.gateway_settings`).rejects.toMatchObject({ code: '42501' });
      await expect(sql`SELECT * FROM public.tenant_data_migrations`).rejects.toMatchObject({ code: '42501' });
    });
  });

  it('cannot create anything in its own database: its schema, public, a schema, a temporary table, a large object', async () => {
    const schema = `s_${a.db_user.slice(2)}`;
    await withLogin(a, databaseOf(a), async (sql) => {
      await expect(sql`CREATE TABLE ${sql(schema)}.t (x int)`).rejects.toMatchObject({ code: '42501' });
      await expect(sql`CREATE TABLE public.t (x int)`).rejects.toMatchObject({ code: '42501' });
      await expect(sql`CREATE SCHEMA mine`).rejects.toMatchObject({ code: '42501' });
      await expect(sql`CREATE TEMP TABLE t (x int)`).rejects.toMatchObject({ code: '42501' });
      // Large objects live outside every table and its policy.
      await expect(sql`SELECT lo_create(0)`).rejects.toMatchObject({ code: '42501' });
    });
  });

  it('inserts rows of its own tenant only, whatever tenant_id the statement names', async () => {
    const schema = `s_${a.db_user.slice(2)}`;
    await withLogin(a, databaseOf(a), async (sql) => {
      await expect(sql`INSERT INTO ${sql(schema)}.users (tenant_id, first_name, last_name) VALUES (${b.id}, 'M', 'M')`).rejects.toMatchObject({
        code: 'TG001',
      });
      const [row] = await sql`INSERT INTO ${sql(schema)}.users (first_name, last_name) VALUES ('Own', 'Row') RETURNING tenant_id::text`;
      expect(row).toEqual({ tenant_id: a.id });
      await sql`DELETE FROM ${sql(schema)}.users WHERE first_name = 'Own'`;
    });
  });
});

describe('the users API for a database tenant', () => {
  it('creates, lists, gets, patches and deletes a user', async () => {
    const t = await gw.createTenant(undefined, 'database');
    const { id } = await create(t, 'Carol');
    const got = await gw.request(`/v1/internal/users/${id}`, { headers: headers(t) });
    expect(await got.json()).toMatchObject({ id, first_name: 'Carol', last_name: 'X', confirmed: false });
    const patched = await gw.request(`/v1/internal/users/${id}`, { method: 'PATCH', headers: headers(t), json: { confirmed: true } });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ id, confirmed: true });
    expect(await names(t)).toEqual(['Carol']);
    expect((await gw.request(`/v1/internal/users/${id}`, { method: 'DELETE', headers: headers(t) })).status).toBe(204);
    expect((await gw.request(`/v1/internal/users/${id}`, { headers: headers(t) })).status).toBe(404);
    expect(await names(t)).toEqual([]);
  });

  it('answers a retried POST with its Idempotency-Key once, from the record in its own database', async () => {
    const t = await gw.createTenant(undefined, 'database');
    const post = (): Promise<Response> =>
      gw.request('/v1/internal/users', {
        method: 'POST',
        headers: { ...headers(t), 'idempotency-key': 'k-1' },
        json: { first_name: 'Once', last_name: 'Only' },
      });
    const first = await post();
    const second = await post();
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotency-replayed')).toBe('true');
    expect(await second.json()).toEqual(await first.json());
    expect(await gw.adminOf(t.id)`SELECT count(*)::int AS n FROM ${gw.usersOf(t.id)}`).toEqual([{ n: 1 }]);
    const keys = gw.usersTableName(t.id).replace(/users$/, 'idempotency_keys');
    expect(await gw.adminOf(t.id).unsafe(`SELECT key FROM ${keys}`)).toEqual([{ key: 'k-1' }]);
  });
});

describe('deleting a database tenant', () => {
  it('drops its database (ending its sessions) and its role; its requests get 404', async () => {
    const t = await gw.createTenant(undefined, 'database');
    await create(t, 'Gone');
    const res = await gw.request(`/v1/admin/tenants/${t.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${gw.adminToken}` } });
    expect(res.status).toBe(204);
    expect(await gw.db.admin`SELECT 1 FROM pg_database WHERE datname = ${databaseOf(t)}`).toEqual([]);
    expect(await gw.db.admin`SELECT 1 FROM pg_roles WHERE rolname = ${t.db_user}`).toEqual([]);
    await waitFor(async () => (await gw.request('/v1/internal/users', { headers: headers(t) })).status === 404, 5000, 'a 404 for the deleted tenant');
  });
});

describe('cold database tenants under the connection budget', () => {
  it('open a pool on the request path; an idle pool gives its connections back when the budget is spent', async () => {
    // Catalog 3 + shared 4 + room for two one-connection pools.
    const small = await startTestGateway({ pool: { maxConnectionsTotal: 9 } });
    try {
      const tenants = [];
      for (let i = 0; i < 4; i++) tenants.push(await small.createTenant(undefined, 'database'));
      for (const t of [...tenants, ...tenants]) {
        const res = await small.request('/v1/internal/users', { headers: headers(t) });
        expect(res.status, await res.clone().text()).toBe(200);
        expect(small.gateway.budget.reserved()).toBeLessThanOrEqual(9);
      }
      const stats = small.gateway.registry.stats();
      expect(stats.dedicatedOpen).toBeLessThanOrEqual(2);
      expect(stats.evicted).toBeGreaterThanOrEqual(6);
    } finally {
      await small.close();
    }
  }, 60_000);

  it('get 503 with Retry-After when no pool can give way', async () => {
    const small = await startTestGateway({ pool: { maxConnectionsTotal: 8 } });
    try {
      const busy = await small.createTenant(undefined, 'database');
      const cold = await small.createTenant(undefined, 'database');
      // The one connection the budget leaves: busy's pool (opened by a request), held by a statement.
      expect((await small.request('/v1/internal/users', { headers: headers(busy) })).status).toBe(200);
      const holding = small.gateway.registry.run(busy.id, (sql) => sql`SELECT pg_sleep(2)`);
      await waitFor(() => small.gateway.registry.stats().dedicatedInUse === 1, 5000, 'busy pool in use');
      const res = await small.request('/v1/internal/users', { headers: headers(cold) });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.json()).toMatchObject({ error: { code: 'pool_budget_exhausted' } });
      await holding;
      expect((await small.request('/v1/internal/users', { headers: headers(cold) })).status).toBe(200);
    } finally {
      await small.close();
    }
  }, 60_000);
});

describe('tenant-data migrations of database tenants', () => {
  it('bring each database to the latest version through its own ledger, resumably and once', async () => {
    const shipped = await loadTenantMigrations();
    const next = shipped.latest + 1;
    const dir = await mkdtemp(join(tmpdir(), 'tenantgate-database-migrations-'));
    try {
      await cp(TENANT_MIGRATIONS_DIR, dir, { recursive: true });
      await writeFile(join(dir, `${String(next).padStart(3, '0')}_nickname.sql`), 'ALTER TABLE users ADD COLUMN nickname text;\n');
      const v2 = await loadTenantMigrations(dir);
      const opened: string[] = [];
      const openDatabase = async (server: string, database: string): Promise<Sql> => {
        expect(server).toBe('main');
        opened.push(database);
        return connectTenantDatabase(gw.db.url, database);
      };
      const behindBefore = (await tenantMigrationStatus(gw.db.admin, v2)).behind;
      const run = await migrateTenantSchemas(gw.db.admin, v2, { concurrency: 2, openDatabase });
      expect(run.failed).toEqual([]);
      expect(run.migrated).toBe(behindBefore);
      expect(opened).toContain(databaseOf(a));
      const [row] = await gw.db.admin`SELECT data_version, data_failure FROM tenants WHERE id = ${a.id}`;
      expect(row).toEqual({ data_version: next, data_failure: null });
      const ledger = await gw.adminOf(a.id)<{ version: number }[]>`SELECT version FROM public.tenant_data_migrations ORDER BY version`;
      expect(ledger.map((l) => l.version)).toEqual(v2.list.map((m) => m.version));
      const [column] = await gw.adminOf(a.id)`
        SELECT count(*)::int AS n FROM information_schema.columns
        WHERE table_schema = ${`s_${a.db_user.slice(2)}`} AND table_name = 'users' AND column_name = 'nickname'`;
      expect(column).toEqual({ n: 1 });
      // The catalog fell behind its database (a run that died between the two): the ledger says it is
      // there, so nothing is applied twice and the catalog catches up.
      await gw.db.admin`UPDATE tenants SET data_version = ${shipped.latest} WHERE id = ${b.id}`;
      const again = await migrateTenantSchemas(gw.db.admin, v2, { concurrency: 2, openDatabase });
      expect(again).toMatchObject({ behind: 1, migrated: 1, failed: [] });
      expect((await gw.db.admin`SELECT data_version FROM tenants WHERE id = ${b.id}`)[0]).toEqual({ data_version: next });
      expect((await tenantMigrationStatus(gw.db.admin, v2)).behind).toBe(0);
      // This gateway's build needs only the shipped version: the tenant is still served.
      expect(await names(a)).toEqual(['Alice', 'Anna']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a tenant behind the build is refused with a retryable 503 until it is migrated', async () => {
    const t = await gw.createTenant(undefined, 'database');
    await gw.db.admin`UPDATE tenants SET data_version = 1 WHERE id = ${t.id}`;
    await waitFor(async () => (await gw.request('/v1/internal/users', { headers: headers(t) })).status === 503, 5000, 'a 503 for the tenant behind');
  });
});

describe('the catalog', () => {
  it("refuses a database tenant whose data name is not d_ and its id's hex", async () => {
    await expect(gw.db.admin`UPDATE tenants SET data_name = 'd_x' WHERE id = ${a.id}`).rejects.toMatchObject({ constraint_name: 'tenants_data_name_model' });
    await expect(gw.db.admin`UPDATE tenants SET data_name = ${`s_${a.db_user.slice(2)}`} WHERE id = ${a.id}`).rejects.toMatchObject({
      constraint_name: 'tenants_data_name_model',
    });
  });
});

describe('a database tenant on a data server', () => {
  it('has its database and role there, not on main; is served, isolated, migrated there, and dropped there', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tenantgate-dbmodel-server-'));
    await chmod(dataDir, 0o755);
    const server = await startPostgresServer({
      dataDir,
      port: await freePort(),
      superuserPassword: randomBytes(18).toString('base64url'),
      database: 'tenantgate',
    });
    const owner = postgres(server.url, { max: 1, onnotice: () => {} });
    try {
      await gw.gateway.serverCatalog.add({ name: 'data1', url: server.url, maxConnections: 20 });
      const res = await gw.request('/v1/admin/tenants', {
        method: 'POST',
        headers: { authorization: `Bearer ${gw.adminToken}` },
        json: { name: `far-${randomBytes(3).toString('hex')}`, model: 'database', server: 'data1' },
      });
      expect(res.status, await res.clone().text()).toBe(201);
      const far = (await res.json()) as Created & { server: string; model: string };
      expect(far).toMatchObject({ server: 'data1', model: 'database' });
      const exists = async (sql: Sql): Promise<{ database: boolean; role: boolean }> => {
        const [row] = await sql<{ database: boolean; role: boolean }[]>`
          SELECT EXISTS (SELECT FROM pg_database WHERE datname = ${databaseOf(far)}) AS database,
                 EXISTS (SELECT FROM pg_roles WHERE rolname = ${far.db_user}) AS role`;
        return row as { database: boolean; role: boolean };
      };
      expect(await exists(owner)).toEqual({ database: true, role: true });
      expect(await exists(gw.db.admin)).toEqual({ database: false, role: false });

      await create(far, 'Faraway');
      expect(await names(far)).toEqual(['Faraway']);
      expect(await names(a)).toEqual(['Alice', 'Anna']);

      // Its role reaches its own database on data1 only: not the data server's catalog database.
      const [row] = await gw.db.admin<{ sealed: string }[]>`SELECT db_password_encrypted AS sealed FROM tenants WHERE id = ${far.id}`;
      const login = (database: string): Sql => {
        const url = new URL(withDatabase(server.url, database));
        url.username = far.db_user;
        url.password = gw.keys.open(row?.sealed ?? '');
        return postgres(url.toString(), { max: 1, onnotice: () => {}, fetch_types: false });
      };
      for (const [database, allowed] of [
        [databaseOf(far), true],
        ['tenantgate', false],
      ] as const) {
        const sql = login(database);
        try {
          if (allowed) expect(await sql`SELECT current_database() AS d`).toEqual([{ d: database }]);
          else await expect(sql`SELECT 1`).rejects.toMatchObject({ code: '42501' });
        } finally {
          await sql.end({ timeout: 1 });
        }
      }

      // The migration runner reaches it on its server (the catalog behind its database's ledger).
      await gw.db.admin`UPDATE tenants SET data_version = 1 WHERE id = ${far.id}`;
      const latest = (await loadTenantMigrations()).latest;
      const run = await migrateTenantSchemas(gw.db.admin, await loadTenantMigrations(), {
        concurrency: 1,
        openDatabase: async (name, database) => connectTenantDatabase((await gw.gateway.servers.record(name)).url, database),
      });
      expect(run.failed).toEqual([]);
      expect(await gw.db.admin`SELECT data_version FROM tenants WHERE id = ${far.id}`).toEqual([{ data_version: latest }]);

      const deleted = await gw.request(`/v1/admin/tenants/${far.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${gw.adminToken}` } });
      expect(deleted.status).toBe(204);
      expect(await exists(owner)).toEqual({ database: false, role: false });
    } finally {
      await owner.end({ timeout: 1 });
      await gw.gateway.poolSets.drop('data1').catch(() => undefined);
      await gw.gateway.servers.forget('data1');
      await gw.gateway.serverCatalog.remove('data1').catch(() => undefined);
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
