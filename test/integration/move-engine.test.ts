// The online move (src/move/) between two PostgreSQL servers of this file's own, under concurrent writers
// logged in as the moving tenant's role: every acknowledged write is on the target once, the copy equals
// the source at the switch (checksum over whole rows, timestamps included), the pause is measured, a
// stale writer on the source is refused by the database after the cutover, the old copy is gone after the
// grace period, a move failing midway leaves the tenant served from its source and can be run again, and
// another tenant on the source writes throughout untouched.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { singleKeyRing } from '../../src/crypto/key-ring.js';
import { loadTenantMigrations } from '../../src/db/tenant-migrations.js';
import { isolationModels, type IsolationModels } from '../../src/isolation/models.js';
import { beginCapture, fence } from '../../src/move/capture.js';
import { DEFAULT_LOCK_RETRY } from '../../src/move/lock-retry.js';
import { moveTenant, type MoveOptions, type MoveReport, type MoveStep } from '../../src/move/move-tenant.js';
import { movedTables } from '../../src/move/tables.js';
import type { MovingTenant } from '../../src/move/parties.js';
import { createTenantCatalog, type TenantCatalog } from '../../src/tenants/catalog.js';
import { placementOf, type IsolationModelName } from '../../src/tenants/placement.js';
import { startDataServer, type DataServer } from '../support/data-server.js';
import { startWriters, type WriteLoad } from '../support/tenant-writers.js';

const keys = singleKeyRing(randomBytes(32));
let source: DataServer;
let target: DataServer;
let models: IsolationModels;
/** The source is also the catalog here: the tenants' catalog rows are their hosted rows there. */
let catalog: TenantCatalog;

beforeAll(async () => {
  [source, target] = await Promise.all([startDataServer(keys), startDataServer(keys)]);
  models = isolationModels(await loadTenantMigrations());
  catalog = createTenantCatalog(source.owner, keys, { models });
});

afterAll(async () => {
  await Promise.all([source?.destroy(), target?.destroy()]);
});

async function createTenant(model: IsolationModelName, users: number): Promise<MovingTenant> {
  const created = await catalog.create(`move-${model}-${randomBytes(4).toString('hex')}`, model);
  const [row] = await source.owner<{ db_password_encrypted: string; server: string; model: string; data_name: string | null; data_version: number | null }[]>`
    SELECT db_password_encrypted, server, model, data_name, data_version FROM tenants WHERE id = ${created.id}`;
  if (!row) throw new Error('the tenant is missing');
  const placement = placementOf(row);
  const tenant: MovingTenant = {
    id: created.id,
    role: created.db_user,
    password: keys.open(row.db_password_encrypted),
    placement,
    model: models.get(model) ?? (undefined as never),
  };
  const tables = tenant.model.tables(placement);
  // Seeded by the superuser (no row-level security), with microsecond timestamps a copy through
  // JavaScript dates would truncate.
  await source.superuser.unsafe(
    `INSERT INTO ${tables.users} (tenant_id, id, first_name, last_name, confirmed, created_at, updated_at)
     SELECT $1, gen_random_uuid(), 'seed' || g, 'row', g % 3 = 0, now() - g * interval '1.234567 s', now() - g * interval '0.654321 s'
     FROM generate_series(1, $2::int) g`,
    [tenant.id, users],
  );
  await source.superuser.unsafe(
    `INSERT INTO ${tables.idempotency_keys} (tenant_id, key, fingerprint, status, response, expires_at)
     SELECT $1, 'seed-' || g, md5(g::text), 201, jsonb_build_object('id', g, 'nested', jsonb_build_object('a', g)), now() + interval '1 day'
     FROM generate_series(1, $2::int) g`,
    [tenant.id, Math.ceil(users / 20)],
  );
  return tenant;
}

async function seededUsers(tenant: MovingTenant): Promise<Map<string, string>> {
  const rows = await source.superuser.unsafe<{ id: string; first_name: string }[]>(
    `SELECT id, first_name FROM ${tenant.model.tables(tenant.placement).users} WHERE tenant_id = $1`,
    [tenant.id],
  );
  return new Map(rows.map((r) => [r.id, r.first_name]));
}

