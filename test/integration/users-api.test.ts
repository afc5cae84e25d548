// Proves POST and GET /v1/internal/users over HTTP against a real gateway and PostgreSQL: response
// shapes, every validation error (and that a rejected request stores nothing), pagination, sorting,
// search, equality filters, date ranges, and that SQL-looking input is refused or treated as data.
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

interface UserPage {
  records: UserJson[];
  page: number;
  page_size: number;
  total: number;
  total_pages: number;
}

const USERS = '/v1/internal/users';
const USER_KEYS = ['confirmed', 'created_at', 'first_name', 'id', 'last_name', 'updated_at'];
const PAGE_KEYS = ['next_cursor', 'page', 'page_size', 'records', 'total', 'total_exact', 'total_pages'];
// RFC 3339, UTC, microseconds: what src/users/response.ts promises.
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UNKNOWN_TENANT = '6f1c7a52-9d0e-4b8a-a1f3-2c4d5e6f7a8b';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => {
  await gw?.close();
});

async function newTenant(): Promise<string> {
  return (await gw.createTenant()).id;
}

function post(tenantId: string, json: unknown): Promise<Response> {
  return gw.request(USERS, { method: 'POST', headers: { 'x-tenant-id': tenantId }, json });
}

/** POST with a raw body and exactly the headers given (no JSON encoding, no content-type added). */
function postRaw(headers: Record<string, string>, body: string | Uint8Array): Promise<Response> {
  return fetch(gw.url + USERS, { method: 'POST', headers, body });
}

/** Whose each created user is: under the schema model a user's row lives in its tenant's schema. */
const tenantOfUser = new Map<string, string>();

async function createUser(tenantId: string, firstName: string, lastName: string): Promise<UserJson> {
  const res = await post(tenantId, { first_name: firstName, last_name: lastName });
  if (res.status !== 201) throw new Error(`creating a user answered ${res.status}: ${await res.text()}`);
  const user = (await res.json()) as UserJson;
  tenantOfUser.set(user.id, tenantId);
  return user;
}

/** The users table holding this user (created through createUser). */
const tableOfUser = (id: string): ReturnType<TestGateway['usersOf']> => gw.usersOf(tenantOfUser.get(id) ?? '');
/** The superuser connection to the database holding this user's table. */
const adminOfUser = (id: string): ReturnType<TestGateway['adminOf']> => gw.adminOf(tenantOfUser.get(id) ?? '');

async function createUsers(tenantId: string, count: number, prefix = 'User'): Promise<UserJson[]> {
  const users: UserJson[] = [];
  // Sequential on purpose: each insert commits after the previous one, so created_at strictly grows.
  for (let i = 0; i < count; i++) users.push(await createUser(tenantId, `${prefix}${i}`, 'Tester'));
  return users;
}

function list(tenantId: string, query: string | Record<string, string> = ''): Promise<Response> {
  const qs = typeof query === 'string' ? query : new URLSearchParams(query).toString();
  return gw.request(qs === '' ? USERS : `${USERS}?${qs}`, { headers: { 'x-tenant-id': tenantId } });
}

