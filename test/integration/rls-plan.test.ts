// The RLS predicate must stay cheap as tenants grow: with 1,000+ tenants, a tenant's query plan reads
// users through an index on tenant_id and never touches the tenants table (the reference service's
// `text = current_user` predicate scanned it on every query).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { renderInline } from '../../src/db/statement.js';
import { parseListParams } from '../../src/users/list-params.js';
import { countUsersStatement, listUsersStatement } from '../../src/users/queries.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let tenant: { id: string; db_user: string };

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
}, 120_000);

afterAll(async () => {
  await gw?.close();
});

const listStatement = (query: string): string => renderInline(listUsersStatement(parseListParams(new URLSearchParams(query))));

const queries: [string, string][] = [
  ["the gateway's list statement", listStatement('')],
  ["the gateway's list statement with search and filters", listStatement('search=own&confirmed=false&sort_column=first_name')],
  ["the gateway's count for pages past the end", renderInline(countUsersStatement(parseListParams(new URLSearchParams(''))))],
  ['the list page', 'SELECT * FROM users ORDER BY created_at DESC, id DESC LIMIT 10'],
  ['the total count', 'SELECT count(*) FROM users'],
  ['a search', "SELECT * FROM users WHERE first_name ILIKE '%own1%' ORDER BY first_name LIMIT 10"],
];

it.each(queries)('%s, as a tenant role with 1,200 tenants, uses a tenant_id index and never reads tenants', async (_, query) => {
  const [{ count }] = (await gw.db.admin`SELECT count(*)::int AS count FROM tenants`) as unknown as [{ count: number }];
  expect(count).toBeGreaterThanOrEqual(1000);
  const [row] = await gw.gateway.registry.run(tenant.id, (sql) => sql.unsafe(`EXPLAIN (FORMAT JSON) ${query}`));
  const plan = (row?.['QUERY PLAN'] as [{ Plan: PlanNode }])[0].Plan;
  const all = nodes(plan);
  expect(all.some((n) => n['Relation Name'] === 'tenants')).toBe(false);
  expect(all.some((n) => n['Node Type'] === 'Seq Scan')).toBe(false);
  const indexed = all.filter((n) => /Index/.test(n['Node Type']) && n['Index Cond']?.includes('tenant_id'));
  expect(indexed.length).toBeGreaterThan(0);
});

it('the tenant still sees only its own 30 rows among 24,000', async () => {
  const res = await gw.request('/v1/internal/users?page_size=100', { headers: { 'x-tenant-id': tenant.id } });
  expect(((await res.json()) as { total: number }).total).toBe(30);
});
