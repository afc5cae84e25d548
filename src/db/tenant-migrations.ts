// Tenant-data migrations: the numbered SQL files of sql/tenant/, applied inside each tenant's own
// schema (schema model; database model: the same schema, in the tenant's own database), apart from the
// catalog's migrations (src/db/migrate.ts). The catalog keeps a ledger per tenant (tenants.data_version, data_failure), so a run that is interrupted resumes where
// each tenant stopped, a tenant that fails is recorded and the others go on, and "nothing to do" is a
// single indexed count however many tenants there are.
import { splitSqlScript } from './sql-script.js';
import { useCitusDdlSettings } from '../citus/ddl-settings.js';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Sql, TransactionSql } from 'postgres';
import { schemaSearchPath } from './search-path.js';
import { databaseSchema } from './tenant-tables.js';

export const TENANT_MIGRATIONS_DIR = fileURLToPath(new URL('../../sql/tenant/', import.meta.url));

export interface TenantMigration {
  readonly version: number;
  readonly name: string;
  readonly text: string;
  /** The text's statements, sent one at a time (src/db/sql-script.ts: Citus needs that). */
  readonly statements: readonly string[];
}

export interface TenantMigrations {
  readonly list: readonly TenantMigration[];
  /** The highest version: what this build's statements need a tenant schema to be at. */
  readonly latest: number;
  /** Applies every migration above `from` to `schema`, in the caller's transaction; returns the version reached. */
  applyAll(tx: TransactionSql, schema: string, from?: number): Promise<number>;
  /**
   * The same in a database tenant's own database (connected to it as the owner), each migration
   * recorded in the database's ledger (sql/database/001) unless already there; returns the version reached.
   */
  applyAllInDatabase(tx: TransactionSql, schema: string): Promise<number>;
}

export async function loadTenantMigrations(dir = TENANT_MIGRATIONS_DIR): Promise<TenantMigrations> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql'));
  const list: TenantMigration[] = [];
  for (const file of files) {
    const match = /^(\d+)_([\w-]+)\.sql$/.exec(file);
    if (!match) throw new Error(`tenant migration file ${file} must be named NNN_name.sql`);
    const text = await readFile(`${dir}/${file}`, 'utf8');
    list.push({ version: Number(match[1]), name: match[2] ?? file, text, statements: splitSqlScript(text) });
  }
  list.sort((a, b) => a.version - b.version);
  const latest = list[list.length - 1]?.version ?? 0;
  return {
    list,
    latest,
    async applyAll(tx, schema, from = 0) {
      let reached = from;
      for (const m of list) {
        if (m.version <= from) continue;
        await applyOne(tx, schema, m);
        reached = m.version;
      }
      return reached;
    },
    async applyAllInDatabase(tx, schema) {
      let reached = 0;
      for (const m of list) reached = await applyInDatabase(tx, schema, m);
      return reached;
    },
  };
}

// Two runs migrating one tenant database at once: the second waits, then finds the ledger advanced.
// Arbitrary constant: "tenantgate tenant-data migrations".
const DATABASE_MIGRATION_LOCK_KEY = 7_305_531_203;

/**
 * One migration in a tenant database, recorded in its ledger in the same transaction (so the database
 * itself says what it has, whatever became of the catalog's copy); skipped when already recorded.
 * Returns the version the database is at for this migration.
 */
async function applyInDatabase(tx: TransactionSql, schema: string, m: TenantMigration): Promise<number> {
  await tx`SELECT pg_advisory_xact_lock(${DATABASE_MIGRATION_LOCK_KEY})`;
  const [done] = await tx`SELECT 1 FROM public.tenant_data_migrations WHERE version = ${m.version}`;
  if (done) return m.version;
  await applyOne(tx, schema, m);
  await tx`INSERT INTO public.tenant_data_migrations (version, name) VALUES (${m.version}, ${m.name})`;
  return m.version;
}

