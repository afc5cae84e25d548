// Change capture and the fence on the source server (sql/014): begin records the move and creates the
// tenant's capture triggers; fence turns the record to 'fenced', after which every write of the tenant
// there fails with TG002; end drops the triggers and forgets the move (rolling back, or once the old copy
// is gone).
import type { Sql, TransactionSql } from 'postgres';
import { withLockRetry, type LockRetry } from './lock-retry.js';
import type { MovedTable } from './tables.js';

export type MoveState = 'copying' | 'fenced';

const tableList = (tables: readonly MovedTable[]): string[] => tables.map((t) => t.qualified);

/** The move of the tenant recorded on this server, if any. */
export async function recordedMove(source: Sql, tenantId: string): Promise<MoveState | undefined> {
  const [row] = await source<{ state: MoveState }[]>`SELECT state FROM tenantgate_moves WHERE tenant_id = ${tenantId}`;
  return row?.state;
}

export async function beginCapture(source: Sql, tenantId: string, tables: readonly MovedTable[], retry: LockRetry): Promise<void> {
  await withLockRetry(source, retry, async (tx) => {
    await tx`SELECT tenantgate_move_begin(${tenantId}, ${tableList(tables)}::text[]::regclass[])`;
  });
}

/**
 * One attempt: waits (up to `lockTimeoutMs`) for the tenant's writers in flight, whose capture trigger
 * holds the move row FOR SHARE until they commit. Throws 55P03 when they did not finish in time (the
 * writers held up meanwhile then go on).
 */
export async function fence(source: Sql, tenantId: string, lockTimeoutMs: number): Promise<void> {
  await source.begin(async (tx) => {
    await tx`SELECT set_config('lock_timeout', ${`${lockTimeoutMs}ms`}, true)`;
    const fenced = await tx`
      UPDATE tenantgate_moves SET state = 'fenced', fenced_at = now()
      WHERE tenant_id = ${tenantId} AND state = 'copying' RETURNING 1`;
    if (fenced.length === 0) throw new Error('the move record disappeared from the source before the fence');
  });
}

/** Drops the capture triggers and the move record, in the caller's transaction. */
export async function endCaptureIn(tx: TransactionSql, tenantId: string, tables: readonly MovedTable[]): Promise<void> {
  await tx`SELECT tenantgate_move_end(${tenantId}, ${tableList(tables)}::text[]::regclass[])`;
}

export async function endCapture(source: Sql, tenantId: string, tables: readonly MovedTable[], retry: LockRetry): Promise<void> {
  await withLockRetry(source, retry, (tx) => endCaptureIn(tx, tenantId, tables));
}