interface Checksum {
  readonly users: { n: number; sum: string };
  readonly keys: { n: number; sum: string };
}

/** Whole rows, ordered by key, as the superuser sees them. */
async function checksum(server: DataServer, tenant: MovingTenant): Promise<Checksum> {
  const tables = tenant.model.tables(tenant.placement);
  const one = async (table: string, key: string): Promise<{ n: number; sum: string }> => {
    const [row] = await server.superuser.unsafe<{ n: number; sum: string }[]>(
      `SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t.${key}), '')) AS sum FROM ${table} t WHERE tenant_id = $1`,
      [tenant.id],
    );
    return row ?? { n: -1, sum: '' };
  };
  return { users: await one(tables.users, 'id'), keys: await one(tables.idempotency_keys, 'key') };
}

async function storedUsers(server: DataServer, tenant: MovingTenant): Promise<Map<string, string>> {
  const rows = await server.superuser.unsafe<{ id: string; first_name: string }[]>(
    `SELECT id, first_name FROM ${tenant.model.tables(tenant.placement).users} WHERE tenant_id = $1`,
    [tenant.id],
  );
  return new Map(rows.map((r) => [r.id, r.first_name]));
}

async function storedKeys(server: DataServer, tenant: MovingTenant): Promise<string[]> {
  const rows = await server.superuser.unsafe<{ key: string }[]>(
    `SELECT key FROM ${tenant.model.tables(tenant.placement).idempotency_keys} WHERE tenant_id = $1 AND key LIKE 'k-%'`,
    [tenant.id],
  );
  return rows.map((r) => r.key).sort();
}

function writersOf(tenant: MovingTenant, switched: Promise<void> | undefined, seeded: Map<string, string>, writers = 3): WriteLoad {
  return startWriters({
    tenantId: tenant.id,
    tables: tenant.model.tables(tenant.placement),
    writers,
    seeded,
    connect: (where) => (where === 'source' ? source : target).login(tenant.role, tenant.password),
    ...(switched ? { switched } : {}),
  });
}

/** What the caller's catalog update would do, plus the checks only the moment of the switch allows. */
interface Cutover {
  readonly switched: Promise<void>;
  readonly atSwitch: Promise<{ source: Checksum; target: Checksum; ms: number }>;
  switchPlacement(): Promise<void>;
}

function cutoverOf(tenant: MovingTenant): Cutover {
  let done!: () => void;
  let record!: (sums: { source: Checksum; target: Checksum; ms: number }) => void;
  const switched = new Promise<void>((r) => (done = r));
  const atSwitch = new Promise<{ source: Checksum; target: Checksum; ms: number }>((r) => (record = r));
  return {
    switched,
    atSwitch,
    async switchPlacement() {
      // Fenced and drained: the source can no longer change, and the target must equal it.
      const started = Date.now();
      const [before, after] = await Promise.all([checksum(source, tenant), checksum(target, tenant)]);
      record({ source: before, target: after, ms: Date.now() - started });
      done();
    },
  };
}

function moveOptions(tenant: MovingTenant, cutover: Cutover, extra: Partial<MoveOptions> = {}): MoveOptions {
  return {
    tenant,
    source: { sql: source.owner, hostsCatalog: true },
    target: { sql: target.owner, hostsCatalog: false },
    switchPlacement: () => cutover.switchPlacement(),
    graceMs: 1_000,
    onCleanupError: (err) => console.error('removing the old copy failed:', err),
    ...extra,
  };
}

