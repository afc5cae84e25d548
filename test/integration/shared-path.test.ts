// The shared pool: one powerless shared role whose RLS policy reads the session's scope
// (`tenantgate.tenant_id`), and statements that name their tenant and check the scope. Whatever the
// scope is — the right tenant, another tenant's left over from the previous request, or none — a
// statement never returns or writes another tenant's rows; a wrong or missing scope is an error.
import fc from 'fast-check';
import postgres, { type Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteLiteral } from '../../src/db/quote.js';
import { renderBound, type StatementBuilder } from '../../src/db/statement.js';
import { ensureAuthenticator } from '../../src/pool/authenticator.js';
import { createSharedPool, type SharedPool } from '../../src/pool/shared-pool.js';
import { parseListParams } from '../../src/users/list-params.js';
import { countUsersStatement, createUserStatement, listUsersStatement } from '../../src/users/queries.js';
import { rlsModel } from '../../src/isolation/rls.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let a: { id: string; db_user: string };
let b: { id: string; db_user: string };
let sharedRole: string;
// One raw session as the shared role, to set (or not) the scope by hand.
let raw: Sql;
// A pool of one connection, so every statement below provably runs on the same session.
let single: SharedPool;

const setScope = (tenantId: string): Promise<unknown> => raw.unsafe("SELECT set_config('tenantgate.tenant_id', $1, false)", [tenantId]);
const runRaw = (build: StatementBuilder): Promise<unknown[]> => {
  const { text, params } = renderBound(build);
  return raw.unsafe(text, params, { prepare: true }) as unknown as Promise<unknown[]>;
};
const list = (tenantId: string, query = 'page_size=100'): StatementBuilder =>
  listUsersStatement({ tenantId, checkContext: true }, parseListParams(new URLSearchParams(query)));

beforeAll(async () => {
  gw = await startTestGateway({ pool: { promoteRps: 1_000_000 } });
  a = await gw.createTenant();
  b = await gw.createTenant();
  const login = await ensureAuthenticator(gw.gateway.catalog, gw.keys);
  sharedRole = login.username;
  raw = postgres(gw.db.url, { ...login, max: 1, onnotice: () => {}, connection: { DateStyle: 'ISO', TimeZone: 'UTC' } });
  single = createSharedPool({
    databaseUrl: gw.db.url,
    ...login,
    max: 1,
    pipelineDepth: 4,
    connectTimeoutSeconds: 5,
    statementTimeoutMs: 30_000,
    scope: rlsModel.sharedScope,
  });
  for (const [tenant, names] of [
    [a, ['Alice', 'Anna']],
    [b, ['Bob']],
  ] as const) {
    for (const name of names) {
      const res = await gw.request('/v1/internal/users', { method: 'POST', headers: { 'x-tenant-id': tenant.id }, json: { first_name: name, last_name: 'X' } });
      expect(res.status).toBe(201);
    }
  }
});

afterAll(async () => {
  await raw?.end();
  await single?.end();
  await gw?.close();
});

describe('the shared role', () => {
  it('is a member of no role at all, so it cannot become a tenant', async () => {
    const members = await gw.db.admin`
      SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
      WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = ${sharedRole})`;
    expect(members).toEqual([]);
    await expect(raw.unsafe(`SET ROLE ${a.db_user}`)).rejects.toMatchObject({ code: '42501' });
    await expect(raw.unsafe("SELECT set_config('role', $1, false)", [a.db_user])).rejects.toMatchObject({ code: '42501' });
  });

  it('reads no catalog, no secret and no setting table', async () => {
    await expect(raw.unsafe('SELECT * FROM tenants')).rejects.toMatchObject({ code: '42501' });
    await expect(raw.unsafe('SELECT * FROM gateway_settings')).rejects.toMatchObject({ code: '42501' });
    await expect(raw.unsafe('SELECT rolpassword FROM pg_authid')).rejects.toMatchObject({ code: '42501' });
  });

  it('creates nothing: no table, no temporary table, no function', async () => {
    await expect(raw.unsafe('CREATE TABLE mine (x int)')).rejects.toMatchObject({ code: '42501' });
    await expect(raw.unsafe('CREATE TEMP TABLE mine (x int)')).rejects.toMatchObject({ code: '42501' });
    await expect(raw.unsafe("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'")).rejects.toMatchObject({ code: '42501' });
    await expect(raw.unsafe('SELECT lo_create(0)')).rejects.toMatchObject({ code: '42501' });
  });
});

