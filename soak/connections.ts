// Samples the gateway's server connections from pg_stat_activity (every 200 ms, on the soak's superuser
// connection): all of them count against MAX_CONNECTIONS_TOTAL (application_name 'tenantgate-catalog':
// the catalog pool, CATALOG 3 − 1 = 2; 'tenantgate-listener': the change listener, the third catalog
// slot; 'tenantgate-shared': the shared pool; 'tenantgate': the dedicated pools, logged in as tenant
// roles). Backends the soak terminated itself and backends of a gateway it killed are not the running
// gateway's any more (they linger until PostgreSQL notices) and are left out, by pid and by start time.
// The tenant roles seen on dedicated connections tell which tenants were promoted.
import type { Sql } from 'postgres';
import { gatewaySocketPorts } from './sockets.js';

const INTERVAL_MS = 200;

export interface ConnectionFigures {
  /** Most backends of the gateway at once whose socket the gateway still held: judged against the budget. */
  readonly peak: number;
  /** Most gateway backends listed at once, including those whose socket the gateway had already closed. */
  readonly peakListed: number;
  /** Samples in which backends were listed whose socket the gateway had closed (PostgreSQL exiting them). */
  readonly samplesWithExiting: number;
  /** Samples in which pg_stat_activity listed more gateway backends than the budget (exiting ones included). */
  readonly samplesListedOverBudget: number;
  readonly peakAt: number | undefined;
  /** Each application_name at its own peak. */
  readonly peakByApp: Record<string, number>;
  /** Connections by application_name in the sample with the overall peak. */
  readonly atPeak: Record<string, number>;
  readonly samples: number;
  /** Samples that failed (PostgreSQL down). */
  readonly missed: number;
  /** Lingering backends left out: terminated by the soak, or of a killed gateway. */
  readonly leftOut: number;
}

export interface ConnectionSampler {
  /** Leaves these backends out from now on (they were just terminated). */
  exclude(pids: Iterable<number>): void;
  /** Leaves out every backend started before `at` (the gateway was killed then). */
  excludeStartedBefore(at: number): void;
  /** Tenant roles seen on dedicated connections so far. */
  dedicatedRoles(): ReadonlySet<string>;
  figures(): ConnectionFigures;
  stop(): Promise<ConnectionFigures>;
}

export function sampleConnections(sql: Sql, gatewayPid: () => number | undefined, postgresPort: number, budget: number): ConnectionSampler {
  const excluded = new Set<number>();
  let startedAfter = 0;
  const roles = new Set<string>();
  const peakByApp: Record<string, number> = {};
  let atPeak: Record<string, number> = {};
  let peak = 0;
  let peakListed = 0;
  let samplesWithExiting = 0;
  let samplesListedOverBudget = 0;
  let peakAt: number | undefined;
  let samples = 0;
  let missed = 0;
  const leftOutPids = new Set<number>();
  let busy = false;

  const tick = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      // A listed backend counts as held when its client socket is still ESTABLISHED in the gateway
      // just after the listing: then the gateway held it at the moment of the listing, so every backend
      // counted was held at one and the same moment (a sound lower bound; one closed in between is
      // missed). Listed backends whose socket the gateway had already closed are still exiting.
      const pid = gatewayPid();
      const rows = await sql<{ pid: number; app: string; role: string; started: Date; port: number | null }[]>`
        SELECT pid, application_name AS app, usename AS role, backend_start AS started, client_port AS port
        FROM pg_stat_activity WHERE application_name LIKE 'tenantgate%' AND pid <> pg_backend_pid()`;
      const at = Date.now();
      const held = pid === undefined ? undefined : await gatewaySocketPorts(pid, postgresPort);
      const byApp: Record<string, number> = {};
      let total = 0;
      let listed = 0;
      let exiting = 0;
      for (const row of rows) {
        if (excluded.has(row.pid) || row.started.getTime() < startedAfter) {
          leftOutPids.add(row.pid);
          continue;
        }
        listed++;
        if (row.app === 'tenantgate') roles.add(row.role);
        if (held !== undefined && row.port !== null && !held.has(row.port)) {
          exiting++;
          continue;
        }
        byApp[row.app] = (byApp[row.app] ?? 0) + 1;
        total++;
      }
      peakListed = Math.max(peakListed, listed);
      if (exiting > 0) samplesWithExiting++;
      if (listed > budget) samplesListedOverBudget++;
      for (const [app, n] of Object.entries(byApp)) peakByApp[app] = Math.max(peakByApp[app] ?? 0, n);
      if (total > peak) {
        peak = total;
        peakAt = at;
        atPeak = byApp;
      }
      samples++;
    } catch {
      missed++;
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), INTERVAL_MS);
  const figures = (): ConnectionFigures => ({
    peak,
    peakListed,
    samplesWithExiting,
    samplesListedOverBudget,
    peakAt,
    peakByApp: { ...peakByApp },
    atPeak: { ...atPeak },
    samples,
    missed,
    leftOut: leftOutPids.size,
  });
  return {
    exclude(pids) {
      for (const pid of pids) excluded.add(pid);
    },
    excludeStartedBefore(at) {
      startedAfter = Math.max(startedAfter, at);
    },
    dedicatedRoles: () => roles,
    figures,
    async stop() {
      clearInterval(timer);
      return figures();
    },
  };
}
