// The gateway on a real 3-node Citus cluster (coordinator + 2 workers, PostgreSQL 15 + Citus 13.2,
// password authentication on): its catalog on the coordinator, `users` distributed by tenant_id, schema
// tenants as distributed schemas. Through HTTP: the users API under both models, isolation across shards
// and workers, rotation, suspension, deletion, a stopped worker (its tenants 503, the others served),
// and the shared role's worker connections bounded. Every statement the users API runs is planned as a
// single-shard router query (EXPLAIN: Task Count 1). A second cluster is added as a data server of a
// gateway whose catalog is on plain PostgreSQL. Skipped, saying how to install Citus, where it is missing.
import postgres, { type Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteLiteral } from '../../src/db/quote.js';
import { renderBound, type StatementBuilder } from '../../src/db/statement.js';
import { SHARED_TABLES, schemaTables, type TenantTables } from '../../src/db/tenant-tables.js';
import { idempotentWriteStatement, releaseExpiredKeyStatement } from '../../src/idempotency/statements.js';
import { ensureAuthenticator } from '../../src/pool/authenticator.js';
import { parseListParams } from '../../src/users/list-params.js';
import { countUsersStatement, createUserStatement, listUsersStatement, type TenantScope } from '../../src/users/queries.js';
import { createUserWrite, deleteUserStatement, getUserStatement, updateUserStatement, updateUserWrite } from '../../src/users/user-statements.js';
import { skipWithoutCitus, startCitusCluster, type CitusCluster } from '../support/citus-cluster.js';
import { waitFor } from '../support/database.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const USERS = '/v1/internal/users';
const TENANTS = '/v1/admin/tenants';
const skip = skipWithoutCitus();

interface Tenant {
  readonly id: string;
  readonly db_user: string;
  readonly model: 'rls' | 'schema';
}
interface User {
  readonly id: string;
  readonly first_name: string;
}

let cluster: CitusCluster;
let gw: TestGateway;

const admin = (method: string, path: string, json?: unknown): Promise<Response> =>
  gw.request(path, { method, headers: { authorization: `Bearer ${gw.adminToken}` }, ...(json === undefined ? {} : { json }) });
const asTenant = (tenant: string, method: string, path: string, json?: unknown, headers: Record<string, string> = {}): Promise<Response> =>
  gw.request(path, { method, headers: { 'x-tenant-id': tenant, ...headers }, ...(json === undefined ? {} : { json }) });

async function addUser(tenant: string, firstName: string): Promise<User> {
  const res = await asTenant(tenant, 'POST', USERS, { first_name: firstName, last_name: 'Citus' });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as User;
}

async function names(tenant: string): Promise<string[]> {
  const res = await asTenant(tenant, 'GET', `${USERS}?page_size=100&sort_column=first_name&sort_direction=ascending`);
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { records: User[] }).records.map((u) => u.first_name);
}

/** The worker port that holds a tenant's rows: its users shard's node (rls), its schema's node (schema). */
async function workerOf(sql: Sql, tenant: Tenant): Promise<number> {
  const [row] =
    tenant.model === 'rls'
      ? await sql<{ port: number }[]>`
          SELECT nodeport AS port FROM citus_shards
          WHERE table_name = 'public.users'::regclass AND shardid = get_shard_id_for_distribution_column('public.users', ${tenant.id}::uuid)`
      : await sql<{ port: number }[]>`
          SELECT nodeport AS port FROM citus_shards WHERE table_name = ${`s_${tenant.db_user.slice(2)}.users`}::regclass`;
  if (!row) throw new Error(`no shard for tenant ${tenant.id}`);
  return row.port;
}

