// Removes the old copy from the source once the tenant is served from the target: its rows (row model,
// in batches, so no transaction holds many row locks), then in one transaction the capture triggers and
// the fenced move record, its role (ending its sessions), its schema (schema model) and its hosted row.
// Until that transaction commits the fence stands, so a stale writer still fails there with TG002; after
// it, the rows and the role it would write with are gone. On the catalog's server a row-model tenant's
// fence stays until it moves back (move-tenant.ts lifts it at that switch) or is deleted. Also what a
// sweeper runs for a move whose mover died after the switch.
import { endCaptureIn } from './capture.js';
import { unhostTenant } from '../servers/hosted.js';
import { withLockRetry, type LockRetry } from './lock-retry.js';
import { inSharedTables, type MoveServer, type MovingTenant } from './parties.js';
import { scopeToMovingTenant } from './scope.js';
import type { MovedTable } from './tables.js';

const DELETE_BATCH = 10_000;

export async function removeSourceCopy(source: MoveServer, tenant: MovingTenant, tables: readonly MovedTable[], retry: LockRetry): Promise<void> {
  const { sql } = source;
  if (inSharedTables(tenant)) {
    for (const table of tables) {
      const name = sql.unsafe(table.qualified);
      const key = sql(table.key);
      for (;;) {
        const deleted = await sql.begin(async (tx) => {
          await scopeToMovingTenant(tx, tenant.id);
          // = ANY(ARRAY(…)), not IN (subquery): the planner turned that into a semi-join that read the
          // tenant's every row (and every dead one left by earlier batches) per batch; seen at 50 s.
          return tx`
            DELETE FROM ${name} WHERE tenant_id = ${tenant.id}
              AND ${key} = ANY(ARRAY(SELECT ${key} FROM ${name} WHERE tenant_id = ${tenant.id} LIMIT ${DELETE_BATCH}))`;
        });
        if (deleted.count < DELETE_BATCH) break;
      }
    }
  }
  await withLockRetry(sql, retry, async (tx) => {
    // The fence stays for good where nothing else would stop a stale writer: the catalog's server keeps
    // the tenant's catalog row, which satisfies the shared tables' foreign key, so an instance still
    // routing there could insert rows nobody would ever read. Elsewhere the hosted row goes (the key
    // then refuses such rows), and a schema tenant's tables go with its schema.
    if (!(source.hostsCatalog && inSharedTables(tenant))) await endCaptureIn(tx, tenant.id, tables);
    await tenant.model.deprovision(tx, tenant.role, tenant.placement.dataName);
    if (!source.hostsCatalog) await unhostTenant(tx, tenant.id);
  });
}