async function leftovers(server: DataServer, tenant: MovingTenant): Promise<Record<string, number>> {
  const [row] = await server.superuser<Record<string, number>[]>`
    SELECT (SELECT count(*)::int FROM pg_trigger WHERE tgname LIKE ${`tenantgate_move_${tenant.id.replaceAll('-', '')}%`}) AS triggers,
           (SELECT count(*)::int FROM tenantgate_moves WHERE tenant_id = ${tenant.id}) AS moves,
           (SELECT count(*)::int FROM tenantgate_move_changes WHERE tenant_id = ${tenant.id}) AS changes,
           (SELECT count(*)::int FROM pg_roles WHERE rolname = ${tenant.role}) AS roles,
           (SELECT count(*)::int FROM pg_namespace WHERE nspname = ${tenant.placement.dataName ?? ''}) AS schemas,
           (SELECT count(*)::int FROM users WHERE tenant_id = ${tenant.id}) AS shared_users,
           (SELECT count(*)::int FROM idempotency_keys WHERE tenant_id = ${tenant.id}) AS shared_keys`;
  return row ?? {};
}

async function hostedRows(server: DataServer, tenant: MovingTenant): Promise<{ name: string; db_user: string; db_password_encrypted: string }[]> {
  return server.superuser`SELECT name, db_user, db_password_encrypted FROM tenants WHERE id = ${tenant.id}`;
}

const ROWS = 10_000;

/** Asserts what every successful move must leave, and returns its report for the log. */
async function assertMoved(tenant: MovingTenant, load: WriteLoad, cutover: Cutover, report: MoveReport): Promise<void> {
  const sums = await cutover.atSwitch;
  expect(sums.target).toEqual(sums.source);
  // The checksums run inside the pause (the source is fenced only until the switch): not the engine's.
  const enginePause = report.pauseMs - sums.ms;
  expect(sums.source.users.n).toBeGreaterThan(0);

  // Every acknowledged write, once, and nothing else.
  const stored = await storedUsers(target, tenant);
  expect(stored.size).toBe(load.expected.size);
  expect(stored).toEqual(load.expected);
  expect(await storedKeys(target, tenant)).toEqual([...load.keys].sort());
  expect(load.stats.onTarget).toBeGreaterThan(0);

  // The old copy is gone from the source; the catalog row there (the catalog's own) stays, and so does
  // a row-model tenant's fence (the row would satisfy a stray insert's foreign key): two triggers on
  // each of its two shared tables and the fenced record.
  expect(report.oldCopyRemoved).toBe(true);
  const fence = tenant.placement.dataName === null ? { triggers: 4, moves: 1 } : { triggers: 0, moves: 0 };
  expect(await leftovers(source, tenant)).toEqual({ ...fence, changes: 0, roles: 0, schemas: 0, shared_users: 0, shared_keys: 0 });
  expect(await hostedRows(source, tenant)).toHaveLength(1);
  // The target hosts it: role, data, and a hosted row without a password.
  expect(await hostedRows(target, tenant)).toEqual([{ name: tenant.id, db_user: tenant.role, db_password_encrypted: '' }]);
  expect((await leftovers(target, tenant)).roles).toBe(1);

  // The snapshot: the seeded rows and whatever the writers had committed when it was taken.
  expect(report.rows).toBeGreaterThanOrEqual(ROWS + ROWS / 20);
  expect(report.pauseMs).toBeGreaterThanOrEqual(0);
  expect(enginePause).toBeLessThan(2_000);
  console.log(
    `move of a ${tenant.placement.model} tenant (${report.rows} rows, ${load.stats.ops} writes meanwhile, ${load.stats.fenced} held by the fence): ` +
      `total ${report.totalMs} ms (switched after ${report.switchedAfterMs} ms, copy ${report.copyMs} ms, ${report.catchUpRounds} catch-up rounds, ` +
      `${report.changes} changes), pause ${enginePause} ms (+ ${sums.ms} ms of the test's checksums), cleanup ${report.cleanupMs} ms incl. ${1_000} ms grace`,
  );
}

