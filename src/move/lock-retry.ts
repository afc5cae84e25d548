// DDL on a shared table (CREATE/DROP TRIGGER) queues behind every transaction using the table and, while
// it waits, holds up every later one: every tenant on the server pauses. So it runs under a short
// lock_timeout and, when the lock is not had in time, gives way and tries again a little later.
import type { Sql, TransactionSql } from 'postgres';

/** lock_not_available: lock_timeout expired. */
export const LOCK_NOT_AVAILABLE = '55P03';

export interface LockRetry {
  /** lock_timeout of each attempt. */
  readonly lockTimeoutMs: number;
  readonly attempts: number;
  /** Pause after a failed attempt, doubled each time (with jitter). */
  readonly backoffMs: number;
}

export const DEFAULT_LOCK_RETRY: LockRetry = { lockTimeoutMs: 200, attempts: 30, backoffMs: 50 };

export function isLockTimeout(err: unknown): boolean {
  return (err as { code?: unknown }).code === LOCK_NOT_AVAILABLE;
}

/**
 * Short attempts first. Autovacuum, which holds a lock every such DDL waits for, gives way only to a
 * request that has waited deadlock_timeout (1 s by default): a busy table's vacuum would outlast any
 * number of short attempts (seen: a removal retried for 50 s). So from this attempt on, each waits
 * deadlock_timeout plus the short timeout.
 */
const LONG_FROM_ATTEMPT = 4;

export async function withLockRetry<T>(sql: Sql, retry: LockRetry, work: (tx: TransactionSql) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      // Boxed: begin() unwraps an array result's promises, which the generic T cannot express.
      const { value } = await sql.begin(async (tx) => {
        if (attempt < LONG_FROM_ATTEMPT) {
          await tx`SELECT set_config('lock_timeout', ${`${retry.lockTimeoutMs}ms`}, true)`;
        } else {
          await tx`SELECT set_config('lock_timeout',
                     (extract(epoch FROM current_setting('deadlock_timeout')::interval) * 1000 + ${retry.lockTimeoutMs})::int || 'ms', true)`;
        }
        return { value: await work(tx) };
      });
      return value;
    } catch (err) {
      if (!isLockTimeout(err) || attempt >= retry.attempts) throw err;
      const pause = Math.min(2_000, retry.backoffMs * 2 ** (attempt - 1));
      await new Promise((resolve) => setTimeout(resolve, pause / 2 + Math.random() * (pause / 2)));
    }
  }
}
