// Proves /v1/admin/tenants over HTTP against a real gateway and PostgreSQL: the admin JWT is required and
// checked strictly; create makes a catalog row and a login role whose password is stored sealed and
// never answered; list pages the catalog; rotate changes the password and closes the cached pool; delete
// removes rows, role and sessions.
import { SignJWT } from 'jose';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCredential } from '../../src/crypto/credentials.js';
import { waitFor } from '../support/database.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { expectError } from '../support/http.js';

interface TenantJson {
  id: string;
  name: string;
  db_user: string;
  status: string;
  created_at: string;
}

interface TenantPage {
  records: Array<TenantJson & { updated_at: string }>;
  page: number;
  page_size: number;
  total: number;
  total_pages: number;
}

const TENANTS = '/v1/admin/tenants';
const USERS = '/v1/internal/users';
const UNKNOWN_ID = '0b7e2a4c-5d6f-4a8b-9c0d-1e2f3a4b5c6d';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => {
  await gw?.close();
});

function adminRequest(path: string, init: { method?: string; json?: unknown; token?: string | null } = {}): Promise<Response> {
  const { token, ...rest } = init;
  const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token ?? gw.adminToken}` };
  return gw.request(path, { ...rest, headers });
}

async function createTenant(name: string): Promise<TenantJson> {
  const res = await adminRequest(TENANTS, { method: 'POST', json: { name } });
  if (res.status !== 201) throw new Error(`creating tenant ${name} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as TenantJson;
}

let nameCounter = 0;
function uniqueName(prefix = 'acme'): string {
  return `${prefix}-${Date.now()}-${++nameCounter}`;
}

async function sealedPassword(id: string): Promise<string> {
  const [row] = await gw.db.admin<{ sealed: string }[]>`SELECT db_password_encrypted AS sealed FROM tenants WHERE id = ${id}`;
  if (!row) throw new Error(`tenant ${id} is not in the catalog`);
  return row.sealed;
}

async function tenantCount(): Promise<number> {
  const [row] = await gw.db.admin<{ n: number }[]>`SELECT count(*)::int AS n FROM tenants`;
  return row?.n ?? -1;
}