describe('a statement that omits the tenant filter', () => {
  it('sees nothing without a scope', async () => {
    await raw.unsafe('RESET tenantgate.tenant_id');
    expect(await raw.unsafe('SELECT * FROM users')).toHaveLength(0);
  });

  it("sees exactly the scoped tenant's rows, never the other's", async () => {
    await setScope(a.id);
    const rows = await raw.unsafe('SELECT tenant_id, first_name FROM users ORDER BY first_name');
    expect(rows.map((r) => [r.tenant_id, r.first_name])).toEqual([
      [a.id, 'Alice'],
      [a.id, 'Anna'],
    ]);
    await setScope(b.id);
    expect((await raw.unsafe('SELECT first_name FROM users')).map((r) => r.first_name)).toEqual(['Bob']);
  });

  it('cannot update rows of another tenant, nor move a row to it', async () => {
    await setScope(b.id);
    const touched = await raw.unsafe("UPDATE users SET first_name = 'Mallory' WHERE first_name = 'Alice'");
    expect(touched.count).toBe(0);
    await expect(raw.unsafe('UPDATE users SET tenant_id = $1', [a.id])).rejects.toMatchObject({ code: '42501' });
    const [alice] = await gw.db.admin`SELECT first_name FROM users WHERE tenant_id = ${a.id} AND first_name = 'Alice'`;
    expect(alice?.first_name).toBe('Alice');
  });
});

describe("the gateway's statements under a wrong scope", () => {
  it("a scope left over from another tenant: an error (TG001), never that tenant's rows", async () => {
    await setScope(a.id);
    await expect(runRaw(list(b.id))).rejects.toMatchObject({ code: 'TG001' });
    await expect(runRaw(list(b.id, 'search=bob&page=2'))).rejects.toMatchObject({ code: 'TG001' });
    await expect(runRaw(countUsersStatement({ tenantId: b.id, checkContext: true }, parseListParams(new URLSearchParams(''))))).rejects.toMatchObject({
      code: 'TG001',
    });
  });

  it('no scope at all: an error, no rows', async () => {
    await raw.unsafe('RESET tenantgate.tenant_id');
    await expect(runRaw(list(a.id))).rejects.toMatchObject({ code: 'TG001' });
  });

  it('the right scope: the tenant its rows, and the cursor page after them', async () => {
    await setScope(a.id);
    const rows = (await runRaw(list(a.id))) as { first_name: string }[];
    expect(rows.map((r) => r.first_name).sort()).toEqual(['Alice', 'Anna']);
  });

  it('a statement without the check still cannot cross the scope: the policy and the filter must agree', async () => {
    // A builder that forgot the check (checkContext: false) under another tenant's scope: no rows.
    await setScope(a.id);
    const unchecked = listUsersStatement({ tenantId: b.id, checkContext: false }, parseListParams(new URLSearchParams('')));
    expect(await runRaw(unchecked)).toHaveLength(0);
  });
});

describe('writes through the shared role', () => {
  const insert = (tenantId: string, name: string): StatementBuilder =>
    createUserStatement({ tenantId, checkContext: true }, { firstName: name, lastName: 'W' });

  it("an insert for B under A's left-over scope is refused, and nothing is written anywhere", async () => {
    await setScope(a.id);
    await expect(runRaw(insert(b.id, 'Stale'))).rejects.toMatchObject({ code: 'TG001' });
    const [n] = await gw.db.admin`SELECT count(*)::int AS n FROM users WHERE first_name = 'Stale'`;
    expect(n?.n).toBe(0);
  });

  it('an insert without a scope is refused', async () => {
    await raw.unsafe('RESET tenantgate.tenant_id');
    await expect(runRaw(insert(a.id, 'Nobody'))).rejects.toBeDefined();
    await expect(raw.unsafe("INSERT INTO users (first_name, last_name) VALUES ('Nobody', 'W')")).rejects.toBeDefined();
    const [n] = await gw.db.admin`SELECT count(*)::int AS n FROM users WHERE first_name = 'Nobody'`;
    expect(n?.n).toBe(0);
  });

  it('an insert that names no tenant takes the scope, from the trigger', async () => {
    await setScope(b.id);
    const [row] = await raw.unsafe("INSERT INTO users (first_name, last_name) VALUES ('Scoped', 'W') RETURNING tenant_id");
    expect(row?.tenant_id).toBe(b.id);
    await gw.db.admin`DELETE FROM users WHERE first_name = 'Scoped'`;
  });
});

