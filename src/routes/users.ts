// GET and POST /v1/internal/users: thin handlers. Parsing is in src/users, SQL in src/users/queries,
// and the tenant's own role (RLS) does the isolation, on whichever pool the registry picks.
import { Hono, type MiddlewareHandler } from 'hono';
import { every } from 'hono/combine';
import type { Row } from 'postgres';
import type { AppEnv } from '../http/env.js';
import { readJsonBody } from '../http/json-body.js';
import type { PoolRegistry } from '../pool/registry.js';
import { parseCreateUser } from '../users/create-input.js';
import { parseListParams } from '../users/list-params.js';
import { countUsersStatement, createUserStatement, listUsersStatement } from '../users/queries.js';
import { pageBody, userBody } from '../users/response.js';

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

/** `guards` authenticate the caller, set the tenant and apply its limits, in order. */
export function usersRoutes(registry: PoolRegistry, bodyLimitBytes: number, guards: MiddlewareHandler<AppEnv>[]): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const guard = every(...guards) as MiddlewareHandler<AppEnv>;
  app.get('/', guard, async (c) => {
    const url = c.req.url;
    const q = url.indexOf('?');
    const params = parseListParams(new URLSearchParams(q < 0 ? '' : url.slice(q + 1)));
    const tenantId = c.get('tenantId');
    const rows = await registry.query(tenantId, listUsersStatement(params));
    let total = rows.length > 0 ? Number(rows[0]?.total) : 0;
    if (rows.length === 0 && params.page > 1) {
      // Past the last page: only here does the total need a second round trip.
      const [counted] = await registry.query(tenantId, countUsersStatement(params));
      total = Number(counted?.total);
    }
    return c.body(pageBody(rows, params, total), 200, JSON_HEADERS);
  });

  app.post('/', guard, async (c) => {
    const input = parseCreateUser(await readJsonBody(c, bodyLimitBytes));
    const [row] = await registry.query(c.get('tenantId'), createUserStatement(input));
    return c.body(userBody(row as Row), 201, JSON_HEADERS);
  });

  return app;
}
