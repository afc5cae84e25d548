// What a move is about: the tenant, and the two servers it leaves and reaches.
import type { Sql } from 'postgres';
import type { IsolationModel } from '../isolation/model.js';
import type { Placement } from '../tenants/placement.js';

export interface MovingTenant {
  readonly id: string;
  /** Its login role (t_<hex>), the same on every server. */
  readonly role: string;
  /** The role's password, opened from the catalog: only its SCRAM verifier reaches the target. Never logged. */
  readonly password: string;
  /** Where it is now: its model and schema name; the server is the source's. */
  readonly placement: Placement;
  readonly model: IsolationModel;
}

export interface MoveServer {
  /** The owner's connection (the role that migrated it); at least two connections. */
  readonly sql: Sql;
  /**
   * The catalog's own server: the catalog row is the tenant's hosted row there, never created or
   * removed by a move. Elsewhere the move adds or removes the hosted row (src/servers/hosted.ts).
   */
  readonly hostsCatalog: boolean;
}

/** True when the tenant's rows are in shared tables (row model) rather than tables of its own. */
export function inSharedTables(tenant: MovingTenant): boolean {
  return tenant.placement.dataName === null;
}
