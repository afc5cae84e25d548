// Schema tenants at scale, measured on a fresh embedded PostgreSQL (not part of `npm run bench`):
// bulk creation of N schema tenants through the catalog (the CLI's create-many), one tenant through
// the same path, a one-column ALTER migrated across all of them, the "nothing to do" check, and the
// memory of one backend that has served a statement in every schema (catalog caches are per backend),
// and then what preparing the gateway's list statement for each schema adds (the plan cache).
//   npx tsx bench/schema-scale.ts [--tenants 10000] [--concurrency 4]
import { chmod, cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { singleKeyRing } from '../src/crypto/key-ring.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { renderBound } from '../src/db/statement.js';
import { schemaTables } from '../src/db/tenant-tables.js';
import { loadTenantMigrations, migrateTenantSchemas, TENANT_MIGRATIONS_DIR } from '../src/db/tenant-migrations.js';
import { isolationModels } from '../src/isolation/models.js';
import { ensureAuthenticator } from '../src/pool/authenticator.js';
import { createTenantCatalog } from '../src/tenants/catalog.js';
import { parseListParams } from '../src/users/list-params.js';
import { listUsersStatement } from '../src/users/queries.js';
import { freePort } from '../soak/ports.js';

const { values } = parseArgs({ options: { tenants: { type: 'string' }, concurrency: { type: 'string' } } });
const total = Number(values.tenants ?? 10_000);
const concurrency = Number(values.concurrency ?? 4);

const dir = await mkdtemp(join(tmpdir(), 'tenantgate-schema-scale-'));
await chmod(dir, 0o755);
const server = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), port: await freePort(), superuserPassword: 'scale', database: 'scale' });
const sql = postgres(server.url, { max: concurrency + 1, onnotice: () => {} });
const keys = singleKeyRing(Buffer.alloc(32, 7));
const out: Record<string, unknown> = { tenants: total, concurrency };
try {
  await migrate(sql);
  await ensureAuthenticator(sql, keys);
  const shipped = await loadTenantMigrations();
  const catalog = createTenantCatalog(sql, keys, { models: isolationModels(shipped), defaultModel: 'schema' });

  // One through the API's path, several times: its latency.
  const single: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t0 = performance.now();
    await catalog.create(`single-${i}`, 'schema');
    single.push(performance.now() - t0);
  }
  single.sort((a, b) => a - b);
  out.createOneMs = { p50: round(single[25]!), p99: round(single[49]!) };

  let t0 = Date.now();
  await catalog.createMany(
    Array.from({ length: total - 50 }, (_, i) => `bulk-${String(i).padStart(6, '0')}`),
    'schema',
  );
  out.createManySeconds = (Date.now() - t0) / 1000;
  const [size] = await sql`SELECT pg_database_size(current_database())::bigint AS bytes, (SELECT count(*) FROM pg_class)::int AS relations`;
  out.databaseMb = Math.round(Number(size?.bytes) / 1048576);
  out.relations = size?.relations;

  // A release with a one-column ALTER.
  const mdir = join(dir, 'tenant-migrations');
  await cp(TENANT_MIGRATIONS_DIR, mdir, { recursive: true });
  await writeFile(join(mdir, '002_nickname.sql'), 'ALTER TABLE users ADD COLUMN nickname text;\n');
  const next = await loadTenantMigrations(mdir);
  let first = 0;
  t0 = Date.now();
  const run = await migrateTenantSchemas(sql, next, {
    concurrency,
    onTenant: (done) => {
      if (done === Math.min(1000, total)) first = Date.now() - t0;
    },
  });
  out.migrate = { behind: run.behind, migrated: run.migrated, failed: run.failed.length, seconds: run.ms / 1000, firstThousandSeconds: first / 1000 };
  t0 = Date.now();
  const nothing = await migrateTenantSchemas(sql, next, { concurrency });
  out.nothingToDoMs = Date.now() - t0;
  out.nothingToDoBehind = nothing.behind;

  // One backend touching every schema, as a shared-pool connection serving every tenant would.
  const one = postgres(server.url, { max: 1, onnotice: () => {} });
  const schemas = await one<{ data_name: string }[]>`SELECT data_name FROM tenants WHERE model = 'schema'`;
  const memory = async (): Promise<number> => {
    const [m] = await one`SELECT sum(total_bytes)::bigint AS bytes FROM pg_backend_memory_contexts`;
    return Math.round(Number(m?.bytes) / 1048576);
  };
  out.backendMbBefore = await memory();
  t0 = Date.now();
  for (const s of schemas) await one.unsafe(`SELECT count(*) FROM "${s.data_name}".users WHERE tenant_id = gen_random_uuid()`);
  out.touchAllSeconds = (Date.now() - t0) / 1000;
  out.backendMbAfterAll = await memory();
  // Then the gateway's default list statement prepared once per schema (its text names the schema, so
  // a statement each), as a shared connection keeps them: the plan cache's share of a backend, per
  // prepared statement, on top of the catalog caches above (max_prepared bounds it: PREPARED_PER_CONNECTION).
  const list = listUsersStatement({ tenantId: '00000000-0000-0000-0000-000000000000', checkContext: false }, parseListParams(new URLSearchParams()));
  t0 = Date.now();
  for (const s of schemas) {
    const { text, params } = renderBound(list, schemaTables(s.data_name));
    await one.unsafe(text, params, { prepare: true });
  }
  out.prepareAllSeconds = (Date.now() - t0) / 1000;
  out.backendMbAfterPreparingAll = await memory();
  out.kbPerPreparedStatement = Math.round(((Number(out.backendMbAfterPreparingAll) - Number(out.backendMbAfterAll)) * 1024) / schemas.length);
  await one.end();
} finally {
  console.log(JSON.stringify(out));
  await sql.end({ timeout: 5 });
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
