// Schema tenants for scenarios c1s, cs and ds: bench-schema-000001 … bench-schema-010000 under the
// schema model (each its own schema s_<id> with its own `users` table), created in bulk through the
// catalog as the API and CLI would (not over HTTP), and kept across runs like the row-model tenants.
// Each one's table holds a copy of the users of its row-model twin (bench-schema-000042 ↔ bench-000042):
// the same ids, names, flags and timestamps, only tenant_id is the schema tenant's. So the gateway,
// serving the schema tenant, and the baseline, reading public.users for the twin, answer the same
// request with the same bytes. Rows scenario e POSTed (left in public.users until the next run that
// writes) are not copied, and the bench removes them before each schema scenario's runs.
import type { Sql } from 'postgres';
import { parseCredentialsKey } from '../src/crypto/credentials.js';
import { singleKeyRing } from '../src/crypto/key-ring.js';
import { loadTenantMigrations, migrateTenantSchemas } from '../src/db/tenant-migrations.js';
import { isolationModels } from '../src/isolation/models.js';
import { createTenantCatalog } from '../src/tenants/catalog.js';
import { POSTED_USER, type BenchDatabase } from './database.js';
import { withTimeout } from './timeout.js';

const SCHEMA_TENANT_PREFIX = 'bench-schema-';
/** bench-schema-000001 …: a SQL regex, as for the row-model tenants. */
const SCHEMA_TENANT_NAME = '^bench-schema-[0-9]{6}$';
/** Schemas seeded per transaction: each INSERT locks a table and its indexes until commit. */
const SEED_CHUNK = 200;
/** Tables per VACUUM (ANALYZE) statement. */
const VACUUM_CHUNK = 500;

export interface SchemaProvisionReport {
  readonly schemaTenantsCreated: number;
  readonly schemaCreateMs: number;
  /** Schema tenants brought up to this build's tenant-data version (kept from an older build's run). */
  readonly schemasMigrated: number;
  readonly schemaMigrateMs: number;
  /** Schema tenants whose empty table got their twin's users, and how many rows that was. */
  readonly schemasSeeded: number;
  readonly schemaUsersInserted: number;
  readonly schemaSeedMs: number;
  /** VACUUM (ANALYZE) of the seeded tables and ANALYZE of the catalog. */
  readonly schemaAnalyzeMs: number;
}

/**
 * The missing schema tenants (bulk, through the catalog), then, for each whose `users` table is empty, a
 * copy of its twin's users, then VACUUM (ANALYZE) of the tables seeded now. Runs after `provision`: the
 * twins and their users must be there.
 */
export async function provisionSchemaTenants(db: BenchDatabase, tenantCount: number, log: (line: string) => void): Promise<SchemaProvisionReport> {
  const existing = new Set((await db.sql<{ name: string }[]>`SELECT name FROM tenants WHERE name ~ ${SCHEMA_TENANT_NAME}`).map((r) => r.name));
  const missing = schemaTenantNames(tenantCount).filter((name) => !existing.has(name));
  const migrations = await loadTenantMigrations();
  const catalog = createTenantCatalog(db.sql, singleKeyRing(parseCredentialsKey(db.credentialsKeyHex)), {
    models: isolationModels(migrations),
    defaultModel: 'schema',
  });
  let started = Date.now();
  if (missing.length > 0) {
    log(`provisioning: creating ${missing.length} schema tenants (about 3 min for 10,000 on two cores)`);
    await withTimeout(catalog.createMany(missing, 'schema'), 1_800_000, 'creating schema tenants');
  }
  const schemaCreateMs = Date.now() - started;

  // Schemas kept from a run of an older build are behind this one's tenant-data migrations, and the
  // gateway refuses to serve them (503 tenant_schema_behind): migrate them as a deploy would.
  started = Date.now();
  const migrated = await withTimeout(migrateTenantSchemas(db.sql, migrations, { concurrency: 4 }), 1_800_000, 'migrating schema tenants');
  if (migrated.failed.length > 0) throw new Error(`${migrated.failed.length} schema tenants failed to migrate`);
  const schemaMigrateMs = Date.now() - started;
  if (migrated.migrated > 0) log(`provisioning: ${migrated.migrated} schema tenants migrated to the current tenant-data version in ${schemaMigrateMs} ms`);

  started = Date.now();
  const seeded: string[] = [];
  let schemaUsersInserted = 0;
  for (let from = 1; from <= tenantCount; from += SEED_CHUNK) {
    const chunk = await seedChunk(db.sql, schemaTenantName(from), schemaTenantName(Math.min(from + SEED_CHUNK - 1, tenantCount)));
    seeded.push(...chunk.schemas);
    schemaUsersInserted += chunk.rows;
  }
  const schemaSeedMs = Date.now() - started;

  started = Date.now();
  // Like public.users after its bulk insert: statistics, visibility map and hint bits set before any
  // measurement (autovacuum would never visit ten-row tables).
  for (let i = 0; i < seeded.length; i += VACUUM_CHUNK) {
    const tables = seeded.slice(i, i + VACUUM_CHUNK).map((schema) => `${quoteSchema(schema)}.users`);
    await db.sql.unsafe(`VACUUM (ANALYZE) ${tables.join(', ')}`);
  }
  if (missing.length > 0) await db.sql`ANALYZE tenants`;
  const schemaAnalyzeMs = Date.now() - started;

  const report = {
    schemaTenantsCreated: missing.length,
    schemaCreateMs,
    schemasMigrated: migrated.migrated,
    schemaMigrateMs,
    schemasSeeded: seeded.length,
    schemaUsersInserted,
    schemaSeedMs,
    schemaAnalyzeMs,
  };
  log(
    `provisioning: ${missing.length} schema tenants created in ${schemaCreateMs} ms (${existing.size} already there); ` +
      `${schemaUsersInserted} users copied into ${seeded.length} schemas in ${schemaSeedMs} ms; ` +
      `VACUUM (ANALYZE) ${schemaAnalyzeMs} ms`,
  );
  return report;
}