/** Logs in as `user` with its own connection; resolves to current_user or rejects with the driver error. */
async function logIn(user: string, password: string): Promise<string> {
  const sql = postgres(gw.db.url, { username: user, password, max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    const [row] = await sql<{ who: string }[]>`SELECT current_user AS who`;
    return row?.who ?? '';
  } finally {
    await sql.end({ timeout: 1 });
  }
}

async function backendPids(dbUser: string): Promise<number[]> {
  const rows = await gw.db.admin<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE usename = ${dbUser}`;
  return rows.map((r) => r.pid);
}

/** Makes the tenant's dedicated pool (own-role login) exist, as a hot tenant's would. */
async function onDedicatedPool(tenantId: string): Promise<void> {
  await gw.gateway.registry.run(tenantId, (sql) => sql`SELECT 1`);
}

async function roleExists(dbUser: string): Promise<boolean> {
  const rows = await gw.db.admin`SELECT 1 FROM pg_roles WHERE rolname = ${dbUser}`;
  return rows.length === 1;
}

function usersRequest(tenantId: string, init: { method?: string; json?: unknown } = {}): Promise<Response> {
  return gw.request(USERS, { ...init, headers: { 'x-tenant-id': tenantId } });
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('admin authentication', () => {
  const secret = (): Uint8Array => new TextEncoder().encode(gw.adminSecret);
  const inAnHour = (): number => Math.floor(Date.now() / 1000) + 3600;

  function sign(claims: Record<string, unknown>, options: { alg?: string; key?: Uint8Array; exp?: number | null } = {}): Promise<string> {
    const jwt = new SignJWT(claims).setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' }).setIssuedAt();
    if (options.exp !== null) jwt.setExpirationTime(options.exp ?? inAnHour());
    return jwt.sign(options.key ?? secret());
  }

  async function expectUnauthorized(authorization: string | undefined, mentions?: string): Promise<void> {
    const before = await tenantCount();
    const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
    await expectError(await gw.request(TENANTS, { headers }), 401, 'unauthorized', mentions);
    await expectError(await gw.request(TENANTS, { method: 'POST', headers, json: { name: uniqueName('unauth') } }), 401, 'unauthorized');
    expect(await tenantCount()).toBe(before);
  }

  it('accepts an HS256 token with role "admin" and an expiry, signed with the admin secret', async () => {
    const res = await adminRequest(TENANTS, { token: await sign({ role: 'admin' }) });
    expect(res.status).toBe(200);
  });

  it('accepts the bearer scheme name in any case (RFC 9110)', async () => {
    const token = await sign({ role: 'admin' });
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      const res = await gw.request(TENANTS, { headers: { authorization: `${scheme} ${token}` } });
      expect(res.status, scheme).toBe(200);
    }
  });

  it('answers 401 without an Authorization header', async () => {
    await expectUnauthorized(undefined);
  });

  it.each([
    ['a Basic scheme', 'Basic YWRtaW46YWRtaW4='],
    ['Bearer without a token', 'Bearer'],
    ['Bearer and a space only', 'Bearer '],
    ['a token that is not a JWT', 'Bearer garbage'],
    ['three segments of garbage', 'Bearer aaa.bbb.ccc'],
  ])('answers 401 for %s', async (_, authorization) => {
    await expectUnauthorized(authorization);
  });

  it('answers 401 for a token signed with another secret', async () => {
    const other = new TextEncoder().encode(`${gw.adminSecret}-but-not-quite`);
    await expectUnauthorized(`Bearer ${await sign({ role: 'admin' }, { key: other })}`);
  });

  it('answers 401 saying so for an expired token', async () => {
    const token = await sign({ role: 'admin' }, { exp: Math.floor(Date.now() / 1000) - 60 });
    await expectUnauthorized(`Bearer ${token}`, 'expired');
  });

  it('answers 401 for a token without exp', async () => {
    await expectUnauthorized(`Bearer ${await sign({ role: 'admin' }, { exp: null })}`);
  });

  it('answers 401 for an unsigned alg "none" token, with or without a signature segment', async () => {
    const unsigned = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ role: 'admin', exp: inAnHour() })}`;
    await expectUnauthorized(`Bearer ${unsigned}.`);
    await expectUnauthorized(`Bearer ${unsigned}.${Buffer.from('forged').toString('base64url')}`);
  });

  it('answers 401 for a token signed with the admin secret but another algorithm (HS512)', async () => {
    await expectUnauthorized(`Bearer ${await sign({ role: 'admin' }, { alg: 'HS512' })}`);
  });

  it('answers 401 for a valid token whose payload was altered to role "admin"', async () => {
    const [header, , signature] = (await sign({ role: 'user' })).split('.');
    await expectUnauthorized(`Bearer ${header}.${base64url({ role: 'admin', exp: inAnHour() })}.${signature}`);
  });

  it.each([
    ['role "user"', { role: 'user' }],
    ['no role', {}],
    ['role "Admin"', { role: 'Admin' }],
    ['roles ["admin"]', { role: ['admin'] }],
  ])('answers 403 forbidden for a valid token with %s', async (_, claims) => {
    const before = await tenantCount();
    const token = await sign(claims);
    await expectError(await adminRequest(TENANTS, { token }), 403, 'forbidden');
    await expectError(await adminRequest(TENANTS, { method: 'POST', token, json: { name: uniqueName('forbidden') } }), 403, 'forbidden');
    expect(await tenantCount()).toBe(before);
  });

  it('guards rotate and delete too: without a token the tenant and its password stay as they were', async () => {
    const tenant = await createTenant(uniqueName('guarded'));
    const sealed = await sealedPassword(tenant.id);
    await expectError(await adminRequest(`${TENANTS}/${tenant.id}/rotate`, { method: 'POST', token: null }), 401, 'unauthorized');
    await expectError(await adminRequest(`${TENANTS}/${tenant.id}`, { method: 'DELETE', token: null }), 401, 'unauthorized');
    const forbidden = await sign({ role: 'user' });
    await expectError(await adminRequest(`${TENANTS}/${tenant.id}/rotate`, { method: 'POST', token: forbidden }), 403, 'forbidden');
    await expectError(await adminRequest(`${TENANTS}/${tenant.id}`, { method: 'DELETE', token: forbidden }), 403, 'forbidden');
    expect(await sealedPassword(tenant.id)).toBe(sealed);
    expect(await roleExists(tenant.db_user)).toBe(true);
  });
});