/** One migration in `schema`: under its search_path for the migration's statements only. */
async function applyOne(tx: TransactionSql, schema: string, m: TenantMigration): Promise<void> {
  const [saved] = await tx<{ path: string }[]>`SELECT current_setting('search_path') AS path`;
  await useCitusDdlSettings(tx);
  await tx.unsafe(`SET LOCAL search_path = ${schemaSearchPath(schema)}`);
  for (const statement of m.statements) await tx.unsafe(statement);
  await tx`SELECT set_config('search_path', ${saved?.path ?? 'public'}, true)`;
}

export interface TenantMigrationFailure {
  readonly tenantId: string;
  readonly name: string;
  readonly version: number;
  readonly error: string;
}

export interface TenantMigrationRun {
  /** Tenants behind when the run started. */
  readonly behind: number;
  readonly migrated: number;
  readonly failed: readonly TenantMigrationFailure[];
  /** True when the canary failed and the run stopped before the others. */
  readonly stoppedAtCanary: boolean;
  readonly ms: number;
}

export interface TenantMigrationOptions {
  /** Tenants migrated at once (each on its own connection of `sql`). */
  readonly concurrency: number;
  /** Migrate this many tenants first; if any fails, stop there. */
  readonly canary?: number;
  readonly onTenant?: (done: number, total: number) => void;
  /**
   * An owner's connection (one) to a database tenant's database on its server; the runner ends it.
   * Without it, database tenants behind are recorded as failed.
   */
  readonly openDatabase?: (server: string, database: string) => Promise<Sql>;
  /**
   * The owner's connection to a data server (shared, not ended by the runner), for schema tenants
   * placed there. Without it, those behind are recorded as failed.
   */
  readonly openServer?: (server: string) => Promise<Sql>;
}

interface BehindTenant {
  readonly id: string;
  readonly name: string;
  readonly model: string;
  readonly server: string;
  readonly data_name: string;
}

/**
 * Brings every schema and database tenant behind `migrations.latest` up to it: each migration of each
 * tenant in its own transaction, so two runs never apply one twice and an interrupted run leaves every
 * tenant at a version it fully reached. A schema tenant's ledger row is locked and advanced in that
 * transaction; a database tenant's database keeps its own ledger (advanced with the migration), which
 * the catalog's row then follows.
 */
