// The mover's view of one tenant's rows: the shared tables are forced under row-level security, and
// sql/014's policy lets their owner reach the rows of the tenant named in tenantgate.move_tenant, for the
// transaction that sets it. Schema tenants' tables are not forced; the setting is harmless there.
import type { TransactionSql } from 'postgres';

export async function scopeToMovingTenant(tx: TransactionSql, tenantId: string): Promise<void> {
  await tx`SELECT set_config('tenantgate.move_tenant', ${tenantId}, true)`;
}
