// Whether a server answers right now: `SELECT 1` on its owner connection, given up (and cancelled) after
// a short time, so a server that is down or blackholed makes a listing of servers slower by at most that.
import type { Sql } from 'postgres';

export type ServerHealth = 'up' | 'down';

export async function probeServer(admin: () => Promise<Sql>, timeoutMs: number): Promise<ServerHealth> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const query = (await admin())`SELECT 1`;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // The connect may go on until CONNECT_TIMEOUT: cancel the query so it does not run later.
        void query.cancel();
        reject(new Error('probe timed out'));
      }, timeoutMs);
    });
    await Promise.race([query, timeout]);
    return 'up';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}