describe('moving a tenant between servers under concurrent writers', () => {
  it(
    'row model: a move failing midway leaves the tenant served from its source, and the retry moves every acknowledged write once; a stale writer on the source is refused by the database',
    { timeout: 180_000 },
    async () => {
      const tenant = await createTenant('rls', ROWS);
      const other = await createTenant('rls', 200);
      const otherBefore = await checksum(source, other);
      const otherLoad = writersOf(other, undefined, await seededUsers(other), 1);
      const cutover = cutoverOf(tenant);
      const load = writersOf(tenant, cutover.switched, await seededUsers(tenant));
      // Logged in before the move, like a stale instance's pools: its own role, and the shared role.
      const staleOwn = source.login(tenant.role, tenant.password);
      const staleShared = source.login(source.shared.username, source.shared.password);
      await staleOwn`SELECT 1`;
      await staleShared`SELECT 1`;
      try {
        // 1. Fails after the snapshot copy, while catching up: rolled back, never fenced.
        const steps: MoveStep[] = [];
        const failing = moveTenant(
          moveOptions(tenant, cutover, {
            onStep: (step) => {
              steps.push(step);
              if (step === 'catch-up') throw new Error('injected failure');
            },
          }),
        );
        await expect(failing).rejects.toMatchObject({ code: 'tenant_move_failed', status: 503 });
        expect(steps).toEqual(['prepare', 'capture', 'copy', 'catch-up']);
        expect(await leftovers(source, tenant)).toMatchObject({ triggers: 0, moves: 0, changes: 0, roles: 1 });
        expect(await leftovers(target, tenant)).toMatchObject({ roles: 0, shared_users: 0, shared_keys: 0 });
        expect(await hostedRows(target, tenant)).toHaveLength(0);
        const opsAfterFailure = load.stats.ops;
        await waitForOps(load, opsAfterFailure + 20);
        expect(load.stats.fenced).toBe(0);

        // 2. Retried: moves, with a stale writer meeting the fence during the grace period.
        let staleErrors: unknown[] = [];
        const report = await moveTenant(
          moveOptions(tenant, cutover, {
            onStep: async (step) => {
              if (step !== 'grace') return;
              staleErrors = await Promise.all([
                staleOwn`INSERT INTO public.users (first_name, last_name) VALUES ('stale', 'own')`.catch((e: unknown) => e),
                staleShared
                  .begin(async (tx) => {
                    await tx.unsafe(`SET LOCAL tenantgate.tenant_id = '${tenant.id}'`);
                    await tx`INSERT INTO public.users (tenant_id, first_name, last_name) VALUES (${tenant.id}, 'stale', 'shared')`;
                  })
                  .catch((e: unknown) => e),
              ]);
            },
          }),
        );
        await waitForOps(load, load.stats.ops + 20);
        await load.stop();
        expect(staleErrors).toMatchObject([{ code: 'TG002' }, { code: 'TG002' }]);
        await assertMoved(tenant, load, cutover, report);
      } finally {
        await load.stop().catch(() => undefined);
        await otherLoad.stop();
        await Promise.all([staleOwn.end({ timeout: 1 }), staleShared.end({ timeout: 1 })]);
      }
      // The other tenant on the source wrote throughout (stop() rethrows any failed write), untouched.
      expect(otherLoad.stats.ops).toBeGreaterThan(20);
      expect(await storedUsers(source, other)).toEqual(otherLoad.expected);
      expect(await checksum(source, other)).not.toEqual(otherBefore);
      expect((await checksum(target, other)).users.n).toBe(0);
    },
  );

  it('schema model: moves a tenant with its own schema under writers, with the same guarantees', { timeout: 180_000 }, async () => {
    const tenant = await createTenant('schema', ROWS);
    const cutover = cutoverOf(tenant);
    const load = writersOf(tenant, cutover.switched, await seededUsers(tenant));
    const stale = source.login(tenant.role, tenant.password);
    await stale`SELECT 1`;
    let staleError: unknown;
    try {
      const report = await moveTenant(
        moveOptions(tenant, cutover, {
          onStep: async (step) => {
            if (step !== 'grace') return;
            const users = tenant.model.tables(tenant.placement).users;
            staleError = await stale.unsafe(`INSERT INTO ${users} (first_name, last_name) VALUES ('stale', 'own')`).catch((e: unknown) => e);
          },
        }),
      );
      await waitForOps(load, load.stats.ops + 20);
      await load.stop();
      expect(staleError).toMatchObject({ code: 'TG002' });
      await assertMoved(tenant, load, cutover, report);
      expect(report.dataVersion).toBe(tenant.placement.dataVersion);
    } finally {
      await load.stop().catch(() => undefined);
      await stale.end({ timeout: 1 });
    }
  });

  it(
    'clears a move left fenced by a mover that died, refuses a second move while one is under way, and moves a tenant back',
    { timeout: 120_000 },
    async () => {
      const tenant = await createTenant('rls', 100);
      const cutover = cutoverOf(tenant);
      // A mover that died after fencing: the tenant's writes fail on the source until a move runs again.
      const tables = movedTables(tenant.model, tenant.placement);
      await beginCapture(source.owner, tenant.id, tables, DEFAULT_LOCK_RETRY);
      await fence(source.owner, tenant.id, 1_000);
      const writer = source.login(tenant.role, tenant.password);
      await expect(writer`INSERT INTO public.users (first_name, last_name) VALUES ('blocked', 'x')`).rejects.toMatchObject({ code: 'TG002' });
      await writer.end({ timeout: 1 });

      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let copying!: () => void;
      const atCopy = new Promise<void>((r) => (copying = r));
      const first = moveTenant(
        moveOptions(tenant, cutover, {
          graceMs: 0,
          onStep: async (step) => {
            if (step !== 'copy') return;
            copying();
            await held;
          },
        }),
      );
      await atCopy;
      await expect(moveTenant(moveOptions(tenant, cutover))).rejects.toMatchObject({ code: 'tenant_move_in_progress', status: 409 });
      release();
      const report = await first;
      expect(report.rows).toBe(105);
      const moved = await checksum(target, tenant);
      expect(moved.users.n).toBe(100);

      // And back: from a data server (its hosted row goes) to the catalog's server (its catalog row stays).
      const back = await moveTenant({
        tenant,
        source: { sql: target.owner, hostsCatalog: false },
        target: { sql: source.owner, hostsCatalog: true },
        switchPlacement: async () => undefined,
        graceMs: 0,
      });
      expect(back.oldCopyRemoved).toBe(true);
      expect(await checksum(source, tenant)).toEqual(moved);
      expect(await hostedRows(target, tenant)).toHaveLength(0);
      expect(await leftovers(target, tenant)).toMatchObject({ triggers: 0, moves: 0, roles: 0, shared_users: 0, shared_keys: 0 });
      expect((await hostedRows(source, tenant))[0]?.name).toMatch(/^move-rls-/);
    },
  );
});

