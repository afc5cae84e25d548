// What a database-model tenant costs (src/isolation/database.ts): a database per tenant, served only on
// its own pool, so a cold tenant pays a login into its database on its first request. Measures, on a
// fresh embedded PostgreSQL of its own (a temporary data dir, removed after), with the gateway and the
// baseline (bench/baseline.ts) as child processes as `npm run bench` runs them:
//   create  the time to create one database tenant (role, CREATE DATABASE, bootstrap, tenant-data migrations);
//   cold    each tenant's first request, one at a time (directory look-up, login into its database, query);
//   churn   load over more database tenants than DEDICATED_MAX_CONNECTIONS lets keep a pool: nearly
//           every request finds its pool closed, opens one and closes the least recently used idle one;
//   warm    load over tenants whose pools are open;
//   rls     the same load for a row-model tenant on the shared pool (the gateway's usual path);
//   baseline the same request on the baseline server (one plain superuser pool, no tenancy).
// Every tenant holds USERS users; each request is GET /v1/internal/users?page_size=20.
//
// Run: flock /tmp/tenantgate-bench.lock npx tsx bench/database-model.ts [--tenants N] [--seconds S]
// Prints a table and writes bench/results/database-model-<time>.json.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { singleKeyRing } from '../src/crypto/key-ring.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { loadTenantMigrations } from '../src/db/tenant-migrations.js';
import { connectTenantDatabase } from '../src/isolation/database.js';
import { isolationModels } from '../src/isolation/models.js';
import { createServerConnections } from '../src/servers/connections.js';
import { createTenantCatalog } from '../src/tenants/catalog.js';
import { freePort } from '../soak/ports.js';
import { runLoad, type LoadFigures } from './load.js';
import { REPO_ROOT, startServer } from './servers.js';

const USERS = 20;
const PATH = '/v1/internal/users?page_size=20';
const CONNECTIONS = 8;

interface Sample {
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
}

