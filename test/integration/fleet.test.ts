// Two gateway instances on one catalog database (a fleet of two): a change made through one instance,
// or by plain SQL, reaches the other within a second through the tenant change feed (sql/003:
// tenant_events + NOTIFY). The feed survives its connection being killed: missed events are replayed
// from tenant_events, and a gap that replay cannot cover makes the instance forget everything cached.
import { randomUUID } from 'node:crypto';
import postgres, { type ReservedSql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRolePassword } from '../../src/crypto/password.js';
import { scramSha256Verifier } from '../../src/crypto/scram.js';
import { roleNameFor } from '../../src/tenants/role-name.js';
import { superuserUrl, waitFor } from '../support/database.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { expectError } from '../support/http.js';

// Promotion off: the only dedicated pools are the ones a test opens on purpose with registry.run().
const POOL = { promoteRps: 1_000_000 };

let a: TestGateway;
let b: TestGateway;

beforeAll(async () => {
  a = await startTestGateway({ pool: POOL });
  b = await startTestGateway({ peerOf: a, pool: POOL });
});

afterAll(async () => {
  // The peer first: the owner drops the database on close.
  try {
    await b?.close();
  } finally {
    await a?.close();
  }
});

function listUsers(gw: TestGateway, tenantId: string): Promise<Response> {
  return gw.request('/v1/internal/users', { headers: { 'x-tenant-id': tenantId } });
}

async function statusOf(gw: TestGateway, tenantId: string): Promise<number> {
  const res = await listUsers(gw, tenantId);
  await res.arrayBuffer();
  return res.status;
}

/** Polls until `gw` answers `status` for the tenant; returns how long that took. */
async function answers(gw: TestGateway, tenantId: string, status: number, withinMs: number, what: string): Promise<number> {
  const started = Date.now();
  await waitFor(async () => (await statusOf(gw, tenantId)) === status, withinMs, what);
  const elapsed = Date.now() - started;
  expect(elapsed, what).toBeLessThanOrEqual(withinMs);
  return elapsed;
}

function admin(gw: TestGateway, method: string, path: string): Promise<Response> {
  return gw.request(`/v1/admin/tenants${path}`, { method, headers: { authorization: `Bearer ${gw.adminToken}` } });
}

/** Backends of the tenant's dedicated pools (its own login); only B ever opens one in this file. */
async function dedicatedPids(role: string): Promise<number[]> {
  const rows = await a.db.admin<{ pid: number }[]>`
    SELECT pid FROM pg_stat_activity WHERE usename = ${role} AND application_name = 'tenantgate' ORDER BY pid`;
  return rows.map((r) => r.pid);
}

function openDedicated(gw: TestGateway, tenantId: string): Promise<string> {
  return gw.gateway.registry.run(tenantId, async (sql) => {
    const [row] = await sql<{ who: string }[]>`SELECT current_user AS who`;
    return row?.who ?? '';
  });
}

/** Creates a tenant exactly as the catalog does (row + role in one transaction), with a chosen id. */
async function createWithSql(id: string, name: string): Promise<void> {
  const role = roleNameFor(id);
  const password = generateRolePassword();
  await a.db.admin.begin(async (tx) => {
    await tx`INSERT INTO tenants (id, name, db_user, db_password_encrypted)
             VALUES (${id}, ${name}, ${role}, ${a.keys.seal(password)})`;
    await tx`SELECT tenantgate_create_role(${role}, ${scramSha256Verifier(password)})`;
  });
}

const TERMINATE_LISTENERS = `
  SELECT count(pg_terminate_backend(pid, 5000))::int AS n FROM pg_stat_activity
  WHERE datname = current_database() AND application_name = 'tenantgate-listener'`;

async function bothListening(): Promise<void> {
  await waitFor(() => a.gateway.listener.listening() && b.gateway.listener.listening(), 10_000, 'both listeners to be listening');
}

