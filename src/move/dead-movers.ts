// Moves whose mover is gone (its gateway stopped mid-move): found by their record on a server with no
// session holding the move's advisory lock, and finished the way the catalog says. If the tenant is
// still placed on that server the switch never happened: the capture is ended (its writes are let
// through again). If it is placed elsewhere the switch did happen: the old copy is removed, except a
// row-model tenant's fence on the catalog's server, which stays on purpose (source-cleanup.ts).
import type { Sql } from 'postgres';
import type { IsolationModels } from '../isolation/models.js';
import { placementOf, type PlacementRow } from '../tenants/placement.js';
import { endCapture } from './capture.js';
import { DEFAULT_LOCK_RETRY } from './lock-retry.js';
import { MOVE_LOCK_CLASS } from './move-tenant.js';
import type { MoveServer } from './parties.js';
import { removeSourceCopy } from './source-cleanup.js';
import { movedTables } from './tables.js';

export interface DeadMoverOutcome {
  readonly tenantId: string;
  readonly outcome: 'unfenced' | 'old copy removed';
}

interface CatalogRow extends PlacementRow {
  readonly db_user: string;
}

/** Finishes the dead movers' moves recorded on `server`; returns what it did. */
export async function finishDeadMoves(catalog: Sql, server: { readonly name: string } & MoveServer, models: IsolationModels): Promise<DeadMoverOutcome[]> {
  const recorded = await server.sql<{ tenant_id: string }[]>`SELECT tenant_id::text FROM tenantgate_moves`;
  const done: DeadMoverOutcome[] = [];
  for (const { tenant_id: tenantId } of recorded) {
    const [row] = await catalog<CatalogRow[]>`
      SELECT db_user, server, model, data_name, data_version FROM tenants WHERE id = ${tenantId}`;
    // A deleted tenant's leftovers, or a fence kept on purpose: not a dead mover's.
    if (!row) continue;
    const placed = placementOf(row);
    const model = models.get(placed.model);
    if (!model) continue;
    // The fence a row-model tenant leaves on the catalog's server stays; its role there goes with the
    // rest of the old copy, so a role still there means the copy's removal never finished.
    if (server.hostsCatalog && placed.server !== server.name && placed.dataName === null) {
      const [role] = await server.sql`SELECT 1 FROM pg_roles WHERE rolname = ${row.db_user}`;
      if (!role) continue;
    }
    const session = await server.sql.reserve();
    try {
      const [lock] = await session<{ ok: boolean }[]>`SELECT pg_try_advisory_lock(${MOVE_LOCK_CLASS}, hashtext(${tenantId})) AS ok`;
      // A live mover holds it.
      if (!lock?.ok) continue;
      try {
        // Read again under the lock: a mover may have finished between the look-ups.
        const [still] = await server.sql`SELECT 1 FROM tenantgate_moves WHERE tenant_id = ${tenantId}`;
        const [now] = await catalog<CatalogRow[]>`SELECT db_user, server, model, data_name, data_version FROM tenants WHERE id = ${tenantId}`;
        if (!still || !now) continue;
        const placement = { ...placementOf(now), server: server.name };
        const tables = movedTables(model, placement);
        if (now.server === server.name) {
          await endCapture(server.sql, tenantId, tables, DEFAULT_LOCK_RETRY);
          done.push({ tenantId, outcome: 'unfenced' });
        } else {
          // The source copy needs no password: nothing is created, only removed.
          await removeSourceCopy(server, { id: tenantId, role: now.db_user, password: '', placement, model }, tables, DEFAULT_LOCK_RETRY);
          done.push({ tenantId, outcome: 'old copy removed' });
        }
      } finally {
        await session`SELECT pg_advisory_unlock(${MOVE_LOCK_CLASS}, hashtext(${tenantId}))`;
      }
    } finally {
      session.release();
    }
  }
  return done;
}
