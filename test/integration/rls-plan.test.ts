// The RLS predicates must stay cheap as tenants grow: with 1,000+ tenants, a tenant's query plan reads
// users through an index on tenant_id and never touches the tenants table (the reference service's
// `text = current_user` predicate scanned it on every query), on a dedicated pool (the tenant's role)
// and on the shared pool (the shared role and its scope), for custom and generic plans alike.
import postgres, { type Sql } from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { quoteLiteral } from '../../src/db/quote.js';
import { renderBound, type BoundStatement } from '../../src/db/statement.js';
import { ensureAuthenticator } from '../../src/pool/authenticator.js';
import { parseListParams } from '../../src/users/list-params.js';
import { countUsersStatement, listUsersStatement } from '../../src/users/queries.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let tenant: { id: string; db_user: string };
let shared: Sql;

type PlanNode = { 'Node Type': string; 'Relation Name'?: string; 'Index Cond'?: string; Plans?: PlanNode[] };

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

beforeAll(async () => {
  gw = await startTestGateway();
  tenant = await gw.createTenant();
  // 1,200 more catalog rows and 24,000 users spread over them, in bulk (roles are not needed for the
  // plan: the predicate never reads the catalog).
  await gw.db.admin`
    INSERT INTO tenants (id, name, db_user, db_password_encrypted)
    SELECT gen_random_uuid(), 'bulk-' || g, 't_bulk_' || g, 'x' FROM generate_series(1, 1200) g`;
  await gw.db.admin`
    INSERT INTO users (tenant_id, first_name, last_name)
    SELECT t.id, 'F' || g, 'L' || g FROM tenants t, generate_series(1, 20) g WHERE t.name LIKE 'bulk-%'`;
  for (let i = 0; i < 30; i++) {
    await gw.request('/v1/internal/users', {
      method: 'POST',
      headers: { 'x-tenant-id': tenant.id },
      json: { first_name: `Own${i}`, last_name: 'User' },
    });
  }
  await gw.db.admin`ANALYZE tenants`;
  await gw.db.admin`ANALYZE users`;
  const login = await ensureAuthenticator(gw.gateway.catalog, gw.keys);
  shared = postgres(gw.db.url, { ...login, max: 1, onnotice: () => {} });
  await shared.unsafe("SELECT set_config('tenantgate.tenant_id', $1, false)", [tenant.id]);
}, 120_000);

afterAll(async () => {
  await shared?.end();
  await gw?.close();
});

const bound = (build: (scope: { tenantId: string; checkContext: boolean }) => Parameters<typeof renderBound>[0]) => (): BoundStatement =>
  renderBound(build({ tenantId: tenant.id, checkContext: true }));
const list = (query: string) => bound((scope) => listUsersStatement(scope, parseListParams(new URLSearchParams(query))));
const plain = (text: string) => (): BoundStatement => ({ text, params: [] });

const queries: [string, () => BoundStatement][] = [
  ["the gateway's list statement", list('')],
  ["the gateway's list statement with search and filters", list('search=own&confirmed=false&sort_column=first_name')],
  ["the gateway's list statement with an exact count", list('count=exact&sort_column=last_name&sort_direction=ascending')],
  ["the gateway's count for pages past the end", bound((scope) => countUsersStatement(scope, parseListParams(new URLSearchParams(''))))],
  ['a hand-written list page', plain('SELECT * FROM public.users ORDER BY created_at DESC, id DESC LIMIT 10')],
  ['a hand-written total count', plain('SELECT count(*) FROM public.users')],
  ['a hand-written search', plain("SELECT * FROM public.users WHERE first_name ILIKE '%own1%' ORDER BY first_name LIMIT 10")],
];

type Path = 'dedicated' | 'shared';
const cases = queries.flatMap(([name, statement]) =>
  (['dedicated', 'shared'] as Path[]).flatMap((path) => (['custom plan', 'generic plan'] as const).map((mode) => [name, path, mode, statement] as const)),
);

/**
 * A custom plan is made for the bound values; a generic plan (what a prepared statement may settle on)
 * for none. The generic one is the plan of the statement prepared under `force_generic_plan`, which
 * every version has (EXPLAIN's GENERIC_PLAN option exists only from PostgreSQL 16).
 */
async function explain(path: Path, mode: string, statement: BoundStatement): Promise<PlanNode> {
  const run = (sql: Sql) =>
    mode === 'generic plan' ? explainGeneric(sql, statement) : sql.unsafe(`EXPLAIN (FORMAT JSON) ${statement.text}`, statement.params);
  const [row] = path === 'dedicated' ? await gw.gateway.registry.run(tenant.id, run) : await run(shared);
  return (row?.['QUERY PLAN'] as [{ Plan: PlanNode }])[0].Plan;
}

async function explainGeneric(sql: Sql, statement: BoundStatement) {
  // PREPARE outlives a transaction, and the setting must not stay on a pooled connection: one
  // connection, a transaction for the setting, the prepared statement dropped whatever happens.
  const connection = await sql.reserve();
  try {
    await connection.unsafe('BEGIN');
    await connection.unsafe('SET LOCAL plan_cache_mode = force_generic_plan');
    await connection.unsafe(`PREPARE rls_plan AS ${statement.text}`);
    // EXECUTE is a utility statement: its arguments cannot be bind parameters. A generic plan does not
    // depend on them anyway.
    const args = statement.params.map((value) => quoteLiteral(String(value))).join(', ');
    return await connection.unsafe(`EXPLAIN (FORMAT JSON) EXECUTE rls_plan${args ? `(${args})` : ''}`);
  } finally {
    await connection.unsafe('ROLLBACK').catch(() => undefined);
    await connection.unsafe('DEALLOCATE rls_plan').catch(() => undefined);
    connection.release();
  }
}

it.each(cases)('%s, on the %s path (%s), with 1,200 tenants, uses a tenant_id index and never reads tenants', async (_, path, mode, statement) => {
  const [{ count }] = (await gw.db.admin`SELECT count(*)::int AS count FROM tenants`) as unknown as [{ count: number }];
  expect(count).toBeGreaterThanOrEqual(1000);
  const all = nodes(await explain(path, mode, statement()));
  expect(all.some((n) => n['Relation Name'] === 'tenants')).toBe(false);
  expect(all.some((n) => n['Node Type'] === 'Seq Scan')).toBe(false);
  const indexed = all.filter((n) => /Index/.test(n['Node Type']) && n['Index Cond']?.includes('tenant_id'));
  expect(indexed.length).toBeGreaterThan(0);
});

it('the tenant still sees only its own 30 rows among 24,000', async () => {
  const res = await gw.request('/v1/internal/users?page_size=100', { headers: { 'x-tenant-id': tenant.id } });
  expect(((await res.json()) as { total: number }).total).toBe(30);
});