describe('the pool remembers each connection’s scope, but never trusts it', () => {
  it('a session whose scope changed behind the pool is put right: the statement is refused, then re-run', async () => {
    const statement = renderBound(list(a.id));
    expect((await single.run(a.id, statement)).map((r) => r.first_name).sort()).toEqual(['Alice', 'Anna']);
    // Change the scope of the pool's own session behind its back: it still believes it holds A's.
    await single.connections[0]?.unsafe("SELECT set_config('tenantgate.tenant_id', $1, false)", [b.id]);
    const retriesBefore = single.stats().scopeRetries;
    expect((await single.run(a.id, statement)).map((r) => r.first_name).sort()).toEqual(['Alice', 'Anna']);
    expect(single.stats().scopeRetries).toBe(retriesBefore + 1);
  });

  it('a tenant served twice in a row on its connection sends its scope once', async () => {
    const statement = renderBound(list(b.id));
    await single.run(b.id, statement);
    const sets = single.stats().scopeSets;
    await single.run(b.id, statement);
    await single.run(b.id, statement);
    expect(single.stats().scopeSets).toBe(sets);
  });

  it('tenants interleaved and pipelined on one connection each get exactly their own rows', async () => {
    const tenants = [a, b, a, a, b, b, a, b, b, a, a, b, a, b, b, a];
    const results = await Promise.all(tenants.map((t) => single.run(t.id, renderBound(list(t.id)))));
    results.forEach((rows, i) => {
      const expected = tenants[i] === a ? ['Alice', 'Anna'] : ['Bob'];
      expect(rows.map((r) => r.first_name).sort()).toEqual(expected);
    });
  });

  it('after the session is killed, the reconnected connection serves the right tenant', async () => {
    const pid = async (): Promise<number | undefined> =>
      ((await single.connections[0]?.unsafe('SELECT pg_backend_pid() AS pid').catch(() => [])) ?? [])[0]?.pid as number | undefined;
    const before = await pid();
    await single.run(b.id, renderBound(list(b.id)));
    await gw.db.admin`SELECT pg_terminate_backend(${before as number})`;
    const deadline = Date.now() + 5000;
    let after = await pid();
    while (after === undefined || after === before) {
      if (Date.now() > deadline) throw new Error('the connection did not come back');
      await new Promise((r) => setTimeout(r, 20));
      after = await pid();
    }
    // B's scope died with the old session: the new one must be scoped again before B's statement runs.
    expect((await single.run(b.id, renderBound(list(b.id)))).map((r) => r.first_name)).toEqual(['Bob']);
  });
});

describe('the transaction form (SHARED_SCOPE_MODE=transaction, for Citus)', () => {
  let tx: SharedPool;
  beforeAll(async () => {
    const login = await ensureAuthenticator(gw.gateway.catalog, gw.keys);
    tx = createSharedPool({
      databaseUrl: gw.db.url,
      ...login,
      max: 1,
      pipelineDepth: 4,
      connectTimeoutSeconds: 5,
      statementTimeoutMs: 30_000,
      scopeMode: 'transaction',
      scope: rlsModel.sharedScope,
    });
  });
  afterAll(async () => {
    await tx?.end();
  });
  const scopeAfter = async (): Promise<unknown> =>
    ((await tx.connections[0]?.unsafe("SELECT current_setting('tenantgate.tenant_id', true) AS s, now() = statement_timestamp() AS fresh")) ?? [])[0];

  it('serves each tenant its rows, and leaves neither a scope nor an open transaction behind', async () => {
    expect((await tx.run(a.id, renderBound(list(a.id)))).map((r) => r.first_name).sort()).toEqual(['Alice', 'Anna']);
    // Outside any transaction again: now() is this statement's own start, and the scope is gone.
    expect(await scopeAfter()).toMatchObject({ fresh: true });
    expect(((await scopeAfter()) as { s: string | null }).s ?? '').toBe('');
  });

  it('after a failing statement the connection is clean and the next tenant runs as itself', async () => {
    const failing = { text: 'SELECT 1/0 WHERE public.tenantgate_check_scope($1::uuid)', params: [a.id] };
    await expect(tx.run(a.id, failing)).rejects.toMatchObject({ code: '22012' });
    expect((await tx.run(b.id, renderBound(list(b.id)))).map((r) => r.first_name)).toEqual(['Bob']);
    expect(((await scopeAfter()) as { s: string | null }).s ?? '').toBe('');
  });

  it('tenants interleaved and pipelined on one connection each get exactly their own rows', async () => {
    const tenants = [a, b, b, a, b, a, a, b];
    const results = await Promise.all(tenants.map((t) => tx.run(t.id, renderBound(list(t.id)))));
    results.forEach((rows, i) => {
      expect(rows.map((r) => r.first_name).sort()).toEqual(tenants[i] === a ? ['Alice', 'Anna'] : ['Bob']);
    });
  });

  it('through the API: reads and writes of two tenants stay apart', async () => {
    const one = await startTestGateway({ peerOf: gw, pool: { promoteRps: 1_000_000, sharedPoolMax: 1, sharedScopeMode: 'transaction' } });
    try {
      const created = await one.request('/v1/internal/users', { method: 'POST', headers: { 'x-tenant-id': b.id }, json: { first_name: 'Tx', last_name: 'W' } });
      expect(created.status).toBe(201);
      const [row] = await gw.db.admin`SELECT tenant_id FROM users WHERE first_name = 'Tx'`;
      expect(row?.tenant_id).toBe(b.id);
      const pages = await Promise.all(
        [a, b, a, b].map(async (t) => {
          const res = await one.request('/v1/internal/users?page_size=100', { headers: { 'x-tenant-id': t.id } });
          return { t, body: (await res.json()) as { records: { first_name: string }[] } };
        }),
      );
      for (const { t, body } of pages) {
        expect(body.records.map((r) => r.first_name).sort()).toEqual(t === a ? ['Alice', 'Anna'] : ['Bob', 'Tx']);
      }
    } finally {
      await gw.db.admin`DELETE FROM users WHERE first_name = 'Tx'`;
      await one.close();
    }
  });
});

