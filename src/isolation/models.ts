// The isolation models this gateway knows, by name. The schema model carries the tenant-data
// migrations it creates each tenant's schema with.
import type { TenantMigrations } from '../db/tenant-migrations.js';
import type { IsolationModelName } from '../tenants/placement.js';
import type { IsolationModel } from './model.js';
import { rlsModel } from './rls.js';
import { createSchemaModel } from './schema.js';

export type IsolationModels = ReadonlyMap<IsolationModelName, IsolationModel>;

export function isolationModels(migrations: TenantMigrations): IsolationModels {
  return new Map<IsolationModelName, IsolationModel>([
    [rlsModel.name, rlsModel],
    ['schema', createSchemaModel(migrations)],
  ]);
}
