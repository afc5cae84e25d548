// Where a tenant lives and how it is kept apart from the others: the server its data is on, its
// isolation model, and (for models that give a tenant its own) the name of its schema or database and
// the tenant-data version it is at. Read with the tenant from the catalog (sql/007, sql/009); the pool
// registry routes by it.
import { Unavailable } from '../errors.js';

export const ISOLATION_MODEL_NAMES = ['rls', 'schema', 'database'] as const;
export type IsolationModelName = (typeof ISOLATION_MODEL_NAMES)[number];

export interface Placement {
  readonly server: string;
  readonly model: IsolationModelName;
  /** The tenant's own schema (s_<hex>) or database (d_<hex>); null when its rows live in shared tables. */
  readonly dataName: string | null;
  /** The last tenant-data migration its schema or database has (null under the row model). */
  readonly dataVersion: number | null;
}

const MODELS: ReadonlySet<string> = new Set<string>(ISOLATION_MODEL_NAMES);

export function isIsolationModelName(name: string): name is IsolationModelName {
  return MODELS.has(name);
}

export interface PlacementRow {
  readonly server: string;
  readonly model: string;
  readonly data_name: string | null;
  readonly data_version: number | null;
}

/**
 * The placement a catalog row describes. A model this gateway does not know (an older instance in a
 * fleet being upgraded) is refused with a retryable 503, never guessed at.
 */
export function placementOf(row: PlacementRow): Placement {
  if (!isIsolationModelName(row.model)) {
    throw new Unavailable('tenant_model_unsupported', "this gateway instance cannot serve the tenant's isolation model; retry shortly", 1);
  }
  return { server: row.server, model: row.model, dataName: row.data_name, dataVersion: row.data_version };
}
