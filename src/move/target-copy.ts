// The tenant's copy on the target: made before the data is copied (its role with the same name and a
// verifier of the same password, its schema under the schema model, its hosted row), and removed again
// when a move fails before the switch. Anything of the tenant on the target before a move is a leftover
// of an earlier attempt (the tenant is served from the source), so preparing removes it first.
import { scramSha256VerifierAsync } from '../crypto/scram.js';
import { hostTenant, unhostTenant } from '../servers/hosted.js';
import { inSharedTables, type MoveServer, type MovingTenant } from './parties.js';
import { scopeToMovingTenant } from './scope.js';
import type { MovedTable } from './tables.js';

/** Creates the tenant's role, schema and hosted row on the target; returns the tenant-data version reached. */
export async function prepareTarget(target: MoveServer, tenant: MovingTenant, tables: readonly MovedTable[]): Promise<number | null> {
  await removeTargetCopy(target, tenant, tables);
  const verifier = await scramSha256VerifierAsync(tenant.password);
  const { placement } = tenant;
  return target.sql.begin(async (tx) => {
    const version = await tenant.model.provision(tx, [{ role: tenant.role, verifier, dataName: placement.dataName }]);
    if (!target.hostsCatalog) {
      await hostTenant(tx, { id: tenant.id, role: tenant.role, model: placement.model, dataName: placement.dataName, dataVersion: version });
    }
    return version;
  });
}

export async function removeTargetCopy(target: MoveServer, tenant: MovingTenant, tables: readonly MovedTable[]): Promise<void> {
  await target.sql.begin(async (tx) => {
    if (inSharedTables(tenant)) {
      await scopeToMovingTenant(tx, tenant.id);
      for (const t of tables) await tx`DELETE FROM ${tx.unsafe(t.qualified)} WHERE tenant_id = ${tenant.id}`;
    }
    // Both models' deprovisioning is idempotent (DROP ... IF EXISTS).
    await tenant.model.deprovision(tx, tenant.role, tenant.placement.dataName);
    if (!target.hostsCatalog) await unhostTenant(tx, tenant.id);
  });
}
