// GET and POST /v1/internal/users: thin handlers. Parsing is in src/users, pagination and SQL in
// src/users/list-page.ts and queries.ts; PostgreSQL's RLS does the isolation, on whichever pool the
// registry picks.
import { Hono, type MiddlewareHandler } from 'hono';
import type { AppEnv } from '../http/env.js';
import { readJsonBody } from '../http/json-body.js';
import type { PoolRegistry } from '../pool/registry.js';
import { parseCreateUser } from '../users/create-input.js';
import { createUserBody, listUsersPage, type RunStatement } from '../users/list-page.js';
import { parseListParams } from '../users/list-params.js';

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

/** `guard` authenticates the caller, sets the tenant and applies its limits (src/http/guards.ts). */
export function usersRoutes(registry: PoolRegistry, bodyLimitBytes: number, guard: MiddlewareHandler<AppEnv>): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const runFor =
    (tenantId: string): RunStatement =>
    (build) =>
      registry.query(tenantId, build);

  app.get('/', guard, async (c) => {
    const url = c.req.url;
    const q = url.indexOf('?');
    const params = parseListParams(new URLSearchParams(q < 0 ? '' : url.slice(q + 1)));
    const tenantId = c.get('tenantId');
    const body = await listUsersPage(runFor(tenantId), { tenantId, checkContext: true }, params);
    return c.body(body, 200, JSON_HEADERS);
  });

  app.post('/', guard, async (c) => {
    const input = parseCreateUser(await readJsonBody(c, bodyLimitBytes));
    const tenantId = c.get('tenantId');
    const body = await createUserBody(runFor(tenantId), { tenantId, checkContext: true }, input);
    return c.body(body, 201, JSON_HEADERS);
  });

  return app;
}