async function listenerBackends(): Promise<number> {
  const [row] = await a.db.admin<{ n: number }[]>`
    SELECT count(*)::int AS n FROM pg_stat_activity
    WHERE datname = current_database() AND application_name = 'tenantgate-listener'`;
  return row?.n ?? 0;
}

/**
 * Runs `during` while no new connection to the database can be made, so the listeners, once killed,
 * cannot come back before `during` has committed. `su` is a connection opened before the door closed.
 */
async function withListenersDown(during: (su: ReservedSql) => Promise<void>): Promise<void> {
  // ALLOW_CONNECTIONS cannot be changed from inside the database it applies to.
  const server = postgres(superuserUrl(), { max: 1, onnotice: () => {} });
  const su = await a.db.admin.reserve();
  try {
    const [row] = await su<{ db: string }[]>`SELECT current_database() AS db`;
    const db = row?.db ?? '';
    await server`ALTER DATABASE ${server(db)} WITH ALLOW_CONNECTIONS false`;
    try {
      const [killed] = await su.unsafe<{ n: number }[]>(TERMINATE_LISTENERS);
      expect(killed?.n).toBe(2);
      await waitFor(() => !a.gateway.listener.listening() && !b.gateway.listener.listening(), 5_000, 'the listeners to notice');
      await during(su);
      // Still down when the change committed: whatever B learns now, it learns by replay.
      expect(b.gateway.listener.listening()).toBe(false);
    } finally {
      await server`ALTER DATABASE ${server(db)} WITH ALLOW_CONNECTIONS true`;
    }
  } finally {
    su.release();
    await server.end({ timeout: 5 });
  }
}

describe('changes made through instance A reach instance B', () => {
  it('a tenant created through A is served by B at once', async () => {
    const t = await a.createTenant();
    expect(await statusOf(b, t.id)).toBe(200);
  });

  it('a tenant B has just cached as unknown is served by B within 1 s of its creation elsewhere', async () => {
    const id = randomUUID();
    await expectError(await listUsers(b, id), 404, 'tenant_not_found');
    // B now remembers the id as unknown (for seconds); the creation event must override that.
    await createWithSql(id, `fleet-created-${id}`);
    await answers(b, id, 200, 1000, 'B to serve the new tenant');
    expect(await statusOf(a, id)).toBe(200);
  });

  it("rotating through A closes B's dedicated pool within 1 s, and B logs in again with the new password", async () => {
    const t = await a.createTenant();
    expect(await openDedicated(b, t.id)).toBe(t.db_user);
    const oldPids = await dedicatedPids(t.db_user);
    expect(oldPids.length).toBeGreaterThan(0);
    const before = b.gateway.registry.stats();

    expect((await admin(a, 'POST', `/${t.id}/rotate`)).status).toBe(200);

    const started = Date.now();
    await waitFor(
      async () => b.gateway.registry.stats().evicted > before.evicted && (await dedicatedPids(t.db_user)).length === 0,
      1000,
      "B's dedicated pool to close",
    );
    expect(Date.now() - started).toBeLessThanOrEqual(1000);
    expect(b.gateway.registry.stats().dedicatedOpen).toBe(before.dedicatedOpen - 1);

    // A fresh login as the tenant's role, which only the new password allows.
    expect(await openDedicated(b, t.id)).toBe(t.db_user);
    const newPids = await dedicatedPids(t.db_user);
    expect(newPids.length).toBeGreaterThan(0);
    expect(newPids.filter((pid) => oldPids.includes(pid))).toEqual([]);
    expect(b.gateway.registry.stats().created).toBe(before.created + 1);
    expect(await statusOf(b, t.id)).toBe(200);
  });

  it('suspending through A makes B answer 403 tenant_suspended within 1 s, and resuming makes B serve within 1 s', async () => {
    const t = await a.createTenant();
    expect(await statusOf(b, t.id)).toBe(200);
    await openDedicated(b, t.id);

    expect((await admin(a, 'POST', `/${t.id}/suspend`)).status).toBe(200);
    await answers(b, t.id, 403, 1000, 'B to refuse the suspended tenant');
    await expectError(await listUsers(b, t.id), 403, 'tenant_suspended');
    // Its logins end too: a suspended tenant keeps no connections on B.
    await waitFor(async () => (await dedicatedPids(t.db_user)).length === 0, 1000, "B's dedicated pool to close");

    expect((await admin(a, 'POST', `/${t.id}/resume`)).status).toBe(200);
    await answers(b, t.id, 200, 1000, 'B to serve the resumed tenant');
  });

  it('deleting through A makes B answer 404 within 1 s', async () => {
    const t = await a.createTenant();
    expect(await statusOf(b, t.id)).toBe(200);
    await openDedicated(b, t.id);
    const before = b.gateway.registry.stats();

    expect((await admin(a, 'DELETE', `/${t.id}`)).status).toBe(204);
    await answers(b, t.id, 404, 1000, 'B to forget the deleted tenant');
    await expectError(await listUsers(b, t.id), 404, 'tenant_not_found');
    await waitFor(() => b.gateway.registry.stats().dedicatedOpen === before.dedicatedOpen - 1, 1000, "B's pool to be dropped");
  });

  it('a status change made with plain SQL reaches both instances within 1 s', async () => {
    const t = await a.createTenant();
    expect(await statusOf(a, t.id)).toBe(200);
    expect(await statusOf(b, t.id)).toBe(200);

    await a.db.admin`UPDATE tenants SET status = 'suspended' WHERE id = ${t.id}`;
    await Promise.all([answers(a, t.id, 403, 1000, 'A to see the SQL suspension'), answers(b, t.id, 403, 1000, 'B to see the SQL suspension')]);

    await a.db.admin`UPDATE tenants SET status = 'active' WHERE id = ${t.id}`;
    await Promise.all([answers(a, t.id, 200, 1000, 'A to see the SQL resumption'), answers(b, t.id, 200, 1000, 'B to see the SQL resumption')]);
  });
});

