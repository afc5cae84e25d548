// The schema model: a tenant's tables in its own schema (s_<tenant id hex>), made by the tenant-data
// migrations of sql/tenant/ (sql/009 for the roles and grants). Statements are the row model's, with the
// tenant's schema named in their text (src/db/tenant-tables.ts), and the shared role is still held to the
// session's scope by each table's policy.
import { useCitusDdlSettings } from '../citus/ddl-settings.js';
import { schemaTables } from '../db/tenant-tables.js';
import type { TenantMigrations } from '../db/tenant-migrations.js';
import type { IsolationModel } from './model.js';
import { tenantScopeSetting } from './rls.js';

export function createSchemaModel(migrations: TenantMigrations): IsolationModel {
  return {
    name: 'schema',
    // Each tenant's tables and indexes take about ten locks until commit: max_locks_per_transaction
    // (64 × max_connections slots by default) bounds how many schemas one transaction may create.
    bulkChunk: 50,
    sharedScope: tenantScopeSetting,
    tables(placement) {
      if (placement.dataName === null) throw new Error('a schema tenant without a schema');
      return schemaTables(placement.dataName);
    },
    dataNameFor: (role) => `s_${role.slice(2)}`,
    async provision(tx, logins) {
      let version = 0;
      await useCitusDdlSettings(tx);
      for (const login of logins) {
        if (login.dataName === null) throw new Error('a schema tenant needs a schema name');
        await tx`SELECT tenantgate_create_schema_tenant(${login.role}, ${login.verifier}, ${login.dataName})`;
        version = await migrations.applyAll(tx, login.dataName);
      }
      return version;
    },
    async deprovision(tx, role, dataName) {
      await tx`SELECT tenantgate_drop_schema_tenant(${role}, ${dataName})`;
    },
  };
}
