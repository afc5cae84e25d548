// The bench's baseline server: the gateway's stack (Hono on @hono/node-server, postgres.js) and its
// users statements, parsing and error mapping, but no tenancy machinery: ONE plain pool as the
// superuser (BASELINE_POOL_MAX connections, 10 in the bench), an explicit `tenant_id = $n` filter
// instead of tenant roles and RLS, prepared statements on, and no tenant look-up (an unknown tenant
// just has no users). The gap between it and the gateway is the price of tenancy.
//
// Env: PORT, DATABASE_URL (superuser), BASELINE_POOL_MAX (default 10), LOG_LEVEL (default warn).
// Started by bench/run.ts; this entry module reads its own env because it is not part of the gateway.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import postgres, { type Row } from 'postgres';
import { renderBound, type StatementBuilder } from '../src/db/statement.js';
import type { AppEnv } from '../src/http/env.js';
import { createErrorHandler, notFoundHandler } from '../src/http/error-handler.js';
import { readJsonBody } from '../src/http/json-body.js';
import { tenantFromHeader } from '../src/http/tenant-id.js';
import { createLogger } from '../src/log.js';
import { parseCreateUser } from '../src/users/create-input.js';
import { parseListParams } from '../src/users/list-params.js';
import { countUsersStatement, createUserStatement, listUsersStatement } from '../src/users/queries.js';
import { pageBody, userBody } from '../src/users/response.js';
import { assertScopingFits, scopedToTenant } from './baseline-query.js';

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };
const BODY_LIMIT_BYTES = 16_384;

function main(): void {
  const port = Number(process.env.PORT ?? '8090');
  const poolMax = Number(process.env.BASELINE_POOL_MAX ?? '10');
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl || !Number.isInteger(port) || !Number.isInteger(poolMax) || poolMax < 1) {
    throw new Error('baseline: DATABASE_URL, PORT and a positive integer BASELINE_POOL_MAX are required');
  }
  assertScopingFits();
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
  const sql = postgres(databaseUrl, {
    max: poolMax,
    prepare: true,
    onnotice: () => {},
    connection: { application_name: 'baseline', TimeZone: 'UTC', DateStyle: 'ISO' },
  });
  const query = async (build: StatementBuilder): Promise<Row[]> => {
    const { text, params } = renderBound(build);
    // Same call as the gateway's dedicated path (src/pool/registry.ts).
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
    const rows = await query(scopedToTenant(listUsersStatement(params), c.get('tenantId')));
    let total = rows.length > 0 ? Number(rows[0]?.total) : 0;
    if (rows.length === 0 && params.page > 1) {
      const [counted] = await query(scopedToTenant(countUsersStatement(params), c.get('tenantId')));
      total = Number(counted?.total);
    }
    return c.body(pageBody(rows, params, total), 200, JSON_HEADERS);
  });
  app.post('/v1/internal/users', tenantFromHeader, async (c) => {
    const input = parseCreateUser(await readJsonBody(c, BODY_LIMIT_BYTES));
    const [row] = await query(scopedToTenant(createUserStatement(input), c.get('tenantId')));
    return c.body(userBody(row as Row), 201, JSON_HEADERS);
  });

  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port });
  const stop = (): void => {
    server.close(() => void sql.end({ timeout: 5 }).finally(() => process.exit(0)));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main();
