// GET/PATCH/DELETE /v1/internal/users/{id} through the API, under both isolation models and on both
// paths (shared pool, dedicated pool): the tenant reads, changes and deletes its own users; another
// tenant's id is 404 user_not_found whatever the method, and nothing of the other tenant changes. A
// wrong method on a known path is 405 with Allow.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { expectError } from '../support/http.js';

interface UserJson {
  id: string;
  first_name: string;
  last_name: string;
  confirmed: boolean;
  created_at: string;
  updated_at: string;
}

const USERS = '/v1/internal/users';
let gw: TestGateway;

beforeAll(async () => {
  // Shared pool unless a test opens a dedicated pool itself.
  gw = await startTestGateway({ pool: { promoteRps: 1_000_000 } });
});
afterAll(async () => {
  await gw?.close();
});

const as = (tenantId: string, path: string, init: { method?: string; json?: unknown; headers?: Record<string, string> } = {}): Promise<Response> =>
  gw.request(path, { ...init, headers: { 'x-tenant-id': tenantId, ...init.headers } });

async function createUser(tenantId: string, first: string, last = 'Test'): Promise<UserJson> {
  const res = await as(tenantId, USERS, { method: 'POST', json: { first_name: first, last_name: last } });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as UserJson;
}

async function stored(tenantId: string, userId: string): Promise<Record<string, unknown> | undefined> {
  const [row] = await gw.adminOf(tenantId)`SELECT first_name, last_name, confirmed FROM ${gw.usersOf(tenantId)} WHERE id = ${userId}`;
  return row;
}

