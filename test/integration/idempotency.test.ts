// Idempotency-Key on POST and PATCH /v1/internal/users, through the API, under both isolation models and
// on both paths: a retry with the same key and body answers the first answer without a second write;
// the same key with another body is 422; another tenant's key of the same text is its own; concurrent
// duplicates write once and all get the same answer; an expired key is new again.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { expectError } from '../support/http.js';

const USERS = '/v1/internal/users';
let gw: TestGateway;

beforeAll(async () => {
  // Shared pool unless a test opens a dedicated pool itself.
  gw = await startTestGateway({ pool: { promoteRps: 1_000_000 } });
});
afterAll(async () => {
  await gw?.close();
});

interface Answer {
  status: number;
  body: string;
  replayed: string | null;
}

async function send(tenantId: string, path: string, method: string, json: unknown, key?: string): Promise<Answer> {
  const headers: Record<string, string> = { 'x-tenant-id': tenantId };
  if (key !== undefined) headers['idempotency-key'] = key;
  const res = await gw.request(path, { method, headers, json });
  return { status: res.status, body: await res.text(), replayed: res.headers.get('idempotency-replayed') };
}

const post = (tenantId: string, json: unknown, key?: string): Promise<Answer> => send(tenantId, USERS, 'POST', json, key);

async function count(tenantId: string, first: string): Promise<number> {
  const [row] = await gw.adminOf(tenantId)`SELECT count(*)::int AS n FROM ${gw.usersOf(tenantId)} WHERE tenant_id = ${tenantId} AND first_name = ${first}`;
  return row?.n as number;
}

/** The tenant's key records, read as the superuser: the shared table or the tenant schema's own. */
async function records(tenantId: string): Promise<{ key: string; tenant_id: string }[]> {
  const table = gw.usersTableName(tenantId).replace(/users$/, 'idempotency_keys');
  return gw.adminOf(tenantId).unsafe(`SELECT key, tenant_id FROM ${table} WHERE tenant_id = $1 ORDER BY key`, [tenantId]) as unknown as Promise<
    { key: string; tenant_id: string }[]
  >;
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
    if (path === 'dedicated') for (const t of [a, b]) await gw.gateway.registry.run(t, (sql) => sql`SELECT 1`);
  });

  it('a retry with the same key and body answers the first answer, with no second write', async () => {
    const key = randomUUID();
    const first = await post(a, { first_name: 'Once', last_name: model }, key);
    expect(first.status, first.body).toBe(201);
    expect(first.replayed).toBeNull();
    // The same JSON written differently is the same request.
    const res = await gw.request(USERS, {
      method: 'POST',
      headers: { 'x-tenant-id': a, 'idempotency-key': key, 'content-type': 'application/json' },
      body: ` { "last_name" : "${model}", "first_name": "Once" } `,
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('idempotency-replayed')).toBe('true');
    expect(await res.text()).toBe(first.body);
    expect(await count(a, 'Once')).toBe(1);
  });

  it('the same key with another body is 422 idempotency_key_reused, and nothing is written', async () => {
    const key = randomUUID();
    expect((await post(a, { first_name: 'Reused', last_name: 'One' }, key)).status).toBe(201);
    const res = await gw.request(USERS, {
      method: 'POST',
      headers: { 'x-tenant-id': a, 'idempotency-key': key },
      json: { first_name: 'Reused', last_name: 'Two' },
    });
    await expectError(res, 422, 'idempotency_key_reused', 'Idempotency-Key');
    expect(await count(a, 'Reused')).toBe(1);
  });

  it("tenant B using A's key gets its own write, never A's answer", async () => {
    const key = randomUUID();
    const json = { first_name: 'Shared', last_name: 'Key' };
    const fromA = await post(a, json, key);
    const fromB = await post(b, json, key);
    expect(fromB.status).toBe(201);
    expect(fromB.replayed).toBeNull();
    expect(JSON.parse(fromB.body).id).not.toBe(JSON.parse(fromA.body).id);
    expect(await count(b, 'Shared')).toBe(1);
    // And each replays its own.
    expect((await post(a, json, key)).body).toBe(fromA.body);
    expect((await post(b, json, key)).body).toBe(fromB.body);
    expect((await records(a)).filter((r) => r.key === key)).toEqual([{ key, tenant_id: a }]);
    expect((await records(b)).filter((r) => r.key === key)).toEqual([{ key, tenant_id: b }]);
  });

  it('20 concurrent POSTs with one key write one row, and all answer the same', async () => {
    const key = randomUUID();
    const first = `Burst${model}${path}`;
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(a, { first_name: first, last_name: 'Parallel' }, key)));
    expect(answers.map((x) => x.status)).toEqual(answers.map(() => 201));
    expect(new Set(answers.map((x) => x.body)).size).toBe(1);
    expect(answers.filter((x) => x.replayed === null)).toHaveLength(1);
    expect(await count(a, first)).toBe(1);
  });

  it('PATCH: a retry answers the first answer even after the user changed; another body is 422', async () => {
    const user = JSON.parse((await post(a, { first_name: 'Patch', last_name: 'Me' })).body) as { id: string };
    const key = randomUUID();
    const first = await send(a, `${USERS}/${user.id}`, 'PATCH', { confirmed: true }, key);
    expect(first.status, first.body).toBe(200);
    expect(JSON.parse(first.body)).toMatchObject({ confirmed: true, last_name: 'Me' });
    expect((await send(a, `${USERS}/${user.id}`, 'PATCH', { last_name: 'Changed' })).status).toBe(200);
    const again = await send(a, `${USERS}/${user.id}`, 'PATCH', { confirmed: true }, key);
    expect(again).toEqual({ status: 200, body: first.body, replayed: 'true' });
    await expectError(
      await gw.request(`${USERS}/${user.id}`, { method: 'PATCH', headers: { 'x-tenant-id': a, 'idempotency-key': key }, json: { confirmed: false } }),
      422,
      'idempotency_key_reused',
    );
    // The same key on another user is another request too.
    const other = JSON.parse((await post(a, { first_name: 'Patch', last_name: 'Other' })).body) as { id: string };
    expect((await send(a, `${USERS}/${other.id}`, 'PATCH', { confirmed: true }, key)).status).toBe(422);
  });

  it('concurrent PATCHes with one key update once: every answer is the first', async () => {
    const user = JSON.parse((await post(a, { first_name: 'Patched', last_name: 'Concurrently' })).body) as { id: string };
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 10 }, () => send(a, `${USERS}/${user.id}`, 'PATCH', { last_name: 'Once' }, key)));
    expect(answers.map((x) => x.status)).toEqual(answers.map(() => 200));
    expect(new Set(answers.map((x) => x.body)).size).toBe(1);
    expect(answers.filter((x) => x.replayed === null)).toHaveLength(1);
  });

  it("a PATCH with a key on another tenant's user is 404 and records nothing", async () => {
    const victim = JSON.parse((await post(a, { first_name: 'Victim', last_name: 'Keyed' })).body) as { id: string };
    const key = randomUUID();
    await expectError(
      await gw.request(`${USERS}/${victim.id}`, { method: 'PATCH', headers: { 'x-tenant-id': b, 'idempotency-key': key }, json: { confirmed: true } }),
      404,
      'user_not_found',
    );
    expect((await records(b)).filter((r) => r.key === key)).toEqual([]);
    expect(JSON.parse((await send(a, `${USERS}/${victim.id}`, 'GET', undefined)).body)).toMatchObject({ confirmed: false });
  });

  it('an expired key is new again, and expired records of other keys are purged by later writes', async () => {
    const key = randomUUID();
    const stale = randomUUID();
    expect((await post(a, { first_name: 'Expiring', last_name: 'One' }, key)).status).toBe(201);
    expect((await post(a, { first_name: 'Stale', last_name: 'One' }, stale)).status).toBe(201);
    const table = gw.usersTableName(a).replace(/users$/, 'idempotency_keys');
    await gw.adminOf(a).unsafe(`UPDATE ${table} SET expires_at = now() - interval '1 second' WHERE tenant_id = $1 AND key = ANY($2)`, [a, [key, stale]]);
    const again = await post(a, { first_name: 'Expiring', last_name: 'One' }, key);
    expect(again.status).toBe(201);
    expect(again.replayed).toBeNull();
    expect(await count(a, 'Expiring')).toBe(2);
    expect((await records(a)).map((r) => r.key)).not.toContain(stale);
    expect((await post(a, { first_name: 'Expiring', last_name: 'One' }, key)).body).toBe(again.body);
  });
});

