// The connections of the bench's reference servers (baseline, lean): the session settings of the
// gateway's tenant pools (src/pool/tenant-pool.ts) with the gateway's default CONNECT_TIMEOUT and
// QUERY_TIMEOUT, so they run the gateway's statements exactly as the gateway does: the same plan cache
// mode (generic plans), time zone and date style; prepared statements, as postgres.js does by default.
import { serve } from '@hono/node-server';
import { connectionOptions, type ConnectionOptions } from '../src/db/connection-options.js';

const CONNECT_TIMEOUT_SECONDS = 5;
const STATEMENT_TIMEOUT_MS = 30_000;

/**
 * Options for one pool of `max` connections as the URL's user, named `applicationName` in pg_stat_activity.
 * `genericPlans: false` on a Citus coordinator, as the gateway does there: a forced generic plan of a
 * distributed statement fails ("could not create distributed plan").
 */
export function referenceConnectionOptions(applicationName: string, max: number, genericPlans = true): ConnectionOptions {
  return connectionOptions({
    max,
    applicationName,
    connectTimeoutSeconds: CONNECT_TIMEOUT_SECONDS,
    statementTimeoutMs: STATEMENT_TIMEOUT_MS,
    genericPlans,
    timestampsAsText: true,
  });
}

/** Serves `fetch` on 127.0.0.1:`port` until SIGINT/SIGTERM, then closes the server and the pool and exits. */
export function serveUntilSignalled(
  fetch: (request: Request) => Response | Promise<Response>,
  port: number,
  sql: { end(options: { timeout: number }): Promise<void> },
): void {
  const server = serve({ fetch, hostname: '127.0.0.1', port });
  const stop = (): void => {
    server.close(() => void sql.end({ timeout: 5 }).finally(() => process.exit(0)));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