function quantiles(ms: readonly number[]): Sample {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), mean: sorted.reduce((a, b) => a + b, 0) / sorted.length };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { tenants: { type: 'string', default: '48' }, seconds: { type: 'string', default: '10' } } });
  const tenantCount = Number(values.tenants);
  const seconds = Number(values.seconds);
  const log = (line: string): void => console.log(`[database-model] ${line}`);

  const dataDir = await mkdtemp(join(tmpdir(), 'tenantgate-bench-dbmodel-'));
  // mkdtemp makes it 0700; as root, the server runs as the postgres system user and must get through.
  await chmod(dataDir, 0o755);
  const server = await startEmbeddedPostgres({
    dataDir,
    port: await freePort(),
    superuserPassword: randomBytes(18).toString('base64url'),
    database: 'tenantgate',
  });
  const sql = postgres(server.url, { max: 4, onnotice: () => {} });
  const credentialsKey = randomBytes(32);
  const stops: (() => Promise<void>)[] = [];
  try {
    await migrate(sql);
    const migrations = await loadTenantMigrations();
    const catalog = createTenantCatalog(sql, singleKeyRing(credentialsKey), {
      models: isolationModels(migrations),
      servers: createServerConnections(sql, singleKeyRing(credentialsKey), { mainUrl: server.url, connectTimeoutSeconds: 10 }),
    });

    // Database tenants, one at a time (each a CREATE DATABASE), with USERS users each.
    const createMs: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < tenantCount; i++) {
      const started = performance.now();
      const tenant = await catalog.create(`db-${String(i).padStart(4, '0')}`, 'database');
      createMs.push(performance.now() - started);
      ids.push(tenant.id);
      const db = connectTenantDatabase(server.url, `d_${tenant.db_user.slice(2)}`);
      await db.unsafe(
        `INSERT INTO "s_${tenant.db_user.slice(2)}".users (tenant_id, first_name, last_name)
                       SELECT $1, 'User' || g, 'Bench' FROM generate_series(1, ${USERS}) g`,
        [tenant.id],
      );
      await db.unsafe(`ANALYZE "s_${tenant.db_user.slice(2)}".users`);
      await db.end({ timeout: 5 });
    }
    const [size] = await sql<{ bytes: number }[]>`SELECT pg_database_size(data_name)::float8 AS bytes FROM tenants WHERE id = ${ids[0] ?? null}`;
    log(`created ${tenantCount} database tenants: ${JSON.stringify(quantiles(createMs))} ms each; ${size?.bytes ?? 0} bytes on disk each`);
    const rls = await catalog.create('rls-twin', 'rls');
    await sql`INSERT INTO users (tenant_id, first_name, last_name) SELECT ${rls.id}, 'User' || g, 'Bench' FROM generate_series(1, ${USERS}) g`;
    await sql`ANALYZE users`;

    const gateway = await startServer({
      kind: 'gateway',
      entry: 'src/main.ts',
      env: {
        DATABASE_URL: server.url,
        CREDENTIALS_KEY: credentialsKey.toString('hex'),
        ADMIN_JWT_SECRET: randomBytes(32).toString('base64url'),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        SEED_DEMO: 'false',
        // Defaults: MAX_CONNECTIONS_TOTAL 64, DEDICATED_MAX_CONNECTIONS 16, so at most 16 one-connection
        // pools are open at once.
      },
    });
    stops.push(() => gateway.stop());
    const baseline = await startServer({ kind: 'baseline', entry: 'bench/baseline.ts', env: { DATABASE_URL: server.url, BASELINE_POOL_MAX: '10' } });
    stops.push(() => baseline.stop());

    const get = async (base: string, tenantId: string): Promise<number> => {
      const started = performance.now();
      const res = await fetch(base + PATH, { headers: { 'x-tenant-id': tenantId } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`GET for ${tenantId} answered ${res.status}`);
      return performance.now() - started;
    };

    // Cold: each tenant's first request ever, one at a time (each opens its pool; past 16, the least
    // recently used idle pool is closed first, on the same request).
    const coldMs: number[] = [];
    for (const id of ids) coldMs.push(await get(gateway.baseUrl, id));
    // The same tenants' second requests while their pools are open: warm, one at a time.
    const recent = ids.slice(-8);
    const warmSerialMs: number[] = [];
    for (let round = 0; round < 5; round++) for (const id of recent) warmSerialMs.push(await get(gateway.baseUrl, id));
    log(`cold (first request, serial): ${JSON.stringify(quantiles(coldMs))} ms; warm (serial): ${JSON.stringify(quantiles(warmSerialMs))} ms`);

    const load = async (base: string, tenants: readonly string[]): Promise<LoadFigures> => {
      const requests = tenants.map((id) => ({ method: 'GET' as const, path: PATH, headers: { 'x-tenant-id': id } }));
      // A short warm-up, then the measured run.
      await runLoad({ baseUrl: base, connections: CONNECTIONS, durationSeconds: 2, requests });
      return runLoad({ baseUrl: base, connections: CONNECTIONS, durationSeconds: seconds, requests });
    };
    const runs: Record<string, LoadFigures> = {};
    runs.baseline = await load(baseline.baseUrl, [rls.id]);
    runs.rls = await load(gateway.baseUrl, [rls.id]);
    runs.warm = await load(gateway.baseUrl, recent);
    runs.churn = await load(gateway.baseUrl, ids);

    const rows = Object.entries(runs).map(([name, r]) => ({
      run: name,
      'req/s': Math.round(r.requestsPerSecond),
      p50: r.latencyMs.p50,
      p99: r.latencyMs.p99,
      non2xx: r.non2xx,
      errors: r.errors,
      codes: JSON.stringify(r.errorCodes),
    }));
    console.table(rows);
    const report = {
      at: new Date().toISOString(),
      tenants: tenantCount,
      usersPerTenant: USERS,
      connections: CONNECTIONS,
      seconds,
      createMs: quantiles(createMs),
      databaseBytes: size?.bytes,
      coldFirstRequestMs: quantiles(coldMs),
      warmSerialMs: quantiles(warmSerialMs),
      load: Object.fromEntries(
        Object.entries(runs).map(([k, r]) => [
          k,
          { requestsPerSecond: r.requestsPerSecond, latencyMs: r.latencyMs, non2xx: r.non2xx, errorCodes: r.errorCodes },
        ]),
      ),
      gatewayWarnings: gateway.logSummary(),
    };
    await mkdir(join(REPO_ROOT, 'bench/results'), { recursive: true });
    const file = join(REPO_ROOT, `bench/results/database-model-${report.at.replaceAll(':', '-')}.json`);
    await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
    log(`written ${file}`);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await sql.end({ timeout: 5 });
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