describe('POST /v1/admin/tenants', () => {
  it('answers 201 with exactly id, name, db_user, status, server, model and created_at', async () => {
    const name = uniqueName();
    const res = await adminRequest(TENANTS, { method: 'POST', json: { name } });
    expect(res.status).toBe(201);
    const tenant = (await res.json()) as TenantJson;
    expect(Object.keys(tenant).sort()).toEqual(['created_at', 'db_user', 'id', 'model', 'name', 'server', 'status']);
    expect(tenant.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(tenant.name).toBe(name);
    expect(tenant.db_user).toBe(`t_${tenant.id.replaceAll('-', '')}`);
    expect(tenant.status).toBe('active');
    expect(Math.abs(Date.parse(tenant.created_at) - Date.now())).toBeLessThan(60_000);
    const [row] = await gw.db.admin<{ name: string; db_user: string }[]>`SELECT name, db_user FROM tenants WHERE id = ${tenant.id}`;
    expect(row).toEqual({ name, db_user: tenant.db_user });
  });

  it('creates a login role with no special powers, a member of tenantgate_tenant only', async () => {
    const tenant = await createTenant(uniqueName());
    const roles = await gw.db.admin`
      SELECT rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolreplication,
             array(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid) AS member_of
      FROM pg_roles r WHERE rolname = ${tenant.db_user}`;
    expect(roles).toEqual([
      {
        rolcanlogin: true,
        rolsuper: false,
        rolbypassrls: false,
        rolcreaterole: false,
        rolcreatedb: false,
        rolreplication: false,
        member_of: ['tenantgate_tenant'],
      },
    ]);
  });

  it('stores the password sealed, as a SCRAM verifier in PostgreSQL, and it logs in as the role', async () => {
    const tenant = await createTenant(uniqueName());
    const sealed = await sealedPassword(tenant.id);
    const password = openCredential(sealed, gw.credentialsKey);
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect(sealed).toMatch(/^[0-9a-f]+$/);
    expect(sealed).not.toContain(password);
    expect(sealed).not.toContain(Buffer.from(password).toString('hex'));
    const [auth] = await gw.db.admin<{ rolpassword: string }[]>`SELECT rolpassword FROM pg_authid WHERE rolname = ${tenant.db_user}`;
    expect(auth?.rolpassword).toMatch(/^SCRAM-SHA-256\$/);
    expect(auth?.rolpassword).not.toContain(password);
    expect(await logIn(tenant.db_user, password)).toBe(tenant.db_user);
  });

  it('never answers a password or its ciphertext, in create, list or rotate', async () => {
    const createRes = await adminRequest(TENANTS, { method: 'POST', json: { name: uniqueName() } });
    const createText = await createRes.text();
    const { id } = JSON.parse(createText) as TenantJson;
    const firstSealed = await sealedPassword(id);
    const rotateText = await (await adminRequest(`${TENANTS}/${id}/rotate`, { method: 'POST' })).text();
    const listText = await (await adminRequest(`${TENANTS}?page_size=1000`)).text();
    expect(listText).toContain(id);
    const secrets = [firstSealed, await sealedPassword(id)].flatMap((s) => [s, openCredential(s, gw.credentialsKey)]);
    for (const text of [createText, rotateText, listText]) {
      expect(text).not.toMatch(/password|encrypted|secret|cipher/i);
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
  });

  it('stores a name with quotes and SQL in it as plain text', async () => {
    const name = `acme'); DROP TABLE tenants; -- ${Date.now()}`;
    const tenant = await createTenant(name);
    expect(tenant.name).toBe(name);
    const [row] = await gw.db.admin<{ name: string }[]>`SELECT name FROM tenants WHERE id = ${tenant.id}`;
    expect(row?.name).toBe(name);
  });

  it('accepts a name of exactly 100 characters, counting an emoji as one', async () => {
    const emoji = `${'🚀'.repeat(90)}${String(Date.now()).slice(-10)}`;
    expect([...emoji]).toHaveLength(100);
    expect((await createTenant(emoji)).name).toBe(emoji);
    const ascii = `${'n'.repeat(87)}${String(Date.now())}`.slice(0, 100).padEnd(100, 'x');
    expect((await createTenant(ascii)).name).toBe(ascii);
  });

  it('answers 409 tenant_exists for a name already taken, and creates nothing', async () => {
    const name = uniqueName('dup');
    const first = await createTenant(name);
    const before = await tenantCount();
    await expectError(await adminRequest(TENANTS, { method: 'POST', json: { name } }), 409, 'tenant_exists');
    expect(await tenantCount()).toBe(before);
    const rows = await gw.db.admin`SELECT id FROM tenants WHERE name = ${name}`;
    expect(rows.map((r) => r.id)).toEqual([first.id]);
  });

  it.each([
    ['missing', {}, 'invalid_field'],
    ['null', { name: null }, 'invalid_field'],
    ['a number', { name: 42 }, 'invalid_field'],
    ['empty', { name: '' }, 'invalid_field'],
    ['blank', { name: '   ' }, 'invalid_field'],
    ['101 characters', { name: 'n'.repeat(101) }, 'invalid_field'],
    ['101 emoji', { name: '🚀'.repeat(101) }, 'invalid_field'],
    ['with a control character', { name: 'acme\u0001corp' }, 'invalid_field'],
    ['with a NUL character', { name: 'acme\u0000corp' }, 'invalid_field'],
    ['with a newline', { name: 'acme\ncorp' }, 'invalid_field'],
    ['accompanied by an unknown field', { name: 'acme-extra', db_user: 'postgres' }, 'unknown_field'],
    ['accompanied by a password', { name: 'acme-password', password: 'hunter2' }, 'unknown_field'],
    ['an array body', ['acme'], 'invalid_body'],
    ['a string body', 'acme', 'invalid_body'],
  ])('answers 400 when the name is %s, and creates nothing', async (_, body, code) => {
    const before = await tenantCount();
    await expectError(await adminRequest(TENANTS, { method: 'POST', json: body }), 400, code);
    expect(await tenantCount()).toBe(before);
  });

  it('answers 400 invalid_json and 415 for bodies that are not JSON, and creates nothing', async () => {
    const before = await tenantCount();
    const headers = { authorization: `Bearer ${gw.adminToken}` };
    await expectError(
      await fetch(gw.url + TENANTS, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{"name":' }),
      400,
      'invalid_json',
    );
    await expectError(await fetch(gw.url + TENANTS, { method: 'POST', headers, body: 'name=acme' }), 415, 'unsupported_media_type');
    expect(await tenantCount()).toBe(before);
  });
});

describe('GET /v1/admin/tenants', () => {
  async function page(query: string): Promise<TenantPage> {
    const res = await adminRequest(`${TENANTS}${query}`);
    if (res.status !== 200) throw new Error(`listing ${query} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as TenantPage;
  }

  it('answers page 1 of up to 50 by default, with the catalog total', async () => {
    await createTenant(uniqueName('listed'));
    const first = await page('');
    const total = await tenantCount();
    expect(Object.keys(first).sort()).toEqual(['page', 'page_size', 'records', 'total', 'total_pages']);
    expect(first).toMatchObject({ page: 1, page_size: 50, total, total_pages: Math.ceil(total / 50) });
    expect(first.records).toHaveLength(Math.min(total, 50));
    for (const record of first.records) {
      expect(Object.keys(record).sort()).toEqual([
        'created_at',
        'db_user',
        'id',
        'model',
        'name',
        'rate_limit_burst',
        'rate_limit_rps',
        'server',
        'status',
        'updated_at',
      ]);
    }
  });

  it('pages through every tenant, oldest first, without overlap or gaps', async () => {
    for (let i = 0; i < 3; i++) await createTenant(uniqueName('paged'));
    const catalog = await gw.db.admin<{ id: string }[]>`SELECT id FROM tenants`;
    const total = catalog.length;
    const pageSize = 2;
    const pages: TenantPage[] = [];
    for (let p = 1; p <= Math.ceil(total / pageSize); p++) pages.push(await page(`?page=${p}&page_size=${pageSize}`));
    for (const [i, p] of pages.entries()) {
      expect(p).toMatchObject({ page: i + 1, page_size: pageSize, total, total_pages: Math.ceil(total / pageSize) });
      expect(p.records.length).toBe(i < pages.length - 1 ? pageSize : total - pageSize * (pages.length - 1));
    }
    const listed = pages.flatMap((p) => p.records);
    expect(new Set(listed.map((t) => t.id)).size).toBe(total);
    expect(listed.map((t) => t.id).sort()).toEqual(catalog.map((t) => t.id).sort());
    const times = listed.map((t) => Date.parse(t.created_at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('answers no records but the total for a page beyond the end', async () => {
    const total = await tenantCount();
    expect(await page('?page=1000&page_size=10')).toEqual({
      records: [],
      page: 1000,
      page_size: 10,
      total,
      total_pages: Math.ceil(total / 10),
    });
  });

  it.each([
    ['sort=name', 'unknown_parameter', 'sort'],
    ['name=acme', 'unknown_parameter', 'name'],
    ['page=0', 'invalid_parameter', 'page'],
    ['page=abc', 'invalid_parameter', 'page'],
    ['page_size=0', 'invalid_parameter', 'page_size'],
    ['page_size=1001', 'invalid_parameter', 'page_size'],
    ['page=1;DROP TABLE tenants', 'invalid_parameter', 'page'],
    ['page=1&page=2', 'duplicate_parameter', 'page'],
  ])('answers 400 for ?%s', async (query, code, name) => {
    await expectError(await adminRequest(`${TENANTS}?${query}`), 400, code, name);
  });
});

describe('POST /v1/admin/tenants/:id/rotate', () => {
  it('replaces the password: the old one no longer logs in, the new one does', async () => {
    const tenant = await createTenant(uniqueName('rotated'));
    const oldSealed = await sealedPassword(tenant.id);
    const oldPassword = openCredential(oldSealed, gw.credentialsKey);

    const res = await adminRequest(`${TENANTS}/${tenant.id}/rotate`, { method: 'POST' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string; rotated_at: string };
    expect(Object.keys(body).sort()).toEqual(['id', 'rotated_at']);
    expect(body.id).toBe(tenant.id);
    expect(Math.abs(Date.parse(body.rotated_at) - Date.now())).toBeLessThan(60_000);

    const newSealed = await sealedPassword(tenant.id);
    const newPassword = openCredential(newSealed, gw.credentialsKey);
    expect(newSealed).not.toBe(oldSealed);
    expect(newPassword).not.toBe(oldPassword);
    await expect(logIn(tenant.db_user, oldPassword)).rejects.toMatchObject({ code: '28P01' });
    expect(await logIn(tenant.db_user, newPassword)).toBe(tenant.db_user);
  });

  it("closes the tenant's dedicated pool, and the next dedicated pool logs in with the new password", async () => {
    const tenant = await createTenant(uniqueName('pooled'));
    expect((await usersRequest(tenant.id, { method: 'POST', json: { first_name: 'Ada', last_name: 'Lovelace' } })).status).toBe(201);
    await onDedicatedPool(tenant.id);
    const before = await backendPids(tenant.db_user);
    expect(before.length).toBeGreaterThan(0);

    expect((await adminRequest(`${TENANTS}/${tenant.id}/rotate`, { method: 'POST' })).status).toBe(200);
    await waitFor(async () => (await backendPids(tenant.db_user)).every((pid) => !before.includes(pid)), 5_000, 'the old pool to close');

    const list = await usersRequest(tenant.id);
    expect(list.status).toBe(200);
    expect(((await list.json()) as { total: number }).total).toBe(1);
    await onDedicatedPool(tenant.id);
    const after = await backendPids(tenant.db_user);
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter((pid) => before.includes(pid))).toEqual([]);
  });

  it('answers 404 tenant_not_found for an unknown id and 400 invalid_tenant_id for a non-UUID', async () => {
    await expectError(await adminRequest(`${TENANTS}/${UNKNOWN_ID}/rotate`, { method: 'POST' }), 404, 'tenant_not_found');
    await expectError(await adminRequest(`${TENANTS}/not-a-uuid/rotate`, { method: 'POST' }), 400, 'invalid_tenant_id');
    await expectError(await adminRequest(`${TENANTS}/${UNKNOWN_ID.replaceAll('-', '')}/rotate`, { method: 'POST' }), 400, 'invalid_tenant_id');
  });
});

describe('DELETE /v1/admin/tenants/:id', () => {
  it("removes the tenant's users, catalog row, role and sessions, and leaves other tenants alone", async () => {
    const doomed = await createTenant(uniqueName('doomed'));
    const survivor = await createTenant(uniqueName('survivor'));
    for (const [tenantId, first] of [
      [doomed.id, 'Ada'],
      [doomed.id, 'Alan'],
      [survivor.id, 'Grace'],
    ] as const) {
      expect((await usersRequest(tenantId, { method: 'POST', json: { first_name: first, last_name: 'X' } })).status).toBe(201);
    }
    await onDedicatedPool(doomed.id);
    expect((await backendPids(doomed.db_user)).length).toBeGreaterThan(0);

    const res = await adminRequest(`${TENANTS}/${doomed.id}`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');

    const counts = await gw.db.admin<{ tenant_id: string; n: number }[]>`
      SELECT tenant_id, count(*)::int AS n FROM users WHERE tenant_id IN ${gw.db.admin([doomed.id, survivor.id])} GROUP BY tenant_id`;
    expect(counts).toEqual([{ tenant_id: survivor.id, n: 1 }]);
    expect(await gw.db.admin`SELECT 1 FROM tenants WHERE id = ${doomed.id}`).toHaveLength(0);
    expect(await roleExists(doomed.db_user)).toBe(false);
    await waitFor(async () => (await backendPids(doomed.db_user)).length === 0, 5_000, 'the sessions of the deleted role to end');

    expect(await roleExists(survivor.db_user)).toBe(true);
    const survivorList = await usersRequest(survivor.id);
    expect(survivorList.status).toBe(200);
    expect(((await survivorList.json()) as { total: number }).total).toBe(1);
  });

  it('answers 404 afterwards: to users requests, to a second delete and to rotate', async () => {
    const tenant = await createTenant(uniqueName('gone'));
    expect((await usersRequest(tenant.id)).status).toBe(200);
    expect((await adminRequest(`${TENANTS}/${tenant.id}`, { method: 'DELETE' })).status).toBe(204);

    await expectError(await usersRequest(tenant.id), 404, 'tenant_not_found');
    await expectError(await usersRequest(tenant.id, { method: 'POST', json: { first_name: 'A', last_name: 'B' } }), 404, 'tenant_not_found');
    await expectError(await adminRequest(`${TENANTS}/${tenant.id}`, { method: 'DELETE' }), 404, 'tenant_not_found');
    await expectError(await adminRequest(`${TENANTS}/${tenant.id}/rotate`, { method: 'POST' }), 404, 'tenant_not_found');
    const listed = (await (await adminRequest(`${TENANTS}?page_size=1000`)).json()) as TenantPage;
    expect(listed.records.map((t) => t.id)).not.toContain(tenant.id);
  });

  it('answers 404 tenant_not_found for an unknown id and 400 invalid_tenant_id for a non-UUID', async () => {
    await expectError(await adminRequest(`${TENANTS}/${UNKNOWN_ID}`, { method: 'DELETE' }), 404, 'tenant_not_found');
    await expectError(await adminRequest(`${TENANTS}/42`, { method: 'DELETE' }), 400, 'invalid_tenant_id');
  });
});
