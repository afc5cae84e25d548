// The bench's baseline server: the gateway's stack (Hono on @hono/node-server, postgres.js) and its
// users operations (listUsersPage, createUserBody: the same statements, pagination, totals, cursors and
// JSON), parsing and error mapping, but no tenancy machinery: ONE plain pool as the superuser
// (BASELINE_POOL_MAX connections, 10 in the bench), which RLS does not apply to, the statements' own
// `tenant_id = $n` filter without the gateway's scope check (checkContext: false), and no tenant
// look-up (an unknown tenant just has no users). Its connections get the gateway's tenant-pool session
// settings (src/db/connection-options.ts, generic plans included), and statements are prepared as there.
// The gap between it and the gateway is the price of tenancy.
//
// Env: PORT, DATABASE_URL (superuser), BASELINE_POOL_MAX (default 10), LOG_LEVEL (default warn).
// Started by bench/run.ts; this entry module reads its own env because it is not part of the gateway.
import { Hono } from 'hono';
import postgres, { type Row } from 'postgres';
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

function main(): void {
  const port = Number(process.env.PORT ?? '8090');
  const poolMax = Number(process.env.BASELINE_POOL_MAX ?? '10');
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl || !Number.isInteger(port) || !Number.isInteger(poolMax) || poolMax < 1) {
    throw new Error('baseline: DATABASE_URL, PORT and a positive integer BASELINE_POOL_MAX are required');
  }
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
  const sql = postgres(databaseUrl, referenceConnectionOptions('baseline', poolMax));
  const run: RunStatement = async (build: StatementBuilder): Promise<Row[]> => {
    const { text, params } = renderBound(build);
    // Same call as the gateway's pools (src/pool).
    return sql.unsafe(text, params, { prepare: true }) as unknown as Promise<Row[]>;
  };

  const app = new Hono<AppEnv>();
  app.onError(createErrorHandler(logger));
  app.notFound(notFoundHandler);
  app.get('/health/ready', async (c) => {
    await sql`SELECT 1`;
    return c.json({ status: 'ready' });
  });
  app.get('/v1/internal/users', tenantFromHeader, async (c) => {
    const url = c.req.url;
    const q = url.indexOf('?');
    const params = parseListParams(new URLSearchParams(q < 0 ? '' : url.slice(q + 1)));
    const body = await listUsersPage(run, { tenantId: c.get('tenantId'), checkContext: false }, params);
    return c.body(body, 200, JSON_HEADERS);
  });
  app.post('/v1/internal/users', tenantFromHeader, async (c) => {
    const input = parseCreateUser(await readJsonBody(c, BODY_LIMIT_BYTES));
    const body = await createUserBody(run, { tenantId: c.get('tenantId'), checkContext: false }, input);
    return c.body(body, 201, JSON_HEADERS);
  });

  serveUntilSignalled(app.fetch, port, sql);
}

main();
