// Scenario c2's second PostgreSQL server: its own embedded cluster (data in bench/.data/server2, port
// 54340, pg_stat_statements like the first; or BENCH_SERVER2_URL beside BENCH_DATABASE_URL), listed in
// the catalog as the data server `s2` through the gateway's own server catalog (which migrates it and
// sets up its shared role), with 5,000 small tenants bench-s2-000001 … bench-s2-005000 placed on it
// through the tenant catalog (roles and hosted rows on s2, catalog rows on main) and 10 users each.
// Everything is kept across runs, like the first server's tenants: later runs only check it is there.
import { resolve } from 'node:path';
import postgres, { type Sql } from 'postgres';
import { parseCredentialsKey } from '../src/crypto/credentials.js';
import { singleKeyRing } from '../src/crypto/key-ring.js';
import { loadOrCreateDevSecrets } from '../src/db/dev-secrets.js';
import { isReachable } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { createServerCatalog } from '../src/servers/catalog.js';
import { createServerConnections } from '../src/servers/connections.js';
import { splitServerUrl } from '../src/servers/server-url.js';
import { createTenantCatalog } from '../src/tenants/catalog.js';
import { BENCH_CONNECTION, BENCH_DATA_DIR, seedUsers, startWithStatementStats, type BenchDatabase } from './database.js';
import { withTimeout } from './timeout.js';

/** The second server's name in the catalog. */
export const SECOND_SERVER = 's2';
const EMBEDDED_PORT = 54340;
const TENANT_PREFIX = 'bench-s2-';
/** bench-s2-000001 …: a SQL regex on the catalog's names. */
const TENANT_NAME = '^bench-s2-[0-9]{6}$';
/** On the data server the hosted rows are named by their id (src/servers/hosted.ts). */
const HOSTED_NAME = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const CONNECT_TIMEOUT_SECONDS = 5;

export interface SecondServer {
  readonly name: string;
  /** Superuser URL (password included): the server's owner URL in the catalog, and the baseline's second pool. */
  readonly url: string;
  /** Superuser connection of the bench itself on it (seeding, statistics, version). */
  readonly sql: Sql;
  stop(): Promise<void>;
}

export interface SecondServerReport {
  readonly registered: boolean;
  readonly tenantsCreated: number;
  readonly createMs: number;
  readonly usersInserted: number;
  readonly seedMs: number;
  readonly analyzeMs: number;
}

export async function openSecondServer(db: BenchDatabase, log: (line: string) => void): Promise<SecondServer> {
  let url: string;
  let stopServer = async (): Promise<void> => {};
  if (!db.embedded) {
    const external = process.env.BENCH_SERVER2_URL?.trim();
    if (!external) throw new Error('scenario c2 with BENCH_DATABASE_URL needs BENCH_SERVER2_URL: a superuser URL of a second PostgreSQL server');
    url = external;
    log(`second server: BENCH_SERVER2_URL (${new URL(external).host})`);
  } else {
    const started = Date.now();
    const secrets = await loadOrCreateDevSecrets(BENCH_DATA_DIR);
    const server = await startWithStatementStats(
      { dataDir: resolve(BENCH_DATA_DIR, 'server2'), port: EMBEDDED_PORT, superuserPassword: secrets.postgresPassword, database: 'tenantgate_bench' },
      log,
    );
    url = server.url;
    stopServer = async () => {
      if (await isReachable(server.url)) await withTimeout(server.stop(), 30_000, 'stopping the second embedded PostgreSQL');
    };
    log(`second server: embedded PostgreSQL on 127.0.0.1:${EMBEDDED_PORT}, data in bench/.data/server2 (${Date.now() - started} ms)`);
  }
  const sql = postgres(url, { max: 2, ...BENCH_CONNECTION });
  return {
    name: SECOND_SERVER,
    url,
    sql,
    async stop() {
      await sql.end({ timeout: 5 });
      await stopServer();
    },
  };
}

