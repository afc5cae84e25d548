// Citus: a server whose database has the citus extension is a coordinator (sql/016 has distributed its
// tenant tables). What the gateway does differently there is decided once, when the server's pools are
// built (src/gateway.ts):
// - the shared role's scope must travel as SET LOCAL in an explicit transaction, the only form Citus
//   passes on to the workers (../shared/citus/README.md), so its shared pool runs in transaction form;
// - every tenant is served through that one shared role, never promoted to a pool of its own role:
//   the coordinator opens and caches worker connections per (node, role), so a role per busy tenant
//   would cost every worker connections per tenant; one role keeps them at most one per coordinator
//   backend and worker, bounded by the shared pool and by citus.max_shared_pool_size;
// - the coordinator logs in to the workers as that role, with the password Citus reads from
//   pg_dist_authinfo, written here each time the pools are built (so it follows the stored password).
import type { Sql } from 'postgres';
import type { AuthenticatorLogin } from '../pool/authenticator.js';
import { quoteConninfoValue } from '../db/quote.js';

export interface CitusFacts {
  /** citus.max_shared_pool_size: connections the coordinator opens to one worker, across its backends. */
  readonly maxSharedPoolSize: number;
}

/** The server's Citus facts, or undefined when it is plain PostgreSQL (no citus extension here). */
export async function detectCitus(sql: Sql): Promise<CitusFacts | undefined> {
  const [row] = await sql<{ citus: boolean; pool: string | null; max: string }[]>`
    SELECT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus') AS citus,
           current_setting('citus.max_shared_pool_size', true) AS pool,
           current_setting('max_connections') AS max`;
  if (!row?.citus) return undefined;
  // 0 means "max_connections" (Citus' default); -1 turns the limit off.
  const configured = Number(row.pool ?? 0);
  return { maxSharedPoolSize: configured === 0 ? Number(row.max) : configured };
}

/**
 * Lets the coordinator log in to every worker (node 0: all of them) as the shared role. Needs a
 * superuser: pg_dist_authinfo is Citus' catalog. The password leaves the gateway only into that table.
 */
export async function grantWorkerLogin(sql: Sql, login: AuthenticatorLogin): Promise<void> {
  const authinfo = `password=${quoteConninfoValue(login.password)}`;
  await sql`
    INSERT INTO pg_catalog.pg_dist_authinfo (nodeid, rolename, authinfo) VALUES (0, ${login.username}, ${authinfo})
    ON CONFLICT (nodeid, rolename) DO UPDATE SET authinfo = EXCLUDED.authinfo
    WHERE pg_dist_authinfo.authinfo IS DISTINCT FROM EXCLUDED.authinfo`;
}

/** The connections a gateway may hold to a coordinator: its own limit, within what Citus allows per worker. */
export function citusBudget(requested: number, facts: CitusFacts): number {
  return facts.maxSharedPoolSize > 0 ? Math.min(requested, facts.maxSharedPoolSize) : requested;
}