/** Ids of the schema tenants in name order: index 0 is bench-schema-000001, the twin of bench-000001. */
export async function schemaTenantIds(sql: Sql, tenantCount: number): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    SELECT id FROM tenants WHERE name ~ ${SCHEMA_TENANT_NAME} AND model = 'schema' ORDER BY name LIMIT ${tenantCount}`;
  if (rows.length < tenantCount) throw new Error(`expected ${tenantCount} schema bench tenants, found ${rows.length}`);
  return rows.map((r) => r.id);
}

/**
 * Copies the twins' users into the empty tables of the schema tenants named `first` … `last`, in one
 * transaction (one DO block: an INSERT … SELECT per schema), without row triggers like the row-model
 * seeding (users_before_write leaves a superuser's explicit tenant_id alone anyway). Returns the schemas
 * seeded and the rows inserted.
 */
async function seedChunk(sql: Sql, first: string, last: string): Promise<{ schemas: string[]; rows: number }> {
  const result = await sql.begin(async (tx) => {
    await tx`SET LOCAL session_replication_role = replica`;
    // The names are ours (bench-schema-NNNNNN), checked by the caller's format: safe as literals.
    await tx.unsafe(`
      DO $bench$
      DECLARE
        r record;
        n bigint;
        total bigint := 0;
        seeded text[] := '{}';
      BEGIN
        FOR r IN
          SELECT s.id AS tenant, s.data_name, t.id AS twin
          FROM public.tenants s
          JOIN public.tenants t ON t.name = 'bench-' || substr(s.name, ${SCHEMA_TENANT_PREFIX.length + 1})
          WHERE s.model = 'schema' AND s.name ~ '${SCHEMA_TENANT_NAME}' AND s.name BETWEEN '${first}' AND '${last}'
          ORDER BY s.name
        LOOP
          EXECUTE format(
            'INSERT INTO %I.users (tenant_id, id, first_name, last_name, confirmed, created_at, updated_at)
             SELECT $1, u.id, u.first_name, u.last_name, u.confirmed, u.created_at, u.updated_at
             FROM public.users u
             WHERE u.tenant_id = $2 AND (u.first_name, u.last_name) <> ($3, $4)
               AND NOT EXISTS (SELECT 1 FROM %I.users)',
            r.data_name, r.data_name)
            USING r.tenant, r.twin, '${POSTED_USER.first_name}'::text, '${POSTED_USER.last_name}'::text;
          GET DIAGNOSTICS n = ROW_COUNT;
          IF n > 0 THEN
            total := total + n;
            seeded := seeded || r.data_name::text;
          END IF;
        END LOOP;
        PERFORM set_config('bench.seeded_rows', total::text, true);
        PERFORM set_config('bench.seeded_schemas', array_to_string(seeded, ','), true);
      END
      $bench$`);
    const [row] = await tx<{ rows: string; schemas: string }[]>`
      SELECT current_setting('bench.seeded_rows') AS rows, current_setting('bench.seeded_schemas') AS schemas`;
    return { rows: Number(row?.rows ?? 0), schemas: row?.schemas ? row.schemas.split(',') : [] };
  });
  return result as { schemas: string[]; rows: number };
}

function schemaTenantName(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 999_999) throw new Error(`no schema bench tenant number ${n}`);
  return `${SCHEMA_TENANT_PREFIX}${String(n).padStart(6, '0')}`;
}

function schemaTenantNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => schemaTenantName(i + 1));
}

function quoteSchema(name: string): string {
  if (!/^s_[0-9a-f]{32}$/.test(name)) throw new Error(`not a tenant schema name: ${name}`);
  return `"${name}"`;
}
