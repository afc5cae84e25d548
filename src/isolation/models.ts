// The isolation models this gateway knows, by name. The schema and database models carry the
// tenant-data migrations they create each tenant's tables with.
import type { TenantMigrations } from '../db/tenant-migrations.js';
import type { IsolationModelName } from '../tenants/placement.js';
import { createDatabaseModel } from './database.js';
import type { IsolationModel } from './model.js';
import { rlsModel } from './rls.js';
import { createSchemaModel } from './schema.js';

export type IsolationModels = ReadonlyMap<IsolationModelName, IsolationModel>;

export function isolationModels(migrations: TenantMigrations): IsolationModels {
  return new Map<IsolationModelName, IsolationModel>([
    [rlsModel.name, rlsModel],
    ['schema', createSchemaModel(migrations)],
    ['database', createDatabaseModel(migrations)],
  ]);
}