describe('the header', () => {
  let tenant: string;
  beforeAll(async () => {
    tenant = (await gw.createTenant()).id;
  });

  it.each(['', 'has space', 'x'.repeat(256), 'naïve'])('%j is 400 invalid_idempotency_key, before any write', async (key) => {
    const res = await fetch(gw.url + USERS, {
      method: 'POST',
      headers: { 'x-tenant-id': tenant, 'idempotency-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ first_name: 'Bad', last_name: 'Key' }),
    }).catch(() => undefined);
    // fetch itself refuses header values it cannot send (non-Latin-1).
    if (res === undefined) return;
    await expectError(res, 400, 'invalid_idempotency_key', 'Idempotency-Key');
    expect(await count(tenant, 'Bad')).toBe(0);
  });

  it('a request without the header writes every time, as before', async () => {
    for (let i = 0; i < 2; i++) expect((await post(tenant, { first_name: 'Plain', last_name: 'Write' })).status).toBe(201);
    expect(await count(tenant, 'Plain')).toBe(2);
  });

  it('a body refused as invalid records nothing: the corrected retry with the key writes', async () => {
    const key = randomUUID();
    expect((await post(tenant, { first_name: '', last_name: 'Fixed' }, key)).status).toBe(400);
    expect((await post(tenant, { first_name: 'Fixed', last_name: 'Fixed' }, key)).status).toBe(201);
  });
});

describe('with SHARED_SCOPE_MODE=transaction (BEGIN; SET LOCAL …; statement; COMMIT)', () => {
  let tx: TestGateway;
  beforeAll(async () => {
    tx = await startTestGateway({ peerOf: gw, pool: { promoteRps: 1_000_000, sharedScopeMode: 'transaction' } });
  });
  afterAll(async () => {
    await tx?.close();
  });

  it.each(['rls', 'schema'] as const)('20 concurrent POSTs with one key write one row (%s)', async (model) => {
    const tenant = (await tx.createTenant(undefined, model)).id;
    const key = randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const res = await tx.request(USERS, {
          method: 'POST',
          headers: { 'x-tenant-id': tenant, 'idempotency-key': key },
          json: { first_name: 'InTx', last_name: model },
        });
        return { status: res.status, body: await res.text() };
      }),
    );
    expect(answers.map((x) => x.status)).toEqual(answers.map(() => 201));
    expect(new Set(answers.map((x) => x.body)).size).toBe(1);
    const [row] = await tx.adminOf(tenant)`SELECT count(*)::int AS n FROM ${tx.usersOf(tenant)} WHERE tenant_id = ${tenant} AND first_name = 'InTx'`;
    expect(row?.n).toBe(1);
  });
});