describe('the change listener survives losing its connection', () => {
  it('after its listener backend is terminated, a suspension made through A reaches B within 2 s', async () => {
    await bothListening();
    const t = await a.createTenant();
    expect(await statusOf(b, t.id)).toBe(200);

    const [killed] = await a.db.admin.unsafe<{ n: number }[]>(TERMINATE_LISTENERS);
    expect(killed?.n).toBe(2); // one per instance
    expect((await admin(a, 'POST', `/${t.id}/suspend`)).status).toBe(200);

    await answers(b, t.id, 403, 2000, 'B to see the suspension after its listener was killed');
    await bothListening();
    expect(await listenerBackends()).toBe(2);
  });

  it('a change committed right after the listener is killed, before it can reconnect, is replayed from tenant_events', async () => {
    await bothListening();
    const t = await a.createTenant();
    expect(await statusOf(b, t.id)).toBe(200);

    // One message, one transaction: the NOTIFY goes out on commit, when the listeners are already gone
    // (pg_terminate_backend with a timeout waits for them to exit) and none has had time to come back.
    await a.db.admin.unsafe(`${TERMINATE_LISTENERS}; UPDATE tenants SET status = 'suspended' WHERE id = '${t.id}'`);

    await answers(b, t.id, 403, 2000, 'B to replay the missed suspension');
    await bothListening();
  });

  it('a suspension committed while B cannot reconnect at all is replayed once it can', async () => {
    await bothListening();
    const t = await a.createTenant();
    expect(await statusOf(b, t.id)).toBe(200);

    await withListenersDown(async (su) => {
      await su`UPDATE tenants SET status = 'suspended' WHERE id = ${t.id}`;
    });

    // Reconnect back-off is at most a few hundred ms after so short an outage.
    await answers(b, t.id, 403, 3000, 'B to replay the suspension after reconnecting');
    await bothListening();
  });

  it('when the events it missed were pruned, B forgets every cached tenant and closes its dedicated pools', async () => {
    await bothListening();
    const stale = await a.createTenant();
    const other = await a.createTenant();
    for (const t of [stale, other]) {
      expect(await statusOf(b, t.id)).toBe(200);
      await openDedicated(b, t.id);
    }
    expect(b.gateway.registry.stats().dedicatedOpen).toBeGreaterThanOrEqual(2);
    const evictedBefore = b.gateway.registry.stats().evicted;

    await withListenersDown(async (su) => {
      // A change whose record is lost (no trigger: no event, no NOTIFY), then history pruned past every
      // id B has seen, the sequence moved on as it would have. One transaction.
      await su`BEGIN`;
      try {
        await su`SET LOCAL session_replication_role = replica`;
        await su`UPDATE tenants SET status = 'suspended' WHERE id = ${stale.id}`;
        const [row] = await su<{ next: string }[]>`SELECT (coalesce(max(id), 0) + 1000)::text AS next FROM tenant_events`;
        const next = row?.next ?? '1000';
        await su`DELETE FROM tenant_events`;
        await su`INSERT INTO tenant_events (id, tenant_id, kind) VALUES (${next}::bigint, ${other.id}, 'settings')`;
        await su`SELECT setval(pg_get_serial_sequence('tenant_events', 'id'), ${next}::bigint)`;
        await su`COMMIT`;
      } catch (err) {
        await su`ROLLBACK`;
        throw err;
      }
    });

    await bothListening();
    await waitFor(() => b.gateway.registry.stats().dedicatedOpen === 0, 3000, "B's dedicated pools to close after the gap");
    expect(b.gateway.registry.stats().evicted).toBeGreaterThanOrEqual(evictedBefore + 2);
    await waitFor(
      async () => (await dedicatedPids(stale.db_user)).length + (await dedicatedPids(other.db_user)).length === 0,
      3000,
      "the dedicated pools' backends to end",
    );
    // Only a forgotten cache reads the catalog again and sees the suspension that left no event.
    await expectError(await listUsers(b, stale.id), 403, 'tenant_suspended');
    expect(await statusOf(b, other.id)).toBe(200);
  });
});

