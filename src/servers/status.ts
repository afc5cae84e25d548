// A server as the admin API shows it: its catalog row (never its password), its tenant count and budget,
// whether it answers now, and this instance's pools on it if they are built.
import type { ServerInfo } from './catalog.js';
import type { ServerConnections } from './connections.js';
import { probeServer, type ServerHealth } from './health.js';
import type { PoolSets } from './pool-sets.js';

export interface ServerPoolNumbers {
  readonly shared_in_use: number;
  readonly dedicated_open: number;
  readonly waiting: number;
  readonly budget_reserved: number;
  readonly budget_total: number;
}

export interface ServerStatus extends ServerInfo {
  readonly health: ServerHealth;
  /** null until a request for one of its tenants built them on this instance. */
  readonly pools: ServerPoolNumbers | null;
}

export interface ServerStatusDeps {
  readonly servers: ServerConnections;
  /** This instance's pools (none in the CLI). */
  readonly poolSets?: PoolSets;
  /** How long a server may take to answer `SELECT 1` before it is shown as down. */
  readonly probeTimeoutMs: number;
}

export function serverStatus(deps: ServerStatusDeps): (info: ServerInfo) => Promise<ServerStatus> {
  return async (info) => {
    const health = await probeServer(() => deps.servers.admin(info.name), deps.probeTimeoutMs);
    const stats = deps.poolSets?.get(info.name)?.stats();
    const pools =
      stats === undefined
        ? null
        : {
            shared_in_use: stats.sharedInUse,
            dedicated_open: stats.dedicatedOpen,
            waiting: stats.waiting,
            budget_reserved: stats.budgetReserved,
            budget_total: stats.budgetTotal,
          };
    return { ...info, health, pools };
  };
}
