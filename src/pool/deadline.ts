// A bound on how long one statement may keep a request: whatever the driver is doing (reconnecting
// after a restart, waiting on a lock), the caller gets 503 database_timeout when it passes.
import { Unavailable } from '../errors.js';

export function withDeadline<T>(work: Promise<T>, deadlineMs: number | undefined): Promise<T> {
  if (deadlineMs === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Unavailable('database_timeout', 'the database did not answer in time; retry shortly', 1)), deadlineMs);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