async function listOk(tenantId: string, query: string | Record<string, string> = ''): Promise<UserPage> {
  const res = await list(tenantId, query);
  if (res.status !== 200) throw new Error(`listing ${JSON.stringify(query)} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as UserPage;
}

async function listIds(tenantId: string, query: Record<string, string>): Promise<string[]> {
  return (await listOk(tenantId, query)).records.map((u) => u.id);
}

async function storedCount(tenantId?: string): Promise<number> {
  const sql = tenantId === undefined ? gw.db.admin : gw.adminOf(tenantId);
  const [row] =
    tenantId === undefined
      ? await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ${(await gw.allUsers()).table}`
      : await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ${gw.usersOf(tenantId)} WHERE tenant_id = ${tenantId}`;
  return row?.n ?? -1;
}

/**
 * Sets columns the API does not let a caller set. The users trigger keeps created_at and stamps
 * updated_at on every UPDATE, so the update runs with triggers off (replica mode, superuser only).
 * Timestamps travel as text: postgres.js would pass a timestamptz parameter through a JS Date and
 * drop its microseconds.
 */
async function forceColumns(id: string, values: { confirmed?: boolean; created_at?: string; updated_at?: string }): Promise<void> {
  await adminOfUser(id).begin(async (tx) => {
    await tx`SET LOCAL session_replication_role = replica`;
    const [row] = await tx<{ id: string }[]>`
      UPDATE ${tableOfUser(id)} SET
        confirmed = coalesce(${values.confirmed ?? null}::boolean, confirmed),
        created_at = coalesce(${values.created_at ?? null}::text::timestamptz, created_at),
        updated_at = coalesce(${values.updated_at ?? null}::text::timestamptz, updated_at)
      WHERE id = ${id} RETURNING id`;
    if (!row) throw new Error(`no user ${id} to update`);
  });
}

describe('routing', () => {
  it.each(['PUT', 'PATCH', 'DELETE'])('%s /v1/internal/users is 405 with Allow, whatever the headers', async (method) => {
    const res = await gw.request('/v1/internal/users', { method });
    expect(res.headers.get('allow')).toBe('GET, POST, HEAD');
    await expectError(res, 405, 'method_not_allowed', method);
  });
});

describe('POST /v1/internal/users', () => {
  it('answers 201 with exactly the public fields of the new user, never its tenant_id', async () => {
    const tenantId = await newTenant();
    const res = await post(tenantId, { first_name: 'Ada', last_name: 'Lovelace' });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const user = (await res.json()) as UserJson;
    expect(Object.keys(user).sort()).toEqual(USER_KEYS);
    expect(user.id).toMatch(UUID);
    expect(user.first_name).toBe('Ada');
    expect(user.last_name).toBe('Lovelace');
    expect(user.confirmed).toBe(false);
    expect(user.created_at).toMatch(TIMESTAMP);
    expect(user.updated_at).toBe(user.created_at);
    expect(Math.abs(Date.parse(user.created_at) - Date.now())).toBeLessThan(60_000);
  });

  it('stores the row under the tenant named by x-tenant-id, with the timestamps it answered', async () => {
    const tenantId = await newTenant();
    const user = await createUser(tenantId, 'Grace', 'Hopper');
    const rows = await adminOfUser(user.id)<{ tenant_id: string; first_name: string; last_name: string; confirmed: boolean; same_times: boolean }[]>`
      SELECT tenant_id, first_name, last_name, confirmed,
             created_at = ${user.created_at}::text::timestamptz AND updated_at = ${user.updated_at}::text::timestamptz AS same_times
      FROM ${tableOfUser(user.id)} WHERE id = ${user.id}`;
    expect(rows).toEqual([{ tenant_id: tenantId, first_name: 'Grace', last_name: 'Hopper', confirmed: false, same_times: true }]);
  });

  it('stores names exactly as sent: untrimmed, with quotes, accents and emoji', async () => {
    const tenantId = await newTenant();
    const firstName = ` Zoë "O'Brien" 😀 `;
    const user = await createUser(tenantId, firstName, 'Ñandú\\');
    expect(user.first_name).toBe(firstName);
    const [row] = await adminOfUser(user.id)<{ first_name: string; last_name: string }[]>`
      SELECT first_name, last_name FROM ${tableOfUser(user.id)} WHERE id = ${user.id}`;
    expect(row).toEqual({ first_name: firstName, last_name: 'Ñandú\\' });
  });

  it('accepts names of exactly 50 characters, counting an emoji as one character', async () => {
    const tenantId = await newTenant();
    const ascii = 'a'.repeat(50);
    const emoji = '😀'.repeat(50);
    await createUser(tenantId, ascii, emoji);
    await createUser(tenantId, emoji, ascii);
    const rows = await gw.adminOf(tenantId)<{ f: number; l: number }[]>`
      SELECT char_length(first_name) AS f, char_length(last_name) AS l FROM ${gw.usersOf(tenantId)} WHERE tenant_id = ${tenantId}`;
    expect(rows).toEqual([
      { f: 50, l: 50 },
      { f: 50, l: 50 },
    ]);
  });

  it('accepts application/json with a charset parameter and an upper-case tenant id', async () => {
    const tenantId = await newTenant();
    const res = await postRaw(
      { 'x-tenant-id': tenantId.toUpperCase(), 'content-type': 'Application/JSON; charset=utf-8' },
      JSON.stringify({ first_name: 'Alan', last_name: 'Turing' }),
    );
    expect(res.status).toBe(201);
    expect(await storedCount(tenantId)).toBe(1);
  });
});

describe('POST /v1/internal/users rejections store nothing', () => {
  let tenantId: string;
  let totalBefore: number;
  const valid = { first_name: 'Ada', last_name: 'Lovelace' };

  beforeAll(async () => {
    tenantId = await newTenant();
    totalBefore = await storedCount();
  });

  async function expectRejected(res: Response, status: number, code: string, mentions?: string): Promise<void> {
    await expectError(res, status, code, mentions);
    expect(await storedCount(tenantId)).toBe(0);
    expect(await storedCount()).toBe(totalBefore);
  }

  it('answers 400 missing_tenant_id without an x-tenant-id header or with an empty one', async () => {
    await expectRejected(await gw.request(USERS, { method: 'POST', json: valid }), 400, 'missing_tenant_id', 'x-tenant-id');
    await expectRejected(await post('', valid), 400, 'missing_tenant_id', 'x-tenant-id');
  });

  it.each([
    ['not a UUID', 'tenant-1'],
    ['a UUID without dashes', '6f1c7a529d0e4b8aa1f32c4d5e6f7a8b'],
    ['a UUID with a trailing character', `${UNKNOWN_TENANT}x`],
    ['a UUID in braces', `{${UNKNOWN_TENANT}}`],
    ['SQL', "' OR 1=1 --"],
  ])('answers 400 invalid_tenant_id for an x-tenant-id that is %s', async (_, header) => {
    await expectRejected(await post(header, valid), 400, 'invalid_tenant_id', 'x-tenant-id');
  });

  it('answers 404 tenant_not_found for a well-formed tenant id that is not in the catalog', async () => {
    await expectRejected(await post(UNKNOWN_TENANT, valid), 404, 'tenant_not_found');
  });

  it.each([
    ['an empty body', ''],
    ['a truncated object', '{"first_name":"Ada",'],
    ['single-quoted keys', "{'first_name':'Ada','last_name':'Lovelace'}"],
    ['a trailing comma', '{"first_name":"Ada","last_name":"Lovelace",}'],
  ])('answers 400 invalid_json for %s', async (_, body) => {
    await expectRejected(await postRaw({ 'x-tenant-id': tenantId, 'content-type': 'application/json' }, body), 400, 'invalid_json');
  });

  it('answers 400 invalid_json for a body that is not valid UTF-8', async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('{"first_name":"'), 0xff, 0xfe, ...new TextEncoder().encode('","last_name":"X"}')]);
    await expectRejected(await postRaw({ 'x-tenant-id': tenantId, 'content-type': 'application/json' }, bytes), 400, 'invalid_json');
  });

  it('answers 415 when the body is not declared application/json', async () => {
    const json = JSON.stringify(valid);
    // A byte body makes fetch send no content-type at all.
    await expectRejected(await postRaw({ 'x-tenant-id': tenantId }, new TextEncoder().encode(json)), 415, 'unsupported_media_type');
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/json-patch+json', 'application/jsonx', 'text/json']) {
      await expectRejected(await postRaw({ 'x-tenant-id': tenantId, 'content-type': type }, json), 415, 'unsupported_media_type');
    }
  });

  it('answers 413 for a declared body over the 16 KiB limit, even when it is valid', async () => {
    const body = JSON.stringify({ ...valid, padding: 'x'.repeat(17_000) });
    await expectRejected(await postRaw({ 'x-tenant-id': tenantId, 'content-type': 'application/json' }, body), 413, 'payload_too_large');
  });

  it('answers 413 for a streamed body without a length that grows over the limit', async () => {
    const chunk = new TextEncoder().encode(' '.repeat(4096));
    const tail = new TextEncoder().encode(JSON.stringify({ ...valid, padding: 'x' }));
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(chunk);
        controller.enqueue(tail);
        controller.close();
      },
    });
    const res = await fetch(gw.url + USERS, {
      method: 'POST',
      headers: { 'x-tenant-id': tenantId, 'content-type': 'application/json' },
      body,
      duplex: 'half',
    });
    await expectRejected(res, 413, 'payload_too_large');
  });

  it.each([
    ['an array', []],
    ['an array of a user', [valid]],
    ['a string', 'Ada Lovelace'],
    ['a number', 42],
    ['null', null],
    ['true', true],
  ])('answers 400 invalid_body when the body is %s', async (_, body) => {
    await expectRejected(await post(tenantId, body), 400, 'invalid_body');
  });

  describe.each(['first_name', 'last_name'])('%s', (field) => {
    const other = field === 'first_name' ? 'last_name' : 'first_name';
    const withValue = (value: unknown): Record<string, unknown> => ({ [other]: 'Valid', [field]: value });

    it.each([
      ['missing', undefined],
      ['null', null],
      ['a number', 7],
      ['an object', { name: 'x' }],
      ['empty', ''],
      ['blank spaces', '   '],
      ['blank no-break spaces', '\u00a0\u00a0'],
      ['51 ASCII characters', 'a'.repeat(51)],
      ['51 emoji', '😀'.repeat(51)],
      ['a NUL character', 'a\u0000b'],
      ['a newline', 'a\nb'],
      ['a lone surrogate', 'a\ud800b'],
    ])(`answers 400 invalid_field naming ${field} when it is %s`, async (_, value) => {
      const body = value === undefined ? { [other]: 'Valid' } : withValue(value);
      await expectRejected(await post(tenantId, body), 400, 'invalid_field', field);
    });
  });

  it.each([
    ['tenant_id', { ...valid, tenant_id: UNKNOWN_TENANT }],
    ['id', { ...valid, id: UNKNOWN_TENANT }],
    ['confirmed', { ...valid, confirmed: true }],
    ['created_at', { ...valid, created_at: '2020-01-01T00:00:00Z' }],
    ['First_name', { First_name: 'Ada', last_name: 'Lovelace' }],
    ['__proto__', JSON.parse('{"first_name":"Ada","last_name":"Lovelace","__proto__":{"x":1}}') as unknown],
  ])('answers 400 unknown_field naming %s, an unknown field', async (field, body) => {
    await expectRejected(await post(tenantId, body), 400, 'unknown_field', field);
  });

  it('rejects a request naming another tenant in the body even when that tenant exists', async () => {
    const other = await newTenant();
    await expectRejected(await post(tenantId, { ...valid, tenant_id: other }), 400, 'unknown_field', 'tenant_id');
    expect(await storedCount(other)).toBe(0);
  });
});

describe('GET /v1/internal/users paging', () => {
  it('answers page 1 of 10 records, newest created first, by default', async () => {
    const tenantId = await newTenant();
    const users = await createUsers(tenantId, 12);
    const page = await listOk(tenantId);
    expect(Object.keys(page).sort()).toEqual(PAGE_KEYS);
    expect(page).toMatchObject({ page: 1, page_size: 10, total: 12, total_pages: 2 });
    expect(page.records.map((u) => u.id)).toEqual(
      users
        .map((u) => u.id)
        .reverse()
        .slice(0, 10),
    );
    for (const record of page.records) {
      expect(Object.keys(record).sort()).toEqual(USER_KEYS);
      expect(record.created_at).toMatch(TIMESTAMP);
      expect(record.updated_at).toMatch(TIMESTAMP);
    }
    // Records are exactly what POST answered.
    expect(page.records[0]).toEqual(users[11]);
  });

  it('splits 25 users into 3 pages of 10, 10 and 5 with no overlap and nothing left out', async () => {
    const tenantId = await newTenant();
    const users = await createUsers(tenantId, 25);
    const pages = await Promise.all([1, 2, 3].map((page) => listOk(tenantId, { page: String(page), page_size: '10' })));
    expect(pages.map((p) => p.records.length)).toEqual([10, 10, 5]);
    for (const [i, p] of pages.entries()) {
      expect(p).toMatchObject({ page: i + 1, page_size: 10, total: 25, total_pages: 3 });
    }
    const seen = pages.flatMap((p) => p.records.map((u) => u.id));
    expect(new Set(seen).size).toBe(25);
    expect(seen).toEqual(users.map((u) => u.id).reverse());
  });

  it('answers an empty page with the right total for a page beyond the end', async () => {
    const tenantId = await newTenant();
    await createUsers(tenantId, 3);
    expect(await listOk(tenantId, { page: '2', page_size: '3' })).toEqual({
      records: [],
      page: 2,
      page_size: 3,
      total: 3,
      total_pages: 1,
      total_exact: true,
      next_cursor: null,
    });
    expect(await listOk(tenantId, { page: '100000', page_size: '100' })).toEqual({
      records: [],
      page: 100000,
      page_size: 100,
      total: 3,
      total_pages: 1,
      total_exact: true,
      next_cursor: null,
    });
  });

  it('answers no records, total 0 and total_pages 0 for a tenant without users', async () => {
    const tenantId = await newTenant();
    expect(await listOk(tenantId)).toEqual({ records: [], page: 1, page_size: 10, total: 0, total_pages: 0, total_exact: true, next_cursor: null });
  });

  it('lists only the users of the tenant named by x-tenant-id', async () => {
    const a = await newTenant();
    const b = await newTenant();
    const [ofA] = await createUsers(a, 1, 'OfA');
    const [ofB] = await createUsers(b, 1, 'OfB');
    expect(await listIds(a, {})).toEqual([ofA?.id]);
    expect(await listIds(b, {})).toEqual([ofB?.id]);
    expect(await listIds(b, { id: ofA?.id ?? '' })).toEqual([]);
  });

  it('answers 400 missing_tenant_id, 400 invalid_tenant_id and 404 tenant_not_found like POST', async () => {
    await expectError(await gw.request(USERS), 400, 'missing_tenant_id');
    await expectError(await list('nope'), 400, 'invalid_tenant_id');
    await expectError(await list(UNKNOWN_TENANT), 404, 'tenant_not_found');
  });
});

describe('GET /v1/internal/users sorting', () => {
  let tenantId: string;
  let users: UserJson[];
  const fixture = [
    { first: 'Dora', last: 'Ames', confirmed: false, created: '2024-01-03T10:00:00.000000Z', updated: '2024-02-02T10:00:00.000000Z' },
    { first: 'Beth', last: 'Evans', confirmed: true, created: '2024-01-01T10:00:00.000000Z', updated: '2024-02-05T10:00:00.000000Z' },
    { first: 'Ella', last: 'Chen', confirmed: false, created: '2024-01-05T10:00:00.000000Z', updated: '2024-02-01T10:00:00.000000Z' },
    { first: 'Anna', last: 'Diaz', confirmed: true, created: '2024-01-02T10:00:00.000000Z', updated: '2024-02-04T10:00:00.000000Z' },
    { first: 'Cleo', last: 'Baker', confirmed: false, created: '2024-01-04T10:00:00.000000Z', updated: '2024-02-03T10:00:00.000000Z' },
  ];

  beforeAll(async () => {
    tenantId = await newTenant();
    for (const f of fixture) {
      const user = await createUser(tenantId, f.first, f.last);
      await forceColumns(user.id, { confirmed: f.confirmed, created_at: f.created, updated_at: f.updated });
    }
    users = (await listOk(tenantId)).records;
    expect(users).toHaveLength(fixture.length);
  });

  const columns = ['id', 'first_name', 'last_name', 'confirmed', 'created_at', 'updated_at'] as const;

  /** Ascending by the column, then by id (lower-case UUID text orders like PostgreSQL's uuid). */
  function ascending(column: (typeof columns)[number]): string[] {
    const key = (u: UserJson): string => String(u[column]);
    return [...users].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : x.id < y.id ? -1 : 1)).map((u) => u.id);
  }

  it.each(columns)('sorts by %s ascending and descending, ties broken by id', async (column) => {
    const expected = ascending(column);
    expect(await listIds(tenantId, { sort_column: column, sort_direction: 'ascending' })).toEqual(expected);
    expect(await listIds(tenantId, { sort_column: column, sort_direction: 'descending' })).toEqual([...expected].reverse());
  });

  it('sorts by the named column in descending order when no direction is given', async () => {
    const byName = await listOk(tenantId, { sort_column: 'first_name' });
    expect(byName.records.map((u) => u.first_name)).toEqual(['Ella', 'Dora', 'Cleo', 'Beth', 'Anna']);
  });

  it('keeps the sort order across pages', async () => {
    const first = await listOk(tenantId, { sort_column: 'last_name', sort_direction: 'ascending', page_size: '2', page: '1' });
    const second = await listOk(tenantId, { sort_column: 'last_name', sort_direction: 'ascending', page_size: '2', page: '2' });
    const third = await listOk(tenantId, { sort_column: 'last_name', sort_direction: 'ascending', page_size: '2', page: '3' });
    expect([...first.records, ...second.records, ...third.records].map((u) => u.last_name)).toEqual(['Ames', 'Baker', 'Chen', 'Diaz', 'Evans']);
  });
});

describe('GET /v1/internal/users search', () => {
  let tenantId: string;
  const names: Record<string, string> = {};

  beforeAll(async () => {
    tenantId = await newTenant();
    for (const [first, last] of [
      ['Marianne', 'Jones'],
      ['Bob', 'Mariano'],
      ['MARIO', 'Kart'],
      ['Ann', 'Lee'],
      ['100%_real', 'Percent'],
      ['100xyreal', 'Lookalike'],
      ['back\\slash', 'Escape'],
      ['backXslash', 'Lookalike'],
    ] as const) {
      names[`${first} ${last}`] = (await createUser(tenantId, first, last)).id;
    }
  });

  async function found(query: Record<string, string>): Promise<string[]> {
    const page = await listOk(tenantId, { ...query, page_size: '100' });
    expect(page.total).toBe(page.records.length);
    return page.records.map((u) => `${u.first_name} ${u.last_name}`).sort();
  }

  it('finds a case-insensitive substring in first_name or last_name', async () => {
    expect(await found({ search: 'mArI' })).toEqual(['Bob Mariano', 'MARIO Kart', 'Marianne Jones']);
    expect(await found({ search: 'ANNE' })).toEqual(['Marianne Jones']);
    expect(await found({ search: 'zzz' })).toEqual([]);
  });

  it('trims the search term and ignores a blank one', async () => {
    expect(await found({ search: '  kart  ' })).toEqual(['MARIO Kart']);
    expect((await found({ search: '   ' })).length).toBe(Object.keys(names).length);
  });

  it('searches only the columns named in search_columns', async () => {
    expect(await found({ search: 'mari', search_columns: 'first_name' })).toEqual(['MARIO Kart', 'Marianne Jones']);
    expect(await found({ search: 'mari', search_columns: 'last_name' })).toEqual(['Bob Mariano']);
    expect(await found({ search: 'mari', search_columns: 'last_name,first_name' })).toEqual(['Bob Mariano', 'MARIO Kart', 'Marianne Jones']);
  });

  it('treats % and _ in the search term as literal characters, not wildcards', async () => {
    expect(await found({ search: '100%_real' })).toEqual(['100%_real Percent']);
    expect(await found({ search: '%' })).toEqual(['100%_real Percent']);
    expect(await found({ search: '_' })).toEqual(['100%_real Percent']);
    expect(await found({ search: '0%_r' })).toEqual(['100%_real Percent']);
  });

  it('treats a backslash in the search term as a literal character, not an escape', async () => {
    expect(await found({ search: 'k\\s' })).toEqual(['back\\slash Escape']);
  });

  it('combines search with an equality filter', async () => {
    expect(await found({ search: 'mari', first_name: 'Bob' })).toEqual(['Bob Mariano']);
  });
});

describe('GET /v1/internal/users equality filters', () => {
  let tenantId: string;
  let alice: UserJson;
  let lowerAlice: UserJson;
  let bob: UserJson;

  beforeAll(async () => {
    tenantId = await newTenant();
    alice = await createUser(tenantId, 'Alice', 'Smith');
    lowerAlice = await createUser(tenantId, 'alice', 'Jones');
    bob = await createUser(tenantId, 'Bob', 'Smith');
    await gw.adminOf(tenantId)`UPDATE ${gw.usersOf(tenantId)} SET confirmed = true WHERE id IN ${gw.db.admin([alice.id, bob.id])}`;
  });

  const ids = async (query: Record<string, string>): Promise<string[]> =>
    (await listIds(tenantId, { ...query, sort_column: 'first_name', sort_direction: 'ascending' })).sort();
  const sorted = (...users: UserJson[]): string[] => users.map((u) => u.id).sort();

  it('filters on confirmed=true and confirmed=false', async () => {
    expect(await ids({ confirmed: 'true' })).toEqual(sorted(alice, bob));
    expect(await ids({ confirmed: 'false' })).toEqual(sorted(lowerAlice));
    const page = await listOk(tenantId, { confirmed: 'true' });
    expect(page.total).toBe(2);
    expect(page.records.every((u) => u.confirmed)).toBe(true);
  });

  it('filters on an exact, case-sensitive first_name and last_name', async () => {
    expect(await ids({ first_name: 'Alice' })).toEqual(sorted(alice));
    expect(await ids({ first_name: 'alice' })).toEqual(sorted(lowerAlice));
    expect(await ids({ first_name: 'Ali' })).toEqual([]);
    expect(await ids({ last_name: 'Smith' })).toEqual(sorted(alice, bob));
  });

  it('filters on id, in either letter case', async () => {
    expect(await ids({ id: bob.id })).toEqual(sorted(bob));
    expect(await ids({ id: bob.id.toUpperCase() })).toEqual(sorted(bob));
    expect(await ids({ id: UNKNOWN_TENANT })).toEqual([]);
  });

  it('combines filters with AND', async () => {
    expect(await ids({ confirmed: 'true', last_name: 'Smith', first_name: 'Bob' })).toEqual(sorted(bob));
    expect(await ids({ confirmed: 'false', last_name: 'Smith' })).toEqual([]);
  });
});

describe('GET /v1/internal/users date ranges', () => {
  let tenantId: string;
  let u1: string;
  let u2: string;
  let u3: string;

  beforeAll(async () => {
    tenantId = await newTenant();
    const created = await createUsers(tenantId, 3, 'Dated');
    [u1, u2, u3] = created.map((u) => u.id) as [string, string, string];
    await forceColumns(u1, { created_at: '2024-01-01T00:00:00Z', updated_at: '2025-03-01T00:00:00Z' });
    await forceColumns(u2, { created_at: '2024-01-02T00:00:00Z', updated_at: '2025-02-01T00:00:00Z' });
    await forceColumns(u3, { created_at: '2024-01-03T00:00:00Z', updated_at: '2025-01-01T00:00:00Z' });
  });

  const ids = async (query: Record<string, string>): Promise<string[]> =>
    listIds(tenantId, { ...query, sort_column: 'created_at', sort_direction: 'ascending' });

  it('answers the stored timestamps in RFC 3339 UTC with microseconds', async () => {
    const page = await listOk(tenantId, { sort_column: 'created_at', sort_direction: 'ascending' });
    expect(page.records.map((u) => [u.created_at, u.updated_at])).toEqual([
      ['2024-01-01T00:00:00.000000Z', '2025-03-01T00:00:00.000000Z'],
      ['2024-01-02T00:00:00.000000Z', '2025-02-01T00:00:00.000000Z'],
      ['2024-01-03T00:00:00.000000Z', '2025-01-01T00:00:00.000000Z'],
    ]);
  });

  it('date_after and date_before on created_at include their bounds', async () => {
    expect(await ids({ date_after: '2024-01-02T00:00:00Z' })).toEqual([u2, u3]);
    expect(await ids({ date_before: '2024-01-02T00:00:00Z' })).toEqual([u1, u2]);
    expect(await ids({ date_after: '2024-01-02T00:00:00Z', date_before: '2024-01-02T00:00:00Z' })).toEqual([u2]);
    expect(await ids({ date_column: 'created_at', date_after: '2024-01-01T12:00:00Z', date_before: '2024-01-02T12:00:00Z' })).toEqual([u2]);
  });

  it('compares fractional seconds, not just whole seconds', async () => {
    expect(await ids({ date_after: '2024-01-02T00:00:00.001Z' })).toEqual([u3]);
    expect(await ids({ date_before: '2024-01-01T23:59:59.999Z' })).toEqual([u1]);
  });

  it('honours a UTC offset and lower-case t and z', async () => {
    expect(await ids({ date_after: '2024-01-02T01:00:00+01:00' })).toEqual([u2, u3]);
    expect(await ids({ date_before: '2024-01-01T19:00:00-05:00' })).toEqual([u1, u2]);
    expect(await ids({ date_after: '2024-01-02t00:00:00z' })).toEqual([u2, u3]);
  });

  it('filters on updated_at when date_column=updated_at', async () => {
    expect(await ids({ date_column: 'updated_at', date_after: '2025-02-01T00:00:00Z' })).toEqual([u1, u2]);
    expect(await ids({ date_column: 'updated_at', date_before: '2025-02-01T00:00:00Z' })).toEqual([u2, u3]);
    expect(await ids({ date_column: 'updated_at', date_after: '2025-02-01T00:00:00Z', date_before: '2025-02-01T00:00:00Z' })).toEqual([u2]);
  });

  it('counts only the users in range in total', async () => {
    const page = await listOk(tenantId, { date_after: '2024-01-02T00:00:00Z', page_size: '1' });
    expect(page).toMatchObject({ total: 2, total_pages: 2 });
  });

  describe('with timestamps that differ only in microseconds', () => {
    let micro: string;
    let early: string;
    let late: string;

    beforeAll(async () => {
      micro = await newTenant();
      [early, late] = (await createUsers(micro, 2, 'Micro')).map((u) => u.id) as [string, string];
      await forceColumns(early, { created_at: '2024-06-01T12:00:00.000100Z' });
      await forceColumns(late, { created_at: '2024-06-01T12:00:00.000200Z' });
    });

    const microIds = async (query: Record<string, string>): Promise<string[]> =>
      listIds(micro, { ...query, sort_column: 'created_at', sort_direction: 'ascending' });

    it('answers and orders the stored microseconds', async () => {
      const page = await listOk(micro, { sort_column: 'created_at', sort_direction: 'ascending' });
      expect(page.records.map((u) => [u.id, u.created_at])).toEqual([
        [early, '2024-06-01T12:00:00.000100Z'],
        [late, '2024-06-01T12:00:00.000200Z'],
      ]);
    });

    // Guards against a timestamptz-typed parameter: postgres.js would pass it through a JS Date and
    // drop the microseconds, so a bound of .000150 would behave as .000.
    it('date_after and date_before keep microsecond precision', async () => {
      expect(await microIds({ date_after: '2024-06-01T12:00:00.000150Z' })).toEqual([late]);
      expect(await microIds({ date_before: '2024-06-01T12:00:00.000150Z' })).toEqual([early]);
    });
  });

  it('answers 400 naming date_after when date_after is later than date_before', async () => {
    await expectError(
      await list(tenantId, { date_after: '2024-01-03T00:00:00Z', date_before: '2024-01-02T00:00:00Z' }),
      400,
      'invalid_parameter',
      'date_after',
    );
  });
});

describe('GET /v1/internal/users parameter validation', () => {
  let tenantId: string;

  beforeAll(async () => {
    tenantId = await newTenant();
    await createUsers(tenantId, 2);
  });

  it('accepts the largest page_size, 100', async () => {
    expect(await listOk(tenantId, { page_size: '100' })).toMatchObject({ page_size: 100, total: 2 });
  });

  it.each([
    ['page=0', 'page'],
    ['page=-1', 'page'],
    ['page=1.5', 'page'],
    ['page=abc', 'page'],
    ['page=', 'page'],
    ['page=100001', 'page'],
    ['page_size=0', 'page_size'],
    ['page_size=101', 'page_size'],
    ['page_size=1e2', 'page_size'],
    ['sort_column=email', 'sort_column'],
    ['sort_column=tenant_id', 'sort_column'],
    ['sort_direction=up', 'sort_direction'],
    ['sort_direction=asc', 'sort_direction'],
    ['search_columns=email', 'search_columns'],
    ['search_columns=first_name,first_name', 'search_columns'],
    ['date_column=deleted_at', 'date_column'],
    ['date_after=yesterday', 'date_after'],
    ['date_after=2024-01-01', 'date_after'],
    ['date_before=2024-02-30T00:00:00Z', 'date_before'],
    ['date_before=2024-01-01T00:00:00', 'date_before'],
    ['confirmed=yes', 'confirmed'],
    ['id=42', 'id'],
    ['first_name=', 'first_name'],
    [`last_name=${'x'.repeat(51)}`, 'last_name'],
    [`search=${'s'.repeat(101)}`, 'search'],
  ])('answers 400 invalid_parameter naming the parameter for %s', async (query, name) => {
    await expectError(await list(tenantId, query), 400, 'invalid_parameter', name);
  });

  it.each([
    ['foo=1', 'foo'],
    ['Page=1', 'Page'],
    ['tenant_id=6f1c7a52-9d0e-4b8a-a1f3-2c4d5e6f7a8b', 'tenant_id'],
    ['sort=id', 'sort'],
  ])('answers 400 unknown_parameter for %s', async (query, name) => {
    await expectError(await list(tenantId, query), 400, 'unknown_parameter', name);
  });

  it('answers 400 duplicate_parameter when a parameter is repeated', async () => {
    await expectError(await list(tenantId, 'page=1&page=2'), 400, 'duplicate_parameter', 'page');
  });
});

describe('GET /v1/internal/users with SQL-looking input', () => {
  let tenantId: string;
  let bobby: UserJson;
  let totalBefore: number;
  let tenantTotalBefore: number;

  beforeAll(async () => {
    tenantId = await newTenant();
    await createUsers(tenantId, 3);
    bobby = await createUser(tenantId, "Robert'); DROP TABLE users;--", 'Tables');
    totalBefore = await storedCount();
    tenantTotalBefore = await storedCount(tenantId);
  });

  it.each([
    ['page', '1; DROP TABLE users'],
    ['page', '1 OR 1=1'],
    ['page_size', '10)--'],
    ['sort_column', 'first_name; DROP TABLE users; --'],
    ['sort_column', 'first_name DESC'],
    ['sort_column', '"first_name"'],
    ['sort_column', '(SELECT 1)'],
    ['sort_direction', 'ascending; DROP TABLE users'],
    ['search_columns', 'first_name) OR (1=1'],
    ['search_columns', 'tenant_id'],
    ['date_column', 'created_at; DROP TABLE users'],
    ['date_column', 'id'],
    ['date_after', "2024-01-01T00:00:00Z' OR '1'='1"],
    ['date_before', "2024-01-01T00:00:00Z'); DROP TABLE users; --"],
    ['id', "00000000-0000-0000-0000-000000000000' OR '1'='1"],
    ['confirmed', 'true OR 1=1'],
  ])('answers 400 invalid_parameter for SQL in the whitelisted parameter %s', async (name, value) => {
    await expectError(await list(tenantId, { [name]: value }), 400, 'invalid_parameter', name);
  });

  it.each([['1=1;--'], ["sort_column'"], ['users; DROP TABLE users']])('answers 400 unknown_parameter for SQL in a parameter name: %s', async (name) => {
    await expectError(await list(tenantId, { [name]: '1' }), 400, 'unknown_parameter');
  });

  it.each([
    ['search', "'; DROP TABLE users; --"],
    ['search', "%' OR '1'='1"],
    ['first_name', "x' OR '1'='1"],
    ['last_name', "'; DELETE FROM users; --"],
  ])('treats SQL in %s as data that matches nothing', async (name, value) => {
    expect(await listOk(tenantId, { [name]: value })).toMatchObject({ records: [], total: 0 });
  });

  it('finds a user whose name looks like SQL by search and by exact first_name', async () => {
    expect(await listIds(tenantId, { search: "'); DROP TABLE" })).toEqual([bobby.id]);
    expect(await listIds(tenantId, { first_name: "Robert'); DROP TABLE users;--" })).toEqual([bobby.id]);
  });

  it('answers 400 invalid_tenant_id for SQL in x-tenant-id', async () => {
    await expectError(await list("00000000-0000-0000-0000-000000000000' OR '1'='1"), 400, 'invalid_tenant_id');
  });

  // Declared last, so it runs after every hostile request above.
  it('leaves the users table and every row in place after all of the above', async () => {
    const [row] = await gw.db.admin<{ t: string | null }[]>`SELECT to_regclass('public.users')::text AS t`;
    expect(row?.t).toBe('users');
    expect(await storedCount()).toBe(totalBefore);
    expect(await storedCount(tenantId)).toBe(tenantTotalBefore);
  });
});