/**
 * Lists the second server in the catalog with a budget of `maxConnections` (once; later runs keep the
 * row and set the budget), creates the missing tenants on it and seeds those without users.
 */
export async function provisionSecondServer(
  db: BenchDatabase,
  second: SecondServer,
  options: { readonly tenants: number; readonly maxConnections: number },
  log: (line: string) => void,
): Promise<SecondServerReport> {
  const keys = singleKeyRing(parseCredentialsKey(db.credentialsKeyHex));
  const [listed] = await db.sql<{ url: string }[]>`SELECT url FROM servers WHERE name = ${second.name}`;
  if (listed && listed.url !== splitServerUrl(second.url).publicUrl) {
    throw new Error(
      `the catalog lists server ${second.name} at ${listed.url}, not at this bench's second server; drop the bench database (or bench/.data) and run again`,
    );
  }
  if (!listed) {
    await createServerCatalog(db.sql, keys, { connectTimeoutSeconds: CONNECT_TIMEOUT_SECONDS }).add({
      name: second.name,
      url: second.url,
      maxConnections: options.maxConnections,
    });
  } else {
    await db.sql`UPDATE servers SET max_connections = ${options.maxConnections} WHERE name = ${second.name}`;
    // A server kept from an older build's run: its schema follows this build, as the gateway would do.
    await migrate(second.sql);
  }

  let started = Date.now();
  const existing = new Set((await db.sql<{ name: string }[]>`SELECT name FROM tenants WHERE name ~ ${TENANT_NAME}`).map((r) => r.name));
  const missing = Array.from({ length: options.tenants }, (_, i) => `${TENANT_PREFIX}${String(i + 1).padStart(6, '0')}`).filter((name) => !existing.has(name));
  if (missing.length > 0) {
    log(`provisioning: creating ${missing.length} tenants on server ${second.name}`);
    // The catalog's own path: roles and hosted rows on the server, then the catalog rows on main.
    const servers = createServerConnections(db.sql, keys, { mainUrl: db.url, connectTimeoutSeconds: CONNECT_TIMEOUT_SECONDS });
    try {
      await withTimeout(createTenantCatalog(db.sql, keys, { servers }).createMany(missing, 'rls', second.name), 600_000, `creating tenants on ${second.name}`);
    } finally {
      // Its owner connections are named like the gateway's: they must be gone before any sampling.
      await servers.close();
    }
  }
  const createMs = Date.now() - started;

  started = Date.now();
  const usersInserted = await seedUsers(second.sql, HOSTED_NAME);
  const seedMs = Date.now() - started;
  started = Date.now();
  await second.sql`ANALYZE tenants, users`;
  if (missing.length > 0) await db.sql`ANALYZE tenants`;
  const analyzeMs = Date.now() - started;
  const report = { registered: !listed, tenantsCreated: missing.length, createMs, usersInserted, seedMs, analyzeMs };
  log(
    `provisioning: server ${second.name} ${listed ? 'already listed' : 'listed'} (budget ${options.maxConnections}); ` +
      `${missing.length} tenants created on it in ${createMs} ms (${existing.size} already there); ` +
      `${usersInserted} users seeded in ${seedMs} ms; ANALYZE ${analyzeMs} ms`,
  );
  return report;
}

/** Ids of the second server's bench tenants in name order: index 0 is bench-s2-000001. */
export async function secondServerTenantIds(db: BenchDatabase, second: SecondServer, tenantCount: number): Promise<string[]> {
  const rows = await db.sql<{ id: string }[]>`
    SELECT id FROM tenants WHERE name ~ ${TENANT_NAME} AND server = ${second.name} ORDER BY name LIMIT ${tenantCount}`;
  if (rows.length < tenantCount) throw new Error(`expected ${tenantCount} bench tenants on server ${second.name}, found ${rows.length}`);
  return rows.map((r) => r.id);
}