export async function migrateTenantSchemas(sql: Sql, migrations: TenantMigrations, options: TenantMigrationOptions): Promise<TenantMigrationRun> {
  const started = Date.now();
  const behind = await sql<BehindTenant[]>`
    SELECT id, name, model, server, data_name FROM tenants
    WHERE model IN ('schema', 'database') AND data_version < ${migrations.latest}
    ORDER BY created_at, id`;
  const failed: TenantMigrationFailure[] = [];
  let migrated = 0;
  let done = 0;

  const stepInSchema = (t: BehindTenant, m: TenantMigration): Promise<boolean> =>
    sql.begin(async (tx) => {
      const [row] = await tx<{ data_version: number | null }[]>`
        SELECT data_version FROM tenants WHERE id = ${t.id} AND model = 'schema' FOR UPDATE`;
      // Deleted meanwhile, or already there (another run): nothing to do for this one.
      if (!row || (row.data_version ?? 0) >= m.version) return false;
      await applyOne(tx, t.data_name, m);
      await tx`UPDATE tenants SET data_version = ${m.version}, data_failure = NULL WHERE id = ${t.id}`;
      return true;
    });

  // A schema tenant on a data server: its schema is there, and so is its ledger, the data_version of its
  // record on that server (src/servers/hosted.ts), locked and advanced with the migration; the
  // catalog's row then follows, as for a database tenant.
  const stepInServerSchema = async (server: Sql, t: BehindTenant, m: TenantMigration): Promise<boolean> => {
    const [row] = await sql<{ data_version: number | null }[]>`
      SELECT data_version FROM tenants WHERE id = ${t.id} AND model = 'schema'`;
    if (!row || (row.data_version ?? 0) >= m.version) return false;
    const reached = await server.begin(async (tx) => {
      const [hosted] = await tx<{ data_version: number | null }[]>`
        SELECT data_version FROM public.tenants WHERE id = ${t.id} FOR UPDATE`;
      if (!hosted) throw new Error(`the tenant has no record on server ${t.server}`);
      if ((hosted.data_version ?? 0) >= m.version) return hosted.data_version ?? 0;
      await applyOne(tx, t.data_name, m);
      await tx`UPDATE public.tenants SET data_version = ${m.version} WHERE id = ${t.id}`;
      return m.version;
    });
    await sql`UPDATE tenants SET data_version = GREATEST(data_version, ${reached}), data_failure = NULL WHERE id = ${t.id}`;
    return true;
  };

  const stepInDatabase = async (db: Sql, t: BehindTenant, m: TenantMigration): Promise<boolean> => {
    const [row] = await sql<{ data_version: number | null }[]>`
      SELECT data_version FROM tenants WHERE id = ${t.id} AND model = 'database'`;
    if (!row || (row.data_version ?? 0) >= m.version) return false;
    const reached = await db.begin((tx) => applyInDatabase(tx, databaseSchema(t.data_name), m));
    await sql`UPDATE tenants SET data_version = GREATEST(data_version, ${reached}), data_failure = NULL WHERE id = ${t.id}`;
    return true;
  };

  const migrateOne = async (t: BehindTenant): Promise<boolean> => {
    let db: Sql | undefined;
    try {
      for (const m of migrations.list) {
        try {
          if (t.model === 'database') {
            if (!options.openDatabase) throw new Error('no connection to the tenant database is configured');
            db ??= await options.openDatabase(t.server, t.data_name);
            if (!(await stepInDatabase(db, t, m))) continue;
          } else if (t.server !== 'main') {
            if (!options.openServer) throw new Error(`no connection to server ${t.server} is configured`);
            if (!(await stepInServerSchema(await options.openServer(t.server), t, m))) continue;
          } else if (!(await stepInSchema(t, m))) continue;
        } catch (err) {
          const error = `version ${m.version} (${m.name}): ${(err as { message?: string }).message ?? String(err)}`;
          failed.push({ tenantId: t.id, name: t.name, version: m.version, error });
          await sql`UPDATE tenants SET data_failure = ${error} WHERE id = ${t.id}`.catch(() => undefined);
          return false;
        }
      }
    } finally {
      await db?.end({ timeout: 5 });
    }
    migrated++;
    return true;
  };

  const runAll = async (tenants: readonly BehindTenant[]): Promise<void> => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < tenants.length) {
        const t = tenants[next++] as BehindTenant;
        await migrateOne(t);
        options.onTenant?.(++done, behind.length);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  };

  const canary = Math.min(options.canary ?? 0, behind.length);
  if (canary > 0) {
    await runAll(behind.slice(0, canary));
    if (failed.length > 0) return { behind: behind.length, migrated, failed, stoppedAtCanary: true, ms: Date.now() - started };
  }
  await runAll(behind.slice(canary));
  return { behind: behind.length, migrated, failed, stoppedAtCanary: false, ms: Date.now() - started };
}

export interface TenantMigrationStatus {
  readonly latest: number;
  /** Schema and database tenants per data version. */
  readonly versions: readonly { readonly version: number; readonly tenants: number }[];
  readonly behind: number;
  readonly failed: readonly { readonly tenantId: string; readonly name: string; readonly version: number; readonly error: string }[];
}

export async function tenantMigrationStatus(sql: Sql, migrations: TenantMigrations): Promise<TenantMigrationStatus> {
  const versions = await sql<{ version: number; tenants: number }[]>`
    SELECT data_version AS version, count(*)::int AS tenants FROM tenants
    WHERE model IN ('schema', 'database') GROUP BY data_version ORDER BY data_version`;
  const failures = await sql<{ id: string; name: string; data_version: number; data_failure: string }[]>`
    SELECT id, name, data_version, data_failure FROM tenants
    WHERE model IN ('schema', 'database') AND data_failure IS NOT NULL ORDER BY name LIMIT 100`;
  return {
    latest: migrations.latest,
    versions: versions.map((v) => ({ version: v.version, tenants: v.tenants })),
    behind: versions.filter((v) => v.version < migrations.latest).reduce((n, v) => n + v.tenants, 0),
    failed: failures.map((f) => ({ tenantId: f.id, name: f.name, version: f.data_version, error: f.data_failure })),
  };
}