/** A connection to the catalog database as the tenant's own role (as a tenant who learnt its password would have). */
async function connectAsTenant(tenantId: string): Promise<postgres.Sql> {
  const [row] = await a.db.admin<{ db_user: string; sealed: string }[]>`
    SELECT db_user, db_password_encrypted AS sealed FROM tenants WHERE id = ${tenantId}`;
  const url = new URL(a.db.url);
  url.username = row?.db_user ?? '';
  url.password = a.keys.open(row?.sealed ?? '');
  return postgres(url.toString(), { max: 1, onnotice: () => {} });
}

describe('the change feed believes tenant_events, not NOTIFY', () => {
  it("a role that is not one of the gateway's cannot connect to the catalog database; a tenant role can", async () => {
    const outsider = `outsider_${randomUUID().replaceAll('-', '')}`;
    const password = randomUUID();
    await a.db.admin.unsafe(`CREATE ROLE ${outsider} LOGIN PASSWORD '${password}'`);
    const url = new URL(a.db.url);
    url.username = outsider;
    url.password = password;
    const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
    try {
      await expect(sql`SELECT 1`).rejects.toMatchObject({ code: '42501' });
    } finally {
      await sql.end({ timeout: 1 });
      await a.db.admin.unsafe(`DROP ROLE ${outsider}`);
    }
    const t = await a.createTenant();
    const tenant = await connectAsTenant(t.id);
    try {
      const [row] = await tenant<{ who: string }[]>`SELECT current_user AS who`;
      expect(row?.who).toBe(t.db_user);
    } finally {
      await tenant.end({ timeout: 1 });
    }
  });

  it("a forged 'deleted' notification from a tenant role changes nothing on B", async () => {
    await bothListening();
    const victim = await a.createTenant();
    const forger = await a.createTenant();
    const witness = await a.createTenant();
    expect(await openDedicated(b, victim.id)).toBe(victim.db_user);
    const pids = await dedicatedPids(victim.db_user);
    const evicted = b.gateway.registry.stats().evicted;
    expect(await statusOf(b, witness.id)).toBe(200);

    const sql = await connectAsTenant(forger.id);
    try {
      for (const kind of ['deleted', 'credentials', 'status']) {
        await sql`SELECT pg_notify('tenantgate_tenants', ${JSON.stringify({ id: 1, tenant_id: victim.id, kind })})`;
      }
    } finally {
      await sql.end({ timeout: 1 });
    }
    // A real change made after the forgeries: once B has applied it, it has handled them too.
    await a.db.admin`UPDATE tenants SET status = 'suspended' WHERE id = ${witness.id}`;
    await answers(b, witness.id, 403, 1000, 'B to apply the real change');

    expect(b.gateway.registry.stats().evicted).toBe(evicted);
    expect(await dedicatedPids(victim.db_user)).toEqual(pids);
    expect(await statusOf(b, victim.id)).toBe(200);
  });

  it('a forged huge event id does not stop later changes, even one made while B was reconnecting', async () => {
    await bothListening();
    const forger = await a.createTenant();
    const t = await a.createTenant();
    const u = await a.createTenant();
    expect(await statusOf(b, t.id)).toBe(200);
    expect(await statusOf(b, u.id)).toBe(200);

    const sql = await connectAsTenant(forger.id);
    try {
      await sql`SELECT pg_notify('tenantgate_tenants', ${JSON.stringify({ id: '9223372036854775807', tenant_id: forger.id, kind: 'settings' })})`;
    } finally {
      await sql.end({ timeout: 1 });
    }
    await a.db.admin`UPDATE tenants SET status = 'suspended' WHERE id = ${u.id}`;
    await answers(b, u.id, 403, 1000, 'B to apply a change made after the forgery');

    await withListenersDown(async (su) => {
      await su`UPDATE tenants SET status = 'suspended' WHERE id = ${t.id}`;
    });
    await answers(b, t.id, 403, 3000, 'B to replay, after reconnecting, a change made while it could not');
    await bothListening();
  });

  it('a role that LISTENs learns that something changed, not which tenant or how', async () => {
    const listenerTenant = await a.createTenant();
    const sql = await connectAsTenant(listenerTenant.id);
    const payloads: string[] = [];
    try {
      await sql.listen('tenantgate_tenants', (payload) => payloads.push(payload));
      const t = await a.createTenant();
      await admin(a, 'POST', `/${t.id}/suspend`);
      await waitFor(() => payloads.length >= 2, 2000, 'the notifications');
      expect(new Set(payloads)).toEqual(new Set(['']));
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});

describe("a tenant's placement is followed by every instance", () => {
  it('moving a tenant to a server B does not know makes B close its pool and answer 503 within 1 s; moving it back serves it again', async () => {
    await bothListening();
    const t = await a.createTenant();
    expect(await openDedicated(b, t.id)).toBe(t.db_user);
    expect(await statusOf(a, t.id)).toBe(200);

    // A server in the catalog that no instance can reach (nothing listens on port 1).
    await a.db.admin`INSERT INTO servers (name, url, password_sealed, max_connections)
                     VALUES ('elsewhere', 'postgres://owner@127.0.0.1:1/tenantgate', ${a.keys.seal('unused')}, 10)
                     ON CONFLICT DO NOTHING`;
    await a.db.admin`UPDATE tenants SET server = 'elsewhere' WHERE id = ${t.id}`;
    await Promise.all([
      answers(a, t.id, 503, 1000, 'A to stop serving the tenant from this server'),
      answers(b, t.id, 503, 1000, 'B to stop serving the tenant from this server'),
    ]);
    await expectError(await listUsers(b, t.id), 503, 'server_unavailable');
    await waitFor(async () => (await dedicatedPids(t.db_user)).length === 0, 1000, "B's dedicated pool to close");

    await a.db.admin`UPDATE tenants SET server = 'main' WHERE id = ${t.id}`;
    await Promise.all([answers(a, t.id, 200, 1000, 'A to serve the tenant again'), answers(b, t.id, 200, 1000, 'B to serve the tenant again')]);
  });
});