describe('the one value spliced into SQL text: the scope of the SET', () => {
  it('refuses a scope that is not a tenant id before anything reaches PostgreSQL', async () => {
    const statement = renderBound(list(a.id));
    const sets = single.stats().scopeSets;
    for (const bad of [`${a.id}'; RESET ALL; --`, 'postgres', a.id.toUpperCase(), '']) {
      await expect(single.run(bad, statement)).rejects.toThrow(RangeError);
    }
    expect(single.stats().scopeSets).toBe(sets);
  });

  it('quoteLiteral keeps any string data, byte for byte, through a real simple-protocol message', async () => {
    const tricky = fc
      .oneof(
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.constantFrom("'", "\\'", '\\', "''; RESET ALL; SELECT current_user; --", '$$', "E'", '\\x27', "');--", "\\\\'", "\n'\r"),
      )
      .filter((v) => !v.includes('\0'));
    await fc.assert(
      fc.asyncProperty(tricky, async (value) => {
        const [row] = await raw.unsafe(`SELECT ${quoteLiteral(value)} AS v, current_user::text AS cu`);
        expect(row).toEqual({ v: value, cu: sharedRole });
      }),
      { numRuns: 300 },
    );
    expect(() => quoteLiteral('a\0b')).toThrow(RangeError);
  });
});

describe('through the API on one shared connection', () => {
  it('concurrent requests of many tenants each see only their own users', async () => {
    const one = await startTestGateway({ database: gw.db, pool: { promoteRps: 1_000_000, sharedPoolMax: 1 }, peerOf: gw });
    try {
      const requests = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? b : a));
      const answers = await Promise.all(
        requests.map(async (t) => {
          const res = await one.request('/v1/internal/users?page_size=100', { headers: { 'x-tenant-id': t.id } });
          return { t, status: res.status, body: (await res.json()) as { records: { first_name: string }[] } };
        }),
      );
      for (const { t, status, body } of answers) {
        expect(status).toBe(200);
        expect(body.records.map((r) => r.first_name).sort()).toEqual(t === a ? ['Alice', 'Anna'] : ['Bob']);
      }
      expect(one.gateway.registry.stats().servedShared).toBeGreaterThanOrEqual(60);
    } finally {
      await one.close();
    }
  });

  it('a tenant deleted behind the cache gets 404 on its next write, not a 500', async () => {
    const doomed = await gw.createTenant();
    expect((await gw.request('/v1/internal/users', { headers: { 'x-tenant-id': doomed.id } })).status).toBe(200);
    // Deleted with plain SQL, as another instance or an operator would: its rows and role are gone.
    await gw.db.admin`DELETE FROM tenants WHERE id = ${doomed.id}`;
    await gw.db.admin`SELECT tenantgate_drop_role(${doomed.db_user})`;
    const res = await gw.request('/v1/internal/users', { method: 'POST', headers: { 'x-tenant-id': doomed.id }, json: { first_name: 'Late', last_name: 'W' } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'tenant_not_found' } });
  });
});
