// A bound on how long one statement may keep a request: whatever the driver is doing (reconnecting
// after a restart, waiting on a lock), the caller gets 503 database_timeout when it passes, and the
// statement is cancelled (`onMiss`), so it is not left running, or committing, after that answer.
import { Unavailable } from '../errors.js';

// The errors this module raised, to tell a missed deadline from PostgreSQL's own statement_timeout
// (which is answered with the same code but means the connection works).
const missed = new WeakSet<object>();

/** `onMiss` runs when the deadline passes first: it cancels the work (src/db/cancel.ts). */
export function withDeadline<T>(work: Promise<T>, deadlineMs: number | undefined, onMiss?: () => void): Promise<T> {
  if (deadlineMs === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Unavailable('database_timeout', 'the database did not answer in time; retry shortly', 1);
      missed.add(err);
      reject(err);
      onMiss?.();
    }, deadlineMs);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** True when `err` is a deadline this module enforced: the statement may still be stuck on its connection. */
export function isDeadlineMiss(err: unknown): boolean {
  return typeof err === 'object' && err !== null && missed.has(err);
}