describe('a move whose target goes down midway', () => {
  it('fails, leaves the tenant served from its source unfenced, and a retry once the target is back moves everything', { timeout: 180_000 }, async () => {
    const tenant = await createTenant('rls', ROWS);
    const cutover = cutoverOf(tenant);
    const load = writersOf(tenant, cutover.switched, await seededUsers(tenant));
    try {
      await waitForOps(load, 10);
      const failed = moveTenant(
        moveOptions(tenant, cutover, {
          pageRows: 1_000,
          onStep: async (step) => {
            if (step === 'copy') await target.stop();
          },
        }),
      );
      await expect(failed).rejects.toMatchObject({ code: 'tenant_move_failed' });
      expect(await leftovers(source, tenant)).toMatchObject({ triggers: 0, moves: 0, changes: 0, roles: 1 });
      const opsAfterFailure = load.stats.ops;
      await waitForOps(load, opsAfterFailure + 20);
      expect(load.stats.fenced).toBe(0);

      // Back up, with the role and hosted row of the failed attempt still there: the retry clears them.
      await target.start();
      expect((await leftovers(target, tenant)).roles).toBe(1);
      const report = await moveTenant(moveOptions(tenant, cutover));
      await waitForOps(load, load.stats.ops + 20);
      await load.stop();
      await assertMoved(tenant, load, cutover, report);
    } finally {
      await target.start();
      await load.stop().catch(() => undefined);
    }
  });
});

async function waitForOps(load: WriteLoad, ops: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (load.stats.ops < ops) {
    if (load.failure() !== undefined) throw load.failure();
    if (Date.now() > deadline) throw new Error(`writers stalled at ${load.stats.ops} writes`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
