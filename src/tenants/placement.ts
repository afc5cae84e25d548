// Where a tenant lives and how it is kept apart from the others: the server its data is on, its
// isolation model, and (for models that give a tenant its own) the name of its schema or database.
// Read with the tenant from the catalog (sql/007); the pool registry routes by it.
import { Unavailable } from '../errors.js';

export type IsolationModelName = 'rls';

export interface Placement {
  readonly server: string;
  readonly model: IsolationModelName;
  /** The tenant's own schema or database; null when its rows live in shared tables. */
  readonly dataName: string | null;
}

const MODELS: ReadonlySet<string> = new Set<IsolationModelName>(['rls']);

export interface PlacementRow {
  readonly server: string;
  readonly model: string;
  readonly data_name: string | null;
}

/**
 * The placement a catalog row describes. A model this gateway does not know (an older instance in a
 * fleet being upgraded) is refused with a retryable 503, never guessed at.
 */
export function placementOf(row: PlacementRow): Placement {
  if (!MODELS.has(row.model)) {
    throw new Unavailable('tenant_model_unsupported', 'this gateway instance cannot serve the tenant\'s isolation model; retry shortly', 1);
  }
  return { server: row.server, model: row.model as IsolationModelName, dataName: row.data_name };
}
