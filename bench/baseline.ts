// The bench's baseline server: the gateway's stack (Hono on @hono/node-server, postgres.js) and its
// users operations (listUsersPage, createUserBody: the same statements, pagination, totals, cursors and
// JSON), parsing and error mapping, but no tenancy machinery: ONE plain pool as the superuser
// (BASELINE_POOL_MAX connections, 10 in the bench), which RLS does not apply to, the statements' own
// `tenant_id = $n` filter without the gateway's scope check (checkContext: false), and no tenant
// look-up (an unknown tenant just has no users). Its connections get the gateway's tenant-pool session
// settings (src/db/connection-options.ts, generic plans included), and statements are prepared as there.
// The gap between it and the gateway is the price of tenancy.
//
// Over several servers (scenario c2), BASELINE_SERVERS names the data servers' superuser URLs
// (`{"s2": "postgres://…"}`): a pool of BASELINE_POOL_MAX per server, and at start one read of which
// tenants live off main (the catalog's `tenants.server`), kept in a map. Each request then goes to its
// tenant's server's pool with one map look-up and no catalog read, so the gateway's price of a second
// server is not counted as tenancy.
//
// On a Citus coordinator (the Citus scenarios) BASELINE_GENERIC_PLANS=false gives it custom plans, as the
// gateway uses there: Citus cannot build a distributed plan from a forced generic one.
//
// Env: PORT, DATABASE_URL (superuser), BASELINE_POOL_MAX (default 10, per server), BASELINE_SERVERS
// (optional JSON object), BASELINE_GENERIC_PLANS (default true), LOG_LEVEL (default warn).
// Started by bench/run.ts; this entry module reads its own env because it is not part of the gateway.
import { Hono } from 'hono';
import postgres, { type Row, type Sql } from 'postgres';
import { renderBound, type StatementBuilder } from '../src/db/statement.js';
import type { AppEnv } from '../src/http/env.js';
import { createErrorHandler, notFoundHandler } from '../src/http/error-handler.js';
import { readJsonBody } from '../src/http/json-body.js';
import { tenantFromHeader } from '../src/http/tenant-id.js';
import { createLogger } from '../src/log.js';
import { parseCreateUser } from '../src/users/create-input.js';
import { createUserBody, listUsersPage, type RunStatement } from '../src/users/list-page.js';
import { parseListParams } from '../src/users/list-params.js';
import { referenceConnectionOptions, serveUntilSignalled } from './reference-connection.js';

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };
const BODY_LIMIT_BYTES = 16_384;

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? '8090');
  const poolMax = Number(process.env.BASELINE_POOL_MAX ?? '10');
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl || !Number.isInteger(port) || !Number.isInteger(poolMax) || poolMax < 1) {
    throw new Error('baseline: DATABASE_URL, PORT and a positive integer BASELINE_POOL_MAX are required');
  }
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
  const genericPlans = process.env.BASELINE_GENERIC_PLANS !== 'false';
  const sql = postgres(databaseUrl, referenceConnectionOptions('baseline', poolMax, genericPlans));
  const runOn =
    (pool: Sql): RunStatement =>
    async (build: StatementBuilder): Promise<Row[]> => {
      const { text, params } = renderBound(build);
      // Same call as the gateway's pools (src/pool).
      return pool.unsafe(text, params, { prepare: true }) as unknown as Promise<Row[]>;
    };
  const run = runOn(sql);
  const others = [...dataServers(process.env.BASELINE_SERVERS)].map(([name, url]) => ({
    name,
    pool: postgres(url, referenceConnectionOptions('baseline', poolMax, genericPlans)),
  }));
  const pools = [sql, ...others.map((o) => o.pool)];
  const routes = others.length > 0 ? await tenantRoutes(sql, new Map(others.map((o) => [o.name, runOn(o.pool)]))) : new Map<string, RunStatement>();
  const runOf = routes.size === 0 ? (): RunStatement => run : (tenantId: string): RunStatement => routes.get(tenantId) ?? run;

  const app = new Hono<AppEnv>();
  app.onError(createErrorHandler(logger));
  app.notFound(notFoundHandler);
  app.get('/health/ready', async (c) => {
    await Promise.all(pools.map((pool) => pool`SELECT 1`));
    return c.json({ status: 'ready' });
  });
  app.get('/v1/internal/users', tenantFromHeader, async (c) => {
    const url = c.req.url;
    const q = url.indexOf('?');
    const params = parseListParams(new URLSearchParams(q < 0 ? '' : url.slice(q + 1)));
    const tenantId = c.get('tenantId');
    const body = await listUsersPage(runOf(tenantId), { tenantId, checkContext: false }, params);
    return c.body(body, 200, JSON_HEADERS);
  });
  app.post('/v1/internal/users', tenantFromHeader, async (c) => {
    const input = parseCreateUser(await readJsonBody(c, BODY_LIMIT_BYTES));
    const tenantId = c.get('tenantId');
    const body = await createUserBody(runOf(tenantId), { tenantId, checkContext: false }, input);
    return c.body(body, 201, JSON_HEADERS);
  });

  serveUntilSignalled(app.fetch, port, { end: async (options) => void (await Promise.all(pools.map((p) => p.end(options)))) });
}

/**
 * The statement runner of each tenant that lives on one of `servers` (read once, at start); tenants on
 * main are left out, since a miss runs on main as on a single server.
 */
async function tenantRoutes(catalog: Sql, servers: ReadonlyMap<string, RunStatement>): Promise<Map<string, RunStatement>> {
  const routes = new Map<string, RunStatement>();
  for (const { id, server } of await catalog<{ id: string; server: string }[]>`SELECT id::text, server FROM tenants WHERE server <> 'main'`) {
    const run = servers.get(server);
    if (run) routes.set(id, run);
  }
  return routes;
}

/** BASELINE_SERVERS: data server name → superuser URL; empty when unset. */
function dataServers(json: string | undefined): Map<string, string> {
  if (json === undefined || json.trim() === '') return new Map();
  const parsed: unknown = JSON.parse(json);
  if (typeof parsed !== 'object' || parsed === null || Object.values(parsed).some((url) => typeof url !== 'string')) {
    throw new Error('baseline: BASELINE_SERVERS must be a JSON object of server name → URL');
  }
  return new Map(Object.entries(parsed as Record<string, string>));
}

main().catch((err: unknown) => {
  process.stderr.write(`baseline failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
