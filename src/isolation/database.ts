// The database model: a tenant's tables in a database of its own on its server (d_<tenant id hex>),
// inside it in schema s_<hex> exactly as under the schema model, so the statements, the tenant-data
// migrations (sql/tenant/) and their runner are the schema model's. The database is the isolation: only
// the tenant's role may connect to it, and that role is a member of nothing (sql/015, sql/database/).
// A connection belongs to one database, so these tenants are served on their own pools only.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import postgres, { type Sql } from 'postgres';
import { connectionOptions } from '../db/connection-options.js';
import { databaseSchema, schemaTables } from '../db/tenant-tables.js';
import type { TenantMigrations } from '../db/tenant-migrations.js';
import type { DataServer, IsolationModel, OwnDatabaseProvisioning } from './model.js';

export const DATABASE_BOOTSTRAP_FILE = fileURLToPath(new URL('../../sql/database/001_bootstrap.sql', import.meta.url));

/**
 * What the tenant tables' triggers, policies and statements call, as the server's catalog database has
 * them (every server carries the catalog's schema): copied into each new tenant database, so each body
 * is written once (sql/001, sql/009). The trigger's shared-role branch names the catalog's shared role,
 * which cannot connect to a tenant database: there it never applies.
 */
const CATALOG_FUNCTIONS = ['public.tenant_id_from_role(name)', 'public.tenantgate_check_scope(uuid)', 'public.tenantgate_tenant_row_before_write()'];

/** An owner's connection to a tenant database on `server` (one connection; the caller ends it). */
export function connectTenantDatabase(serverUrl: string, database: string): Sql {
  databaseSchema(database); // refuses anything but a tenant database's name
  return postgres(
    serverUrl,
    connectionOptions({
      database,
      max: 1,
      applicationName: 'tenantgate-provision',
      connectTimeoutSeconds: 10,
      // Creating or migrating a tenant's tables; a larger tenant's migration may take its time.
      statementTimeoutMs: 600_000,
    }),
  );
}

async function catalogFunctions(admin: Sql): Promise<string[]> {
  const rows = await admin<{ def: string | null }[]>`
    SELECT pg_get_functiondef(to_regprocedure(f)) AS def
    FROM unnest(${CATALOG_FUNCTIONS}::text[]) WITH ORDINALITY AS x(f, n) ORDER BY n`;
  return rows.map((r, i) => {
    if (r.def === null) throw new Error(`the server's catalog database has no ${CATALOG_FUNCTIONS[i] ?? 'function'}; migrate it first`);
    return r.def;
  });
}

function ownDatabaseProvisioning(migrations: TenantMigrations): OwnDatabaseProvisioning {
  let bootstrap: Promise<string> | undefined;
  const deprovision = async (server: DataServer, role: string, dataName: string): Promise<void> => {
    databaseSchema(dataName);
    // FORCE ends the tenant's sessions (any instance's pools) first; the role owns nothing outside it.
    await server.admin`DROP DATABASE IF EXISTS ${server.admin(dataName)} WITH (FORCE)`;
    await server.admin`SELECT tenantgate_drop_role(${role})`;
  };
  return {
    deprovision,
    async provision(server, login) {
      if (login.dataName === null) throw new Error('a database tenant needs a database name');
      const dataName = login.dataName;
      const schema = databaseSchema(dataName);
      // The role first: the database's grants name it. Each step commits on its own (CREATE DATABASE
      // cannot run in a transaction), so a failure anywhere removes all of them.
      try {
        await server.admin`SELECT tenantgate_create_database_tenant_role(${login.role}, ${login.verifier})`;
        // template0: nothing anyone added to template1 reaches a tenant's database.
        await server.admin`CREATE DATABASE ${server.admin(dataName)} TEMPLATE template0`;
        const functions = await catalogFunctions(server.admin);
        const script = await (bootstrap ??= readFile(DATABASE_BOOTSTRAP_FILE, 'utf8'));
        const db = connectTenantDatabase(server.url, dataName);
        try {
          return await db.begin(async (tx) => {
            for (const definition of functions) await tx.unsafe(definition);
            await tx.unsafe(script);
            return migrations.applyAllInDatabase(tx, schema);
          });
        } finally {
          await db.end({ timeout: 5 });
        }
      } catch (err) {
        await deprovision(server, login.role, dataName).catch(() => undefined);
        throw err;
      }
    },
  };
}

export function createDatabaseModel(migrations: TenantMigrations): IsolationModel {
  const ownDatabase = ownDatabaseProvisioning(migrations);
  const inCatalogTransaction = (): never => {
    throw new Error('database tenants are provisioned outside the catalog transaction (model.ownDatabase)');
  };
  return {
    name: 'database',
    // One tenant at a time: each is a CREATE DATABASE of its own, outside any transaction.
    bulkChunk: 1,
    sharedScope() {
      throw new Error('database tenants are never served on the shared pool');
    },
    tables(placement) {
      if (placement.dataName === null) throw new Error('a database tenant without a database');
      return schemaTables(databaseSchema(placement.dataName));
    },
    dataNameFor: (role) => `d_${role.slice(2)}`,
    provision: inCatalogTransaction,
    deprovision: inCatalogTransaction,
    ownDatabase,
  };
}
