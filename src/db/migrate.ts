// Applies the numbered plain-SQL migrations in sql/ in order, each in its own transaction, and records
// what ran. Safe to run from several gateway instances at once: an advisory lock serialises them.
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Sql } from 'postgres';
import { checkBaseRoles } from './base-roles.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../sql/', import.meta.url));

// Arbitrary constant shared by every instance: "tenantgate migrations".
const MIGRATION_LOCK_KEY = 7_305_531_202;

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly file: string;
}

export async function listMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql'));
  const migrations = files.map((file) => {
    const match = /^(\d+)_([\w-]+)\.sql$/.exec(file);
    if (!match) throw new Error(`migration file ${file} must be named NNN_name.sql`);
    return { version: Number(match[1]), name: match[2] ?? file, file };
  });
  // By number, not by name: 1000_x.sql comes after 999_y.sql.
  return migrations.sort((a, b) => a.version - b.version);
}

/** Returns the versions it applied (empty when the schema was already current). */
export async function migrate(sql: Sql, dir = MIGRATIONS_DIR): Promise<number[]> {
  const migrations = await listMigrations(dir);
  const applied: number[] = [];
  // CREATE TABLE IF NOT EXISTS is not safe against itself running concurrently: lock first.
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`;
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`;
  });
  for (const migration of migrations) {
    const text = await readFile(`${dir}/${migration.file}`, 'utf8');
    await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`;
      const [done] = await tx`SELECT 1 FROM schema_migrations WHERE version = ${migration.version}`;
      if (done) return;
      // Migration files hold several statements; the simple protocol runs them as one script.
      await tx.unsafe(text);
      await tx`INSERT INTO schema_migrations (version, name) VALUES (${migration.version}, ${migration.name})`;
      applied.push(migration.version);
    });
  }
  await checkBaseRoles(sql);
  return applied;
}