describe.skipIf(skip)('the gateway on a Citus cluster', () => {
  // Six of each model: rls tenants hash over 32 shards on both workers, schemas go round-robin.
  const rls: Tenant[] = [];
  const schema: Tenant[] = [];

  beforeAll(async () => {
    cluster = await startCitusCluster();
    gw = await startTestGateway({ database: cluster.asDatabase(), pool: { promoteRps: 1 } });
    for (let i = 0; i < 6; i++) {
      rls.push((await gw.createTenant(`rls-${i}`, 'rls')) as Tenant);
      schema.push((await gw.createTenant(`schema-${i}`, 'schema')) as Tenant);
    }
  }, 180_000);

  afterAll(async () => {
    await gw?.close();
    await cluster?.destroy();
  });

  it('distributes the tenant tables by tenant_id, colocated, and keeps the catalog on the coordinator', async () => {
    const distributed = await cluster.coordinator<{ table: string; column: string; colocation: number }[]>`
      SELECT logicalrelid::text AS table, column_to_column_name(logicalrelid, partkey) AS column, colocationid AS colocation
      FROM pg_dist_partition WHERE logicalrelid IN ('public.users'::regclass, 'public.idempotency_keys'::regclass)
      ORDER BY 1`;
    expect(distributed.map((d) => [d.table, d.column])).toEqual([
      ['idempotency_keys', 'tenant_id'],
      ['users', 'tenant_id'],
    ]);
    expect(distributed[0]?.colocation).toBe(distributed[1]?.colocation);
    // Sealed passwords and the change feed's tables never reach a worker.
    for (const table of ['tenants', 'servers', 'gateway_settings', 'tenant_events']) {
      expect(await cluster.coordinator`SELECT 1 FROM pg_dist_partition WHERE logicalrelid = ${`public.${table}`}::regclass`, table).toHaveLength(0);
      for (const port of cluster.workerPorts) {
        expect(await cluster.worker(port)`SELECT to_regclass(${`public.${table}`}) AS t`, table).toEqual([{ t: null }]);
      }
    }
    // Each schema tenant is a distributed schema: one colocation group on one worker.
    const schemas = await cluster.coordinator<{ schema_name: string }[]>`SELECT schema_name::text FROM citus_schemas`;
    expect(schemas.map((s) => s.schema_name).sort()).toEqual(schema.map((t) => `s_${t.db_user.slice(2)}`).sort());
  });

  it('spreads tenants over both workers', async () => {
    const ports = new Set<number>();
    for (const t of [...rls, ...schema]) ports.add(await workerOf(cluster.coordinator, t));
    expect([...ports].sort()).toEqual([...cluster.workerPorts].sort());
  });

  it('serves the users API for rls and schema tenants: create, list, read, update, delete, idempotent create', async () => {
    for (const tenant of [rls[0], schema[0]] as Tenant[]) {
      const ann = await addUser(tenant.id, 'Ann');
      await addUser(tenant.id, 'Bob');
      expect(await names(tenant.id)).toEqual(['Ann', 'Bob']);
      const read = await asTenant(tenant.id, 'GET', `${USERS}/${ann.id}`);
      expect(read.status).toBe(200);
      const patched = await asTenant(tenant.id, 'PATCH', `${USERS}/${ann.id}`, { first_name: 'Anna', confirmed: true });
      expect(patched.status, await patched.clone().text()).toBe(200);
      expect(await patched.json()).toMatchObject({ first_name: 'Anna', confirmed: true });
      const search = await asTenant(tenant.id, 'GET', `${USERS}?search=ann&count=exact`);
      expect(((await search.json()) as { total: number }).total).toBe(1);
      // Idempotent create: the second request replays the first answer, one row.
      const key = { 'idempotency-key': `k-${tenant.id}` };
      const first = await asTenant(tenant.id, 'POST', USERS, { first_name: 'Once', last_name: 'Only' }, key);
      const again = await asTenant(tenant.id, 'POST', USERS, { first_name: 'Once', last_name: 'Only' }, key);
      expect(first.status, await first.clone().text()).toBe(201);
      expect(again.status).toBe(201);
      expect(((await again.json()) as User).id).toBe(((await first.json()) as User).id);
      expect(await names(tenant.id)).toEqual(['Anna', 'Bob', 'Once']);
      // Cursor paging.
      const page = await asTenant(tenant.id, 'GET', `${USERS}?page_size=2&sort_column=first_name&sort_direction=ascending&count=none`);
      const { next_cursor: cursor } = (await page.json()) as { next_cursor: string };
      const next = await asTenant(
        tenant.id,
        'GET',
        `${USERS}?page_size=2&sort_column=first_name&sort_direction=ascending&count=none&cursor=${encodeURIComponent(cursor)}`,
      );
      expect(((await next.json()) as { records: User[] }).records.map((u) => u.first_name)).toEqual(['Once']);
      const deleted = await asTenant(tenant.id, 'DELETE', `${USERS}/${ann.id}`);
      expect(deleted.status).toBe(204);
      expect(await names(tenant.id)).toEqual(['Bob', 'Once']);
    }
  });

  it("keeps tenants apart across shards and workers: no tenant reads, changes or deletes another one's rows", async () => {
    const all = [...rls, ...schema];
    const own = new Map<string, User>();
    for (const t of all) own.set(t.id, await addUser(t.id, `own-${t.id.slice(0, 8)}`));
    for (const t of all) {
      const seen = await names(t.id);
      expect(seen).toContain(`own-${t.id.slice(0, 8)}`);
      expect(seen.filter((n) => n.startsWith('own-'))).toEqual([`own-${t.id.slice(0, 8)}`]);
      // Every other tenant's user, whichever worker it is on, is not found for this one.
      for (const other of all) {
        if (other.id === t.id) continue;
        const theirs = own.get(other.id) as User;
        expect((await asTenant(t.id, 'GET', `${USERS}/${theirs.id}`)).status).toBe(404);
        expect((await asTenant(t.id, 'PATCH', `${USERS}/${theirs.id}`, { first_name: 'Stolen' })).status).toBe(404);
        expect((await asTenant(t.id, 'DELETE', `${USERS}/${theirs.id}`)).status).toBe(404);
      }
    }
    // Nothing changed hands: each row is on its tenant's worker under its tenant's id.
    for (const t of all) {
      const user = own.get(t.id) as User;
      const table = t.model === 'rls' ? 'public.users' : `s_${t.db_user.slice(2)}.users`;
      const [row] = await cluster.coordinator.unsafe(`SELECT tenant_id::text, first_name FROM ${table} WHERE id = $1`, [user.id]);
      expect(row).toEqual({ tenant_id: t.id, first_name: `own-${t.id.slice(0, 8)}` });
    }
  });

  it('fails closed on the workers: the shared role without a transaction-local scope reads no row and writes none', async () => {
    const login = await ensureAuthenticator(gw.gateway.catalog, gw.keys);
    const shared = postgres({ host: '127.0.0.1', port: cluster.coordinatorPort, database: 'postgres', ...login, max: 1, onnotice: () => {} });
    try {
      const tenant = rls[1] as Tenant;
      await addUser(tenant.id, 'Visible');
      // A session-level scope stays on the coordinator: the workers, where the rows are, see none.
      await shared.unsafe(`SET tenantgate.tenant_id = ${quoteLiteral(tenant.id)}`);
      expect(await shared`SELECT count(*)::int AS n FROM public.users WHERE tenant_id = ${tenant.id}`).toEqual([{ n: 0 }]);
      expect(await shared`SELECT count(*)::int AS n FROM public.users`).toEqual([{ n: 0 }]);
      // The transaction form reaches them, for this tenant's rows only.
      const scoped = await shared.begin(async (tx) => {
        await tx.unsafe(`SET LOCAL tenantgate.tenant_id = ${quoteLiteral(tenant.id)}`);
        return tx<{ n: number }[]>`SELECT count(*)::int AS n FROM public.users`;
      });
      expect(scoped[0]?.n).toBeGreaterThan(0);
      const [counted] = await cluster.coordinator<{ n: number }[]>`SELECT count(*)::int AS n FROM public.users WHERE tenant_id = ${tenant.id}`;
      expect(scoped[0]?.n).toBe(counted?.n);
      // No scope at all: an insert is refused, not written.
      await shared.unsafe('RESET tenantgate.tenant_id');
      await expect(shared`INSERT INTO public.users (tenant_id, first_name, last_name) VALUES (${tenant.id}, 'x', 'y')`).rejects.toMatchObject({
        code: 'TG001',
      });
    } finally {
      await shared.end({ timeout: 1 });
    }
  });

  it('plans every users-API statement as a single-shard router query (EXPLAIN: Task Count 1), under both models', async () => {
    const login = await ensureAuthenticator(gw.gateway.catalog, gw.keys);
    const shared = postgres({ host: '127.0.0.1', port: cluster.coordinatorPort, database: 'postgres', ...login, max: 1, onnotice: () => {} });
    try {
      for (const tenant of [rls[2], schema[2]] as Tenant[]) {
        const tables: TenantTables = tenant.model === 'rls' ? SHARED_TABLES : schemaTables(`s_${tenant.db_user.slice(2)}`);
        const user = await addUser(tenant.id, 'Planned');
        const scope: TenantScope = { tenantId: tenant.id, checkContext: true };
        const list = (query: string): StatementBuilder => listUsersStatement(scope, parseListParams(new URLSearchParams(query)));
        const count = (query: string): StatementBuilder => countUsersStatement(scope, parseListParams(new URLSearchParams(query)));
        const record = { key: 'plan-key', fingerprint: 'f', status: 201, ttlSeconds: 60 };
        const statements: [string, StatementBuilder][] = [
          ['list', list('')],
          [
            'list sorted, searched, filtered',
            list('sort_column=last_name&sort_direction=ascending&search=plan&confirmed=false&date_column=created_at&date_after=2020-01-01T00:00:00Z'),
          ],
          ['list, exact count', list('count=exact&page=2&page_size=5')],
          ['list, no count', list('count=none')],
          ['count', count('search=x')],
          ['create', createUserStatement(scope, { firstName: 'A', lastName: 'B' })],
          ['read', getUserStatement(scope, user.id)],
          ['update', updateUserStatement(scope, user.id, { firstName: 'C' })],
          ['delete', deleteUserStatement(scope, user.id)],
          ['idempotent create', idempotentWriteStatement(scope, record, createUserWrite(scope, { firstName: 'A', lastName: 'B' }))],
          ['idempotent update', idempotentWriteStatement(scope, record, (w, guard) => updateUserWrite(scope, user.id, { lastName: 'D' })(w, guard))],
          ['release an expired key', releaseExpiredKeyStatement(scope, 'plan-key')],
        ];
        // An idempotent write's pin (src/db/statement.ts) is a statement of its own, on the shard alone.
        const bound = statements.flatMap(([name, build]) => {
          const statement = renderBound(build, tables);
          return statement.pin === undefined ? [[name, statement] as const] : [[name, statement] as const, [`${name}'s pin`, statement.pin] as const];
        });
        expect(bound.filter(([name]) => name.endsWith('pin'))).toHaveLength(2);
        for (const [name, { text, params }] of bound) {
          const plan = await shared.begin(async (tx) => {
            await tx.unsafe(`SET LOCAL tenantgate.tenant_id = ${quoteLiteral(tenant.id)}`);
            return tx.unsafe<{ 'QUERY PLAN': string }[]>(`EXPLAIN ${text}`, params as never[]);
          });
          const lines = plan.map((r) => r['QUERY PLAN']).join('\n');
          const what = `${tenant.model} ${name}:\n${lines}`;
          expect(lines, what).toMatch(/Custom Scan \(Citus/);
          const counts = lines.match(/Task Count: (\d+)/g) ?? [];
          // Every task on a table runs on the tenant's worker, on its shard alone (a task that only
          // reads subplans' intermediate results may run on the coordinator).
          const nodes = new Set([...lines.matchAll(/Node: host=\S+ port=(\d+)/g)].map((m) => Number(m[1])));
          nodes.delete(cluster.coordinatorPort);
          expect([...nodes], what).toEqual([await workerOf(cluster.coordinator, tenant)]);
          if (name.startsWith('idempotent') && !name.endsWith('pin')) {
            // Citus plans an INSERT … SELECT in a CTE on its own: the idempotent write's CTEs become
            // subplans run one after another on that one shard, in the request's transaction.
            expect(counts.length, what).toBeGreaterThan(1);
            expect(new Set(counts), what).toEqual(new Set(['Task Count: 1']));
          } else {
            expect(counts, what).toEqual(['Task Count: 1']);
          }
        }
      }
    } finally {
      await shared.end({ timeout: 1 });
    }
  });

  it('rotates a tenant password on every node, and keeps serving the tenant', async () => {
    const tenant = rls[3] as Tenant;
    await addUser(tenant.id, 'BeforeRotation');
    const before = await Promise.all(
      [cluster.coordinator, ...cluster.workerPorts.map((p) => cluster.worker(p))].map(
        (sql) => sql`SELECT rolpassword FROM pg_authid WHERE rolname = ${tenant.db_user}`,
      ),
    );
    const res = await admin('POST', `${TENANTS}/${tenant.id}/rotate`);
    expect(res.status, await res.clone().text()).toBe(200);
    const after = await Promise.all(
      [cluster.coordinator, ...cluster.workerPorts.map((p) => cluster.worker(p))].map(
        (sql) => sql`SELECT rolpassword FROM pg_authid WHERE rolname = ${tenant.db_user}`,
      ),
    );
    // The new verifier reached the coordinator and both workers, and is the same everywhere.
    for (const [i, rows] of after.entries()) {
      expect(rows[0]?.rolpassword).toMatch(/^SCRAM-SHA-256\$/);
      expect(rows[0]?.rolpassword).not.toBe(before[i]?.[0]?.rolpassword);
      expect(rows[0]?.rolpassword).toBe(after[0]?.[0]?.rolpassword);
    }
    expect(await names(tenant.id)).toContain('BeforeRotation');
    await addUser(tenant.id, 'AfterRotation');
  });

  it('suspends and resumes a tenant: 403 while suspended, its rows untouched', async () => {
    const tenant = schema[3] as Tenant;
    await addUser(tenant.id, 'Kept');
    expect((await admin('POST', `${TENANTS}/${tenant.id}/suspend`)).status).toBe(200);
    await waitFor(async () => (await asTenant(tenant.id, 'GET', USERS)).status === 403, 5000, 'suspension to apply');
    const refused = await asTenant(tenant.id, 'POST', USERS, { first_name: 'No', last_name: 'Way' });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('tenant_suspended');
    expect((await admin('POST', `${TENANTS}/${tenant.id}/resume`)).status).toBe(200);
    await waitFor(async () => (await asTenant(tenant.id, 'GET', USERS)).status === 200, 5000, 'resumption to apply');
    expect(await names(tenant.id)).toContain('Kept');
  });

  it('deletes a tenant with its rows on the workers and its schema', async () => {
    for (const tenant of [rls[4], schema[4]] as Tenant[]) {
      await addUser(tenant.id, 'Doomed');
      const port = await workerOf(cluster.coordinator, tenant);
      expect((await admin('DELETE', `${TENANTS}/${tenant.id}`)).status).toBe(204);
      if (tenant.model === 'rls') {
        expect(await cluster.coordinator`SELECT 1 FROM public.users WHERE tenant_id = ${tenant.id}`).toHaveLength(0);
        expect(await cluster.coordinator`SELECT 1 FROM public.idempotency_keys WHERE tenant_id = ${tenant.id}`).toHaveLength(0);
      } else {
        const name = `s_${tenant.db_user.slice(2)}`;
        expect(await cluster.coordinator`SELECT 1 FROM citus_schemas WHERE schema_name::text = ${name}`).toHaveLength(0);
        expect(await cluster.worker(port)`SELECT 1 FROM pg_namespace WHERE nspname = ${name}`).toHaveLength(0);
      }
      expect(await cluster.worker(port)`SELECT 1 FROM pg_roles WHERE rolname = ${tenant.db_user}`).toHaveLength(0);
      expect((await asTenant(tenant.id, 'GET', USERS)).status).toBe(404);
    }
  });

  it('refuses a database-model tenant on a Citus server with 422', async () => {
    const res = await admin('POST', TENANTS, { name: 'own-database', model: 'database' });
    expect(res.status).toBe(422);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('model_unsupported');
    expect(error.message).toContain('model');
  });

  it('keeps worker connections bounded: the shared role holds at most one per shared connection on each worker', async () => {
    const live = [...rls, ...schema].filter((t) => t !== rls[4] && t !== schema[4]);
    // Busy enough that a plain gateway would promote tenants to pools of their own (PROMOTE_RPS=1 here).
    await Promise.all(
      Array.from({ length: 8 }, async (_, worker) => {
        for (let i = 0; i < 40; i++) {
          const tenant = live[(worker + i) % live.length] as Tenant;
          const res = await asTenant(tenant.id, 'GET', `${USERS}?page_size=5`);
          expect(res.status).toBe(200);
        }
      }),
    );
    expect(gw.gateway.registry.stats().dedicatedOpen).toBe(0);
    const login = await ensureAuthenticator(gw.gateway.catalog, gw.keys);
    const tenantRoles = live.map((t) => t.db_user);
    for (const port of cluster.workerPorts) {
      const rows = await cluster.worker(port)<{ role: string; n: number }[]>`
        SELECT usename::text AS role, count(*)::int AS n FROM pg_stat_activity
        WHERE datname = 'postgres' AND usename IS NOT NULL GROUP BY usename`;
      const shared = rows.find((r) => r.role === login.username)?.n ?? 0;
      // 4 shared connections to the coordinator (the test gateway's SHARED_POOL_MAX), one cached
      // connection each per worker at most; no tenant role ever logs in on a worker.
      expect(shared, JSON.stringify(rows)).toBeGreaterThan(0);
      expect(shared, JSON.stringify(rows)).toBeLessThanOrEqual(4);
      expect(
        rows.filter((r) => tenantRoles.includes(r.role)),
        JSON.stringify(rows),
      ).toEqual([]);
    }
  });

  it('answers 503 with Retry-After for the tenants of a stopped worker, promptly, and serves the others; recovers when it is back', async () => {
    const live = [...rls, ...schema].filter((t) => t !== rls[4] && t !== schema[4]);
    const stopped = cluster.workerPorts[0] as number;
    const on = new Map<string, number>();
    for (const t of live) on.set(t.id, await workerOf(cluster.coordinator, t));
    const down = live.filter((t) => on.get(t.id) === stopped);
    const up = live.filter((t) => on.get(t.id) !== stopped);
    expect(down.length).toBeGreaterThan(0);
    expect(up.length).toBeGreaterThan(0);
    await cluster.stopNode(stopped);
    try {
      for (const t of down) {
        const started = Date.now();
        const res = await asTenant(t.id, 'GET', USERS);
        expect(res.status, `${t.model} ${await res.clone().text()}`).toBe(503);
        expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(Date.now() - started).toBeLessThan(5000);
        const write = await asTenant(t.id, 'POST', USERS, { first_name: 'Lost', last_name: 'Write' });
        expect(write.status).toBe(503);
      }
      for (const t of up) {
        expect((await asTenant(t.id, 'GET', USERS)).status, t.model).toBe(200);
        await addUser(t.id, 'DuringOutage');
      }
    } finally {
      await cluster.startNode(stopped);
    }
    for (const t of down) {
      await waitFor(async () => (await asTenant(t.id, 'GET', USERS)).status === 200, 15_000, `tenant on worker ${stopped} served again`);
      expect(await names(t.id)).not.toContain('Lost');
    }
  });
});

describe.skipIf(skip)('a Citus cluster as a data server', () => {
  let second: CitusCluster;
  let main: TestGateway;

  beforeAll(async () => {
    second = await startCitusCluster();
    main = await startTestGateway({ pool: { promoteRps: 1 } });
  }, 180_000);

  afterAll(async () => {
    await main?.close();
    await second?.destroy();
  });

  it('is added through the servers API, distributed there, and serves its tenants apart from main', async () => {
    const call = (method: string, path: string, json?: unknown): Promise<Response> =>
      main.request(path, { method, headers: { authorization: `Bearer ${main.adminToken}` }, ...(json === undefined ? {} : { json }) });
    const added = await call('POST', '/v1/admin/servers', { name: 'citus', url: second.url, max_connections: 30 });
    expect(added.status, await added.clone().text()).toBe(201);
    expect(await second.coordinator`SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'public.users'::regclass`).toHaveLength(1);
    const onCitus = await main.createTenant('on-citus', 'rls', 'citus');
    const onSchema = await main.createTenant('on-citus-schema', 'schema', 'citus');
    const onMain = await main.createTenant('on-main', 'rls', 'main');
    for (const t of [onCitus, onSchema, onMain]) {
      const res = await main.request(USERS, { method: 'POST', headers: { 'x-tenant-id': t.id }, json: { first_name: t.id.slice(0, 8), last_name: 'X' } });
      expect(res.status, await res.clone().text()).toBe(201);
    }
    for (const t of [onCitus, onSchema, onMain]) {
      const res = await main.request(`${USERS}?page_size=100`, { headers: { 'x-tenant-id': t.id } });
      expect(((await res.json()) as { records: User[] }).records.map((u) => u.first_name)).toEqual([t.id.slice(0, 8)]);
    }
    // The rls tenant's row is in a shard on a worker, not on main.
    expect(await second.coordinator`SELECT 1 FROM public.users WHERE tenant_id = ${onCitus.id}`).toHaveLength(1);
    expect(await main.db.admin`SELECT 1 FROM public.users WHERE tenant_id = ${onCitus.id}`).toHaveLength(0);
    // The shared role of the data server may log in to the workers (pg_dist_authinfo), and only it.
    const [auth] = await second.coordinator<{ role: string }[]>`SELECT value AS role FROM gateway_settings WHERE key = 'authenticator_role'`;
    expect(await second.coordinator<{ rolename: string }[]>`SELECT rolename::text FROM pg_dist_authinfo`).toEqual([{ rolename: auth?.role }]);
    const refused = await call('POST', '/v1/admin/tenants', { name: 'citus-db', model: 'database', server: 'citus' });
    expect(refused.status).toBe(422);
  });
});
