// What a move that failed leaves behind, and what it answers. Before the switch: the capture ended on
// the source (unfenced: the tenant writes there again) and the partial copy removed from the target, or
// left for the next attempt to remove first when the target cannot be reached. The answer carries the
// failure's code and message only.
import { Conflict, Unavailable, type AppError } from '../errors.js';
import { endCapture } from './capture.js';
import type { LockRetry } from './lock-retry.js';
import type { MoveServer, MovingTenant } from './parties.js';
import type { MovedTable } from './tables.js';
import { removeTargetCopy } from './target-copy.js';

// A source that is briefly unreachable still gets unfenced (the tenant cannot write there until it is),
// and its old copy removed after a switch.
const ATTEMPTS = 5;
const PAUSE_MS = 1_000;

export async function withRetries(work: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= ATTEMPTS) throw err;
      await new Promise((r) => setTimeout(r, PAUSE_MS));
    }
  }
}

export async function rollBack(
  source: MoveServer,
  target: MoveServer,
  tenant: MovingTenant,
  tables: readonly MovedTable[],
  lockRetry: LockRetry,
): Promise<void> {
  await withRetries(() => endCapture(source.sql, tenant.id, tables, lockRetry));
  await removeTargetCopy(target, tenant, tables).catch(() => undefined);
}

/** Conflicts (refusals before anything changed) as they are; anything else as a retryable failure. */
export function moveFailed(err: unknown, rollbackError: unknown): AppError {
  if (err instanceof Conflict && rollbackError === undefined) return err;
  const failed =
    rollbackError === undefined
      ? new Unavailable('tenant_move_failed', 'the move failed and was rolled back; the tenant is served from its source; retry the move', 5)
      : new Unavailable(
          'tenant_move_failed',
          'the move failed and its rollback on the source did not finish: the tenant may not accept writes until the move is retried',
          5,
        );
  (failed as Error).cause = rollbackError === undefined ? summary(err) : new AggregateError([summary(err), summary(rollbackError)]);
  return failed;
}

/**
 * An error's code and message only: a driver error carries its statement's parameters (pages of the
 * tenant's rows, a role's password verifier), which must not reach a log with the cause.
 */
export function summary(err: unknown): Error {
  const e = new Error(err instanceof Error ? err.message : String(err));
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? Object.assign(e, { code }) : e;
}
