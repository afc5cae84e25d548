// The bench's second reference, the least a server can do for GET /v1/internal/users: Hono on
// @hono/node-server and ONE postgres.js pool (LEAN_POOL_MAX connections as the superuser), and per
// request one prepared page query with the header's tenant as a bind parameter, its rows written as
// JSON. No parameter parsing or validation, no logging, no tenant look-up, no error mapping, no second
// query. The statement is the gateway's own for the default list request (listUsersStatement rendered
// by renderBound, without the scope check the gateway's sessions need), run with the gateway's session
// settings (bench/reference-connection.ts), so the gap to the gateway is everything around the query,
// not the query.
//
// Env: PORT, DATABASE_URL (superuser), LEAN_POOL_MAX (default 10). Started by bench/run.ts.
import { Hono } from 'hono';
import postgres from 'postgres';
import { renderBound } from '../src/db/statement.js';
import { parseListParams } from '../src/users/list-params.js';
import { listUsersStatement } from '../src/users/queries.js';
import { referenceConnectionOptions, serveUntilSignalled } from './reference-connection.js';

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };
/** Stands in for the tenant while rendering, to find its bind parameter. */
const PLACEHOLDER_TENANT = '00000000-0000-4000-8000-000000000000';

function main(): void {
  const port = Number(process.env.PORT ?? '8091');
  const poolMax = Number(process.env.LEAN_POOL_MAX ?? '10');
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl || !Number.isInteger(port) || !Number.isInteger(poolMax) || poolMax < 1) {
    throw new Error('lean: DATABASE_URL, PORT and a positive integer LEAN_POOL_MAX are required');
  }
  const params = parseListParams(new URLSearchParams());
  const { text, params: values } = renderBound(listUsersStatement({ tenantId: PLACEHOLDER_TENANT, checkContext: false }, params));
  const slots = values.flatMap((v, i) => (v === PLACEHOLDER_TENANT ? [i] : []));
  if (slots.length === 0) throw new Error(`lean: the list statement has no tenant parameter:\n${text}`);
  const sql = postgres(databaseUrl, referenceConnectionOptions('lean', poolMax));

  const app = new Hono();
  app.get('/health/ready', async (c) => {
    await sql`SELECT 1`;
    return c.json({ status: 'ready' });
  });
  app.get('/v1/internal/users', async (c) => {
    const bound = values.slice();
    const tenantId = c.req.header('x-tenant-id') ?? '';
    for (const slot of slots) bound[slot] = tenantId;
    const rows = await sql.unsafe(text, bound, { prepare: true });
    // The statement reads one row more than a page (it says whether a next page exists).
    const body = JSON.stringify({ records: rows.slice(0, params.pageSize), page: params.page, page_size: params.pageSize });
    return c.body(body, 200, JSON_HEADERS);
  });

  serveUntilSignalled(app.fetch, port, sql);
}

main();
