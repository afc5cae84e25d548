// The isolation models this gateway knows, by name.
import type { IsolationModelName } from '../tenants/placement.js';
import type { IsolationModel } from './model.js';
import { rlsModel } from './rls.js';

export const ISOLATION_MODELS: ReadonlyMap<IsolationModelName, IsolationModel> = new Map([[rlsModel.name, rlsModel]]);
