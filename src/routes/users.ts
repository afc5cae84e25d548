// /v1/internal/users and /v1/internal/users/{id}: thin handlers. Parsing is in src/users, pagination and
// SQL in src/users/list-page.ts, queries.ts and user-statements.ts, Idempotency-Key in src/idempotency;
// PostgreSQL's RLS does the isolation, on whichever pool the registry picks.
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { BadRequest } from '../errors.js';
import type { AppEnv } from '../http/env.js';
import { readJsonBody } from '../http/json-body.js';
import { onlyMethods } from '../http/methods.js';
import { isUuid } from '../http/params.js';
import type { PoolRegistry } from '../pool/registry.js';
import { parseCreateUser } from '../users/create-input.js';
import { createUserBody, listUsersPage, type RunStatement } from '../users/list-page.js';
import { parseListParams } from '../users/list-params.js';
import { parseUpdateUser } from '../users/update-input.js';
import { createUserIdempotent, deleteUser, getUserBody, updateUserBody, updateUserIdempotent, type WriteAnswer } from '../users/user-operations.js';
import { IDEMPOTENCY_HEADER, parseIdempotencyKey, REPLAYED_HEADER } from '../idempotency/key.js';

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

export interface UsersRoutesOptions {
  readonly bodyLimitBytes: number;
  /** How long the first answer to an Idempotency-Key is replayed. */
  readonly idempotencyTtlSeconds: number;
}

/** `guard` authenticates the caller, sets the tenant and applies its limits (src/http/guards.ts). */
export function usersRoutes(registry: PoolRegistry, options: UsersRoutesOptions, guard: MiddlewareHandler<AppEnv>): Hono<AppEnv> {
  const { bodyLimitBytes, idempotencyTtlSeconds } = options;
  const app = new Hono<AppEnv>();
  const runFor =
    (tenantId: string): RunStatement =>
    (build) =>
      registry.query(tenantId, build);
  const scopeOf = (c: Context<AppEnv>) => ({ tenantId: c.get('tenantId'), checkContext: true });

  app.get('/', guard, async (c) => {
    const url = c.req.url;
    const q = url.indexOf('?');
    const params = parseListParams(new URLSearchParams(q < 0 ? '' : url.slice(q + 1)));
    const tenantId = c.get('tenantId');
    const body = await listUsersPage(runFor(tenantId), { tenantId, checkContext: true }, params);
    return c.body(body, 200, JSON_HEADERS);
  });

  // The key is checked before the body is read: a bad key is refused without a look at the body.
  const idempotencyKeyOf = (c: Context<AppEnv>) => {
    const key = parseIdempotencyKey(c.req.header(IDEMPOTENCY_HEADER));
    return key === undefined ? undefined : { key, ttlSeconds: idempotencyTtlSeconds };
  };
  const answer = (c: Context<AppEnv>, written: WriteAnswer) =>
    c.body(written.body, written.status as 200 | 201, written.replayed ? { ...JSON_HEADERS, [REPLAYED_HEADER]: 'true' } : JSON_HEADERS);

  app.post('/', guard, async (c) => {
    const key = idempotencyKeyOf(c);
    const input = parseCreateUser(await readJsonBody(c, bodyLimitBytes));
    const tenantId = c.get('tenantId');
    if (key !== undefined) return answer(c, await createUserIdempotent(runFor(tenantId), scopeOf(c), input, key));
    const body = await createUserBody(runFor(tenantId), { tenantId, checkContext: true }, input);
    return c.body(body, 201, JSON_HEADERS);
  });

  app.all('/', onlyMethods('GET', 'POST'));

  app.get('/:id', guard, async (c) => {
    const id = userIdParam(c);
    const body = await getUserBody(runFor(c.get('tenantId')), scopeOf(c), id);
    return c.body(body, 200, JSON_HEADERS);
  });

  app.patch('/:id', guard, async (c) => {
    const id = userIdParam(c);
    const key = idempotencyKeyOf(c);
    const input = parseUpdateUser(await readJsonBody(c, bodyLimitBytes));
    if (key !== undefined) return answer(c, await updateUserIdempotent(runFor(c.get('tenantId')), scopeOf(c), id, input, key));
    const body = await updateUserBody(runFor(c.get('tenantId')), scopeOf(c), id, input);
    return c.body(body, 200, JSON_HEADERS);
  });

  app.delete('/:id', guard, async (c) => {
    const id = userIdParam(c);
    await deleteUser(runFor(c.get('tenantId')), scopeOf(c), id);
    return c.body(null, 204);
  });

  app.all('/:id', onlyMethods('GET', 'PATCH', 'DELETE'));

  return app;
}

function userIdParam(c: Context<AppEnv>): string {
  const id = c.req.param('id') ?? '';
  if (!isUuid(id)) throw new BadRequest('invalid_user_id', 'the user id in the path must be a UUID', 'id');
  return id.toLowerCase();
}