describe.each([
  ['rls', 'shared'],
  ['rls', 'dedicated'],
  ['schema', 'shared'],
  ['schema', 'dedicated'],
] as const)('%s tenants on the %s pool', (model, path) => {
  let a: string;
  let b: string;
  beforeAll(async () => {
    a = (await gw.createTenant(undefined, model)).id;
    b = (await gw.createTenant(undefined, model)).id;
    if (path === 'dedicated') {
      for (const t of [a, b]) await gw.gateway.registry.run(t, (sql) => sql`SELECT 1`);
    }
  });

  it('GET answers the user exactly as it was created', async () => {
    const created = await createUser(a, 'Ada', 'Lovelace');
    const res = await as(a, `${USERS}/${created.id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(created);
    // Upper-case ids name the same user.
    expect((await as(a, `${USERS}/${created.id.toUpperCase()}`)).status).toBe(200);
  });

  it('PATCH sets only the fields given, moves updated_at and keeps created_at', async () => {
    const created = await createUser(a, 'Grace', 'Hopper');
    const res = await as(a, `${USERS}/${created.id}`, { method: 'PATCH', json: { confirmed: true, last_name: 'Murray Hopper' } });
    expect(res.status).toBe(200);
    const updated = (await res.json()) as UserJson;
    expect(updated).toMatchObject({ id: created.id, first_name: 'Grace', last_name: 'Murray Hopper', confirmed: true, created_at: created.created_at });
    expect(Date.parse(updated.updated_at)).toBeGreaterThanOrEqual(Date.parse(created.updated_at));
    expect(updated.updated_at > created.updated_at).toBe(true);
    expect(await (await as(a, `${USERS}/${created.id}`)).json()).toEqual(updated);
    expect(await stored(a, created.id)).toEqual({ first_name: 'Grace', last_name: 'Murray Hopper', confirmed: true });
  });

  it('DELETE answers 204, then the user is gone (GET, PATCH and DELETE answer 404)', async () => {
    const created = await createUser(a, 'Alan', 'Turing');
    const res = await as(a, `${USERS}/${created.id}`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect(await stored(a, created.id)).toBeUndefined();
    await expectError(await as(a, `${USERS}/${created.id}`), 404, 'user_not_found', created.id);
    await expectError(await as(a, `${USERS}/${created.id}`, { method: 'PATCH', json: { confirmed: true } }), 404, 'user_not_found');
    await expectError(await as(a, `${USERS}/${created.id}`, { method: 'DELETE' }), 404, 'user_not_found');
  });

  it("another tenant's user is 404 for GET, PATCH and DELETE, and stays as it was", async () => {
    const victim = await createUser(a, 'Victim', 'Row');
    await expectError(await as(b, `${USERS}/${victim.id}`), 404, 'user_not_found');
    await expectError(await as(b, `${USERS}/${victim.id}`, { method: 'PATCH', json: { first_name: 'Mallory', confirmed: true } }), 404, 'user_not_found');
    await expectError(await as(b, `${USERS}/${victim.id}`, { method: 'DELETE' }), 404, 'user_not_found');
    expect(await stored(a, victim.id)).toEqual({ first_name: 'Victim', last_name: 'Row', confirmed: false });
    expect(await (await as(a, `${USERS}/${victim.id}`)).json()).toEqual(victim);
  });

  it('an id that no user has is 404', async () => {
    await expectError(await as(a, `${USERS}/${randomUUID()}`), 404, 'user_not_found');
  });
});

describe('bad input', () => {
  let tenant: string;
  let user: UserJson;
  beforeAll(async () => {
    tenant = (await gw.createTenant()).id;
    user = await createUser(tenant, 'Bad', 'Input');
  });

  it.each(['GET', 'PATCH', 'DELETE'])('%s with an id that is not a UUID is 400 invalid_user_id', async (method) => {
    const init = method === 'PATCH' ? { method, json: { confirmed: true } } : { method };
    await expectError(await as(tenant, `${USERS}/not-a-uuid`, init), 400, 'invalid_user_id', 'id');
  });

  it.each([
    [{}, 'invalid_body', 'at least one'],
    [[], 'invalid_body', 'object'],
    [{ confirmed: 'yes' }, 'invalid_field', 'confirmed'],
    [{ confirmed: null }, 'invalid_field', 'confirmed'],
    [{ first_name: null }, 'invalid_field', 'first_name'],
    [{ first_name: '   ' }, 'invalid_field', 'first_name'],
    [{ last_name: 'x'.repeat(51) }, 'invalid_field', 'last_name'],
    [{ last_name: 'a\u0000b' }, 'invalid_field', 'last_name'],
    [{ tenant_id: randomUUID() }, 'unknown_field', 'tenant_id'],
    [{ id: randomUUID(), confirmed: true }, 'unknown_field', 'id'],
  ])('PATCH %j is 400 %s', async (json, code, mentions) => {
    await expectError(await as(tenant, `${USERS}/${user.id}`, { method: 'PATCH', json }), 400, code, mentions);
    expect(await stored(tenant, user.id)).toEqual({ first_name: 'Bad', last_name: 'Input', confirmed: false });
  });

  it('PATCH without a JSON content type is 415', async () => {
    const res = await as(tenant, `${USERS}/${user.id}`, { method: 'PATCH', headers: { 'content-type': 'text/plain' } });
    await expectError(res, 415, 'unsupported_media_type');
  });

  it('a request without x-tenant-id is refused before anything is read', async () => {
    await expectError(await gw.request(`${USERS}/${user.id}`), 400, 'missing_tenant_id');
  });
});

describe('405 for a wrong method on a known path', () => {
  it.each([
    ['PUT', `${USERS}/${randomUUID()}`, 'GET, PATCH, DELETE, HEAD'],
    ['POST', `${USERS}/${randomUUID()}`, 'GET, PATCH, DELETE, HEAD'],
    ['DELETE', USERS, 'GET, POST, HEAD'],
    ['PATCH', USERS, 'GET, POST, HEAD'],
  ])('%s %s answers 405 with Allow: %s', async (method, path, allow) => {
    const res = await gw.request(path, { method, headers: { 'x-tenant-id': randomUUID() } });
    expect(res.headers.get('allow')).toBe(allow);
    await expectError(res, 405, 'method_not_allowed', method);
  });

  it.each([
    ['PUT', '/v1/admin/tenants', 'GET, POST, HEAD'],
    ['PUT', `/v1/admin/tenants/${randomUUID()}`, 'GET, PATCH, DELETE, HEAD'],
    ['GET', `/v1/admin/tenants/${randomUUID()}/rotate`, 'POST'],
    ['DELETE', '/v1/admin/tenants/by-name/acme', 'GET, HEAD'],
  ])('admin %s %s answers 405 with Allow: %s', async (method, path, allow) => {
    const res = await gw.request(path, { method, headers: { authorization: `Bearer ${gw.adminToken}` } });
    expect(res.headers.get('allow')).toBe(allow);
    await expectError(res, 405, 'method_not_allowed');
  });

  it.each(['/health', '/health/ready', '/metrics'])('POST %s answers 405 with Allow: GET, HEAD', async (path) => {
    const res = await gw.request(path, { method: 'POST' });
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    await expectError(res, 405, 'method_not_allowed');
  });

  it('an unknown path is still 404 route_not_found', async () => {
    await expectError(await gw.request('/v1/internal/nothing', { method: 'PUT' }), 404, 'route_not_found');
  });
});
