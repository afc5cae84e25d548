// `npx tsx bench/move.ts [--rows 100000,1000000] [--model rls|schema] [--writers 2]`: the online move
// (src/move/) of one tenant of each size between two embedded PostgreSQL servers of its own (started in
// temporary directories, removed after), under writers logged in as the tenant's role, as in
// test/integration/move-engine.test.ts. Prints the move's report per size: total time, copy, catch-up
// rounds, and the pause (fence to switch; the writes the tenant attempts meanwhile wait). Not part of
// `npm run bench` (which measures the request path); run it under `flock /tmp/tenantgate-bench.lock`.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { singleKeyRing } from '../src/crypto/key-ring.js';
import { loadTenantMigrations } from '../src/db/tenant-migrations.js';
import { isolationModels } from '../src/isolation/models.js';
import { moveTenant, type MoveReport } from '../src/move/move-tenant.js';
import type { MovingTenant } from '../src/move/parties.js';
import { createTenantCatalog } from '../src/tenants/catalog.js';
import { isIsolationModelName, placementOf } from '../src/tenants/placement.js';
import { startDataServer, type DataServer } from '../test/support/data-server.js';
import { startWriters } from '../test/support/tenant-writers.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000,1000000' },
    model: { type: 'string', default: 'rls' },
    writers: { type: 'string', default: '2' },
  },
});
const sizes = (values.rows ?? '').split(',').map(Number);
const modelName = values.model ?? 'rls';
const writerCount = Number(values.writers);
if (sizes.some((n) => !Number.isSafeInteger(n) || n < 1) || !isIsolationModelName(modelName) || !(writerCount >= 0)) {
  console.error('usage: tsx bench/move.ts [--rows 100000,1000000] [--model rls|schema] [--writers 2]');
  process.exit(2);
}

const keys = singleKeyRing(randomBytes(32));
const models = isolationModels(await loadTenantMigrations());

async function seed(server: DataServer, tenant: MovingTenant, rows: number): Promise<void> {
  const tables = tenant.model.tables(tenant.placement);
  // Triggers off for the bulk insert (the bench's own seeding does the same): timestamps as given.
  await server.superuser.begin(async (tx) => {
    await tx`SET LOCAL session_replication_role = replica`;
    await tx.unsafe(
      `INSERT INTO ${tables.users} (tenant_id, id, first_name, last_name, confirmed, created_at, updated_at)
       SELECT $1, gen_random_uuid(), 'user' || g, 'bench', g % 2 = 0, now() - g * interval '1.000001 s', now() - g * interval '0.5 s'
       FROM generate_series(1, $2::int) g`,
      [tenant.id, rows],
    );
  });
  await server.superuser.unsafe(`VACUUM (ANALYZE) ${tables.users}`);
}

async function benchOne(source: DataServer, target: DataServer, rows: number): Promise<MoveReport & { seedMs: number; writes: number; held: number }> {
  const catalog = createTenantCatalog(source.owner, keys, { models });
  const created = await catalog.create(`bench-move-${rows}-${randomBytes(3).toString('hex')}`, modelName as 'rls' | 'schema');
  const [row] = await source.owner<{ db_password_encrypted: string; server: string; model: string; data_name: string | null; data_version: number | null }[]>`
    SELECT db_password_encrypted, server, model, data_name, data_version FROM tenants WHERE id = ${created.id}`;
  if (!row) throw new Error('the tenant is missing');
  const placement = placementOf(row);
  const model = models.get(placement.model);
  if (!model) throw new Error('no such model');
  const tenant: MovingTenant = { id: created.id, role: created.db_user, password: keys.open(row.db_password_encrypted), placement, model };
  const seedStarted = Date.now();
  await seed(source, tenant, rows);
  const seedMs = Date.now() - seedStarted;

  let switch_!: () => void;
  const switched = new Promise<void>((r) => (switch_ = r));
  const load = startWriters({
    tenantId: tenant.id,
    tables: model.tables(placement),
    writers: writerCount,
    seeded: new Map(),
    connect: (where) => (where === 'source' ? source : target).login(tenant.role, tenant.password),
    switched,
    pauseMs: 10,
  });
  try {
    const report = await moveTenant({
      tenant,
      source: { sql: source.owner, hostsCatalog: true },
      target: { sql: target.owner, hostsCatalog: false },
      switchPlacement: async () => switch_(),
      graceMs: 1_000,
    });
    return { ...report, seedMs, writes: load.stats.ops, held: load.stats.fenced };
  } finally {
    await load.stop();
  }
}

const [source, target] = await Promise.all([startDataServer(keys), startDataServer(keys)]);
try {
  for (const rows of sizes) {
    const r = await benchOne(source, target, rows);
    console.log(
      `${modelName} tenant of ${rows.toLocaleString('en')} rows (seeded in ${r.seedMs} ms; ${r.writes} writes meanwhile, ${r.held} held by the fence): ` +
        `total ${r.totalMs} ms, switched after ${r.switchedAfterMs} ms (copy ${r.copyMs} ms, ${r.catchUpRounds} catch-up rounds, ` +
        `${r.changes} changes, ${r.fenceAttempts} fence attempt(s)), pause ${r.pauseMs} ms ` +
        `(fence ${r.pause.fenceMs}, drain ${r.pause.drainMs}, switch ${r.pause.switchMs}), old copy removed in ${r.cleanupMs} ms incl. 1 s grace`,
    );
  }
} finally {
  await Promise.all([source.destroy(), target.destroy()]);
}
