// The shared (authenticator) pool: each request is one simple-protocol message `SET LOCAL ROLE …; …`.
// Its identity must never outlive the message — not after success, not after an error, not after a
// failure in the middle of the message — and no tenant-supplied value can escape its literal.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderInline } from '../../src/db/statement.js';
import { ensureAuthenticator } from '../../src/pool/authenticator.js';
import { createSharedPool, type SharedPool } from '../../src/pool/shared-pool.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let a: { id: string; db_user: string };
let b: { id: string; db_user: string };
let authenticator: string;
// One connection only, so every statement below provably runs on the same session.
let single: SharedPool;

beforeAll(async () => {
  gw = await startTestGateway({ pool: { promoteRps: 1_000_000 } });
  a = await gw.createTenant();
  b = await gw.createTenant();
  const login = await ensureAuthenticator(gw.gateway.catalog, gw.keys);
  authenticator = login.username;
  single = createSharedPool({ databaseUrl: gw.db.url, ...login, max: 1, idleTimeoutSeconds: 60, connectTimeoutSeconds: 5, statementTimeoutMs: 30_000 });
  for (const [tenant, name] of [[a, 'Alice'], [b, 'Bob']] as const) {
    await gw.request('/v1/internal/users', { method: 'POST', headers: { 'x-tenant-id': tenant.id }, json: { first_name: name, last_name: 'X' } });
  }
});

afterAll(async () => {
  await single?.end();
  await gw?.close();
});

async function whoAmI(): Promise<{ cu: string; su: string; backend: number }> {
  const [row] = await single.sql.unsafe('SELECT current_user::text AS cu, session_user::text AS su, pg_backend_pid() AS backend');
  return row as unknown as { cu: string; su: string; backend: number };
}

describe('identity on a shared connection', () => {
  it('runs the statement as the tenant, logged in as the authenticator', async () => {
    const [row] = await single.run(a.db_user, 'SELECT current_user::text AS cu, session_user::text AS su');
    expect(row).toEqual({ cu: a.db_user, su: authenticator });
  });

  it('is the powerless authenticator again after a successful message', async () => {
    await single.run(a.db_user, 'SELECT count(*) FROM users');
    expect((await whoAmI()).cu).toBe(authenticator);
  });

  it('is the authenticator again after a failed statement, and the next tenant runs as itself', async () => {
    const { backend } = await whoAmI();
    await expect(single.run(a.db_user, 'SELECT 1/0')).rejects.toMatchObject({ code: '22012' });
    expect(await whoAmI()).toMatchObject({ cu: authenticator, backend });
    const [row] = await single.run(b.db_user, 'SELECT current_user::text AS cu, array_agg(first_name) AS names FROM users');
    expect(row).toEqual({ cu: b.db_user, names: ['Bob'] });
  });

  it('is the authenticator again after a failure in the middle of a multi-statement message', async () => {
    const { backend } = await whoAmI();
    await expect(single.run(a.db_user, 'SELECT 1; SELECT 1/0; SELECT 2')).rejects.toMatchObject({ code: '22012' });
    expect(await whoAmI()).toMatchObject({ cu: authenticator, backend });
    const [row] = await single.run(b.db_user, 'SELECT current_user::text AS cu');
    expect(row?.cu).toBe(b.db_user);
  });

  it('does not keep a role even when the message itself runs a session-level SET ROLE', async () => {
    // PostgreSQL checks SET ROLE against the session user (the authenticator), so it succeeds inside
    // the message; the trailing RESET ROLE must undo it.
    await single.run(a.db_user, `SET ROLE ${b.db_user}`);
    expect((await whoAmI()).cu).toBe(authenticator);
  });

  it('as itself, the authenticator can read nothing and become nothing but tenants', async () => {
    await expect(single.sql.unsafe('SELECT * FROM users')).rejects.toBeDefined();
    await expect(single.sql.unsafe('SELECT * FROM tenants')).rejects.toBeDefined();
    await expect(single.sql.unsafe('SELECT * FROM gateway_settings')).rejects.toBeDefined();
    await expect(single.sql.unsafe('SET ROLE tenantgate_tenant')).rejects.toMatchObject({ code: '42501' });
  });

  it('refuses a role name that is not a tenant role before anything reaches PostgreSQL', async () => {
    await expect(single.run(`${a.db_user}"; RESET ROLE; --`, 'SELECT 1')).rejects.toThrow(RangeError);
    await expect(single.run('postgres', 'SELECT 1')).rejects.toThrow(RangeError);
  });
});

describe('values inlined into the shared message', () => {
  it('arrive byte for byte as data, whatever they contain, and never change the role', async () => {
    const tricky = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.constantFrom("'", "\\'", "\\", "''; RESET ROLE; SELECT current_user; --", "$$", "E'", "\\x27", "');--", "\\\\'", "\n'\r"),
    ).filter((s) => !s.includes('\0'));
    await fc.assert(
      fc.asyncProperty(tricky, async (value) => {
        const statement = renderInline((w) => {
          w.sql('SELECT ');
          w.value(value, 'text');
          w.sql(' AS v, current_user::text AS cu');
        });
        const [row] = await single.run(a.db_user, statement);
        expect(row).toEqual({ v: value, cu: a.db_user });
      }),
      { numRuns: 300 },
    );
    expect((await whoAmI()).cu).toBe(authenticator);
  });

  it('through the API, injection attempts in every free-text parameter stay data on the shared path', async () => {
    const before = gw.gateway.registry.stats().servedShared;
    for (const query of [
      `search=${encodeURIComponent("'); RESET ROLE; SELECT * FROM users; --")}`,
      `first_name=${encodeURIComponent("Bob' OR '1'='1")}`,
      `last_name=${encodeURIComponent("X\\'; SET ROLE postgres; --")}`,
    ]) {
      const res = await gw.request(`/v1/internal/users?${query}`, { headers: { 'x-tenant-id': b.id } });
      expect(res.status, query).toBe(200);
      expect(((await res.json()) as { total: number }).total, query).toBe(0);
    }
    expect(gw.gateway.registry.stats().servedShared).toBe(before + 3);
  });
});

describe('tenants changing behind the cache', () => {
  it('a tenant whose role was dropped elsewhere gets 404, not a 500', async () => {
    const doomed = await gw.createTenant();
    expect((await gw.request('/v1/internal/users', { headers: { 'x-tenant-id': doomed.id } })).status).toBe(200);
    // Another instance deletes it: this gateway's directory still has it cached.
    await gw.db.admin`DELETE FROM tenants WHERE id = ${doomed.id}`;
    await gw.db.admin`SELECT tenantgate_drop_role(${doomed.db_user})`;
    const res = await gw.request('/v1/internal/users', { headers: { 'x-tenant-id': doomed.id } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'tenant_not_found' } });
  });
});
