// Settings for a transaction that creates a tenant's schema or runs a tenant-data migration. On a Citus
// coordinator they make each new tenant schema one colocation group on one node (schema-based
// sharding), let its tables keep their row triggers (run on the node that holds the row), and keep the
// DDL on one connection per node (Citus refuses some DDL after a parallel operation in a transaction).
// Elsewhere they are unknown placeholder settings, set and forgotten with the transaction: harmless.
import type { TransactionSql } from 'postgres';

export async function useCitusDdlSettings(tx: TransactionSql): Promise<void> {
  await tx`SELECT set_config('citus.enable_schema_based_sharding', 'on', true),
                  set_config('citus.enable_unsafe_triggers', 'on', true),
                  set_config('citus.multi_shard_modify_mode', 'sequential', true)`;
}
