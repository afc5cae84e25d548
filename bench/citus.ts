// The Citus scenarios' database: a 3-node Citus cluster of the bench's own (coordinator 127.0.0.1:54341,
// workers 54342 and 54343; data in bench/.data/citus, kept across runs like the embedded server's),
// started by scripts/citus-cluster.sh, with pg_stat_statements preloaded on every node. The gateway's
// catalog lives on the coordinator, so its migrations (sql/016) distribute `users` by tenant_id there;
// the gateway and the baseline both talk to the coordinator. Citus is in neither Debian nor npm: without
// it (or without root, which the script needs to run the servers as `postgres`) the Citus scenarios are
// skipped with the install command.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import postgres, { type Sql } from 'postgres';
import { loadOrCreateDevSecrets } from '../src/db/dev-secrets.js';
import { BENCH_CONNECTION, BENCH_DATA_DIR, type BenchDatabase } from './database.js';
import { REPO_ROOT, type ServerKind } from './servers.js';
import type { Sampler } from './sample.js';

const run = promisify(execFile);
const SCRIPT = resolve(REPO_ROOT, 'scripts/citus-cluster.sh');
const PG15 = '/usr/lib/postgresql/15/bin';
// Fixed ports: pg_dist_node records the workers by host and port, so a kept cluster must come back on the
// same ones. Beside the embedded servers' 54339 and 54340.
const COORDINATOR_PORT = 54341;
const WORKER_PORTS = [54342, 54343] as const;
const HOST = '127.0.0.1';
const SCRIPT_TIMEOUT_MS = 180_000;

/** Why the Citus scenarios cannot run here, or undefined when they can. */
export function citusMissing(): string | undefined {
  if (!existsSync(`${PG15}/postgres`) || !existsSync('/usr/lib/postgresql/15/lib/citus.so')) {
    return 'Citus is not installed: run `sudo ../shared/citus/install.sh` (PostgreSQL 15 from apt + Citus 13.2.2)';
  }
  if (process.getuid?.() !== 0) return 'the Citus cluster is started as root (runuser -u postgres): run the bench as root';
  return undefined;
}

export interface CitusNode {
  /** host:port, as pg_dist_node lists it. */
  readonly name: string;
  /** Superuser URL. */
  readonly url: string;
}

export interface CitusBench {
  /** The coordinator as the bench's database (catalog, provisioning, statistics). */
  readonly db: BenchDatabase;
  readonly coordinator: CitusNode;
  readonly workers: readonly CitusNode[];
  /**
   * The nodes' postmaster pids: pg_ctl detaches them from the bench's process tree, so the foreign-CPU
   * figure (bench/foreign-cpu.ts) is told they are the bench's own.
   */
  readonly serverPids: readonly number[];
}

/** Starts (the first time: creates) the bench's cluster; `db.stop()` stops it and keeps its data. */
export async function openCitusBench(log: (line: string) => void): Promise<CitusBench> {
  const secrets = await loadOrCreateDevSecrets(BENCH_DATA_DIR);
  const base = resolve(BENCH_DATA_DIR, 'citus');
  const env = {
    ...process.env,
    BASE: base,
    COORD_PORT: String(COORDINATOR_PORT),
    WORKER_PORTS: WORKER_PORTS.join(' '),
    NODE_AUTH: 'pgpass',
    SUPERUSER_PASSWORD: secrets.postgresPassword,
  };
  const script = async (action: 'start' | 'stop'): Promise<void> => {
    await run('bash', [SCRIPT, action], { env, timeout: SCRIPT_TIMEOUT_MS });
  };
  const started = Date.now();
  await script('start');
  const url = (port: number): string => `postgres://postgres:${encodeURIComponent(secrets.postgresPassword)}@${HOST}:${port}/postgres`;
  const nodes = [COORDINATOR_PORT, ...WORKER_PORTS];
  // Statement statistics like the embedded server's (bench/statements.ts); a restart the first time only.
  const configured = await Promise.all(nodes.map((port) => configureStatementStats(url(port))));
  if (configured.some(Boolean)) {
    log('citus: pg_stat_statements preloaded on every node (ALTER SYSTEM); restarting the cluster once');
    await script('stop');
    await script('start');
    await Promise.all(nodes.map((port) => configureStatementStats(url(port))));
  }
  log(
    `citus: coordinator ${HOST}:${COORDINATOR_PORT}, workers ${WORKER_PORTS.map((p) => `${HOST}:${p}`).join(', ')}, data in bench/.data/citus (${Date.now() - started} ms)`,
  );
  const sql = postgres(url(COORDINATOR_PORT), { max: 4, ...BENCH_CONNECTION });
  // The first line of postmaster.pid is the postmaster's pid.
  const serverPids = await Promise.all(
    nodes.map(async (port) => Number((await readFile(resolve(base, String(port), 'postmaster.pid'), 'utf8')).split('\n')[0])),
  );
  return {
    serverPids,
    db: {
      url: url(COORDINATOR_PORT),
      sql,
      credentialsKeyHex: secrets.credentialsKeyHex,
      adminJwtSecret: secrets.adminJwtSecret,
      embedded: false,
      async stop() {
        await sql.end({ timeout: 5 });
        await script('stop');
      },
    },
    coordinator: { name: `${HOST}:${COORDINATOR_PORT}`, url: url(COORDINATOR_PORT) },
    workers: WORKER_PORTS.map((port) => ({ name: `${HOST}:${port}`, url: url(port) })),
  };
}

/**
 * True when the library was added (a restart is needed); once it is loaded, turns planning statistics on
 * (a reload). PostgreSQL 15 refuses to set pg_stat_statements' own settings before the library is loaded.
 * pg_stat_statements.max stays at its default: on Citus every tenant is served through the one shared role.
 */
async function configureStatementStats(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ libraries: string; planning: string | null }[]>`
      SELECT current_setting('shared_preload_libraries') AS libraries,
             current_setting('pg_stat_statements.track_planning', true) AS planning`;
    const libraries = (row?.libraries ?? '')
      .split(',')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    if (!libraries.includes('pg_stat_statements')) {
      // Citus must stay first in the list.
      await sql.unsafe(`ALTER SYSTEM SET shared_preload_libraries = ${[...libraries, 'pg_stat_statements'].map((l) => `'${l}'`).join(', ')}`);
      return true;
    }
    if (row?.planning !== 'on') {
      await sql.unsafe('ALTER SYSTEM SET pg_stat_statements.track_planning = on');
      await sql`SELECT pg_reload_conf()`;
    }
    return false;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Worker connections held for the server under test, on one worker. */
export interface WorkerConnectionPeaks {
  /** Most connections opened for the server under test seen at once on this worker. */
  readonly peak: number;
  /** The same per role the coordinator logged in as (the gateway's shared role, the baseline's superuser). */
  readonly peakByRole: Record<string, number>;
  /** Most other client connections at once (Citus' own maintenance, other nodes): not counted above. */
  readonly otherPeak: number;
}

export interface WorkerConnections {
  readonly byWorker: Record<string, WorkerConnectionPeaks>;
  readonly samples: number;
}

// Citus names every connection it opens to another node `citus_internal gpid=<global pid>`, the global pid
// being the opening backend's node id × 10^10 + its pid there.
const GPID = /^citus_internal gpid=(\d+)$/;
const GPID_NODE_FACTOR = 10_000_000_000n;

/**
 * The application name of the coordinator backend a worker connection serves, from the connection's own
 * application name (`citus_internal gpid=…`); undefined for a connection from elsewhere (another node,
 * a client of the worker) or whose backend is gone.
 */
export function workerConnectionOwner(app: string, coordinatorNodeId: bigint, appOfCoordinatorPid: ReadonlyMap<number, string>): string | undefined {
  const match = GPID.exec(app);
  if (!match) return undefined;
  const gpid = BigInt(match[1] as string);
  if (gpid / GPID_NODE_FACTOR !== coordinatorNodeId) return undefined;
  return appOfCoordinatorPid.get(Number(gpid % GPID_NODE_FACTOR));
}

const BELONGS: Record<ServerKind, (app: string) => boolean> = {
  gateway: (app) => app.startsWith('tenantgate'),
  baseline: (app) => app === 'baseline',
  lean: (app) => app === 'lean',
};

/**
 * Samples pg_stat_activity on each worker every ~100 ms and attributes each connection the coordinator
 * opened there to the coordinator backend it serves (by its global pid, against the coordinator's
 * pg_stat_activity of the same moment): connections of a backend of the server under test (application
 * name `tenantgate…`, `baseline`) count for it, every other one (Citus' maintenance) is reported apart.
 */
export function sampleWorkerConnections(coordinator: CitusNode, workers: readonly CitusNode[], kind: ServerKind): Sampler<WorkerConnections> {
  const open = (url: string): Sql => postgres(url, { max: 1, onnotice: () => {}, connection: { application_name: 'bench-sampler', statement_timeout: 2000 } });
  const coordinatorSql = open(coordinator.url);
  const nodes = workers.map((w) => ({ name: w.name, sql: open(w.url), peak: 0, otherPeak: 0, peakByRole: {} as Record<string, number> }));
  const belongs = BELONGS[kind];
  let coordinatorNodeId: bigint | undefined;
  let samples = 0;
  let busy = false;
  const tick = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      if (coordinatorNodeId === undefined) {
        const [row] = await coordinatorSql<{ id: string }[]>`
          SELECT /* bench-own */ nodeid::text AS id FROM pg_dist_node WHERE groupid = 0 LIMIT 1`;
        if (!row) throw new Error('the coordinator is not in pg_dist_node');
        coordinatorNodeId = BigInt(row.id);
      }
      const [apps, ...perWorker] = await Promise.all([
        coordinatorSql<{ pid: number; app: string }[]>`
          SELECT /* bench-own */ pid, application_name AS app FROM pg_stat_activity WHERE backend_type = 'client backend'`,
        ...nodes.map(
          ({ sql }) => sql<{ app: string; role: string }[]>`
          SELECT /* bench-own */ application_name AS app, usename AS role FROM pg_stat_activity
          WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
        ),
      ]);
      const appOf = new Map(apps.map(({ pid, app }) => [pid, app]));
      perWorker.forEach((rows, i) => {
        const node = nodes[i];
        if (!node) return;
        const byRole: Record<string, number> = {};
        let ours = 0;
        let other = 0;
        for (const { app, role } of rows) {
          const owner = coordinatorNodeId === undefined ? undefined : workerConnectionOwner(app, coordinatorNodeId, appOf);
          if (owner !== undefined && belongs(owner)) {
            ours++;
            byRole[role] = (byRole[role] ?? 0) + 1;
          } else other++;
        }
        node.peak = Math.max(node.peak, ours);
        node.otherPeak = Math.max(node.otherPeak, other);
        for (const [role, n] of Object.entries(byRole)) node.peakByRole[role] = Math.max(node.peakByRole[role] ?? 0, n);
      });
      samples++;
    } catch {
      // A missed sample (statement timeout under load) only lowers the sample count.
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), 100);
  let result: Promise<WorkerConnections> | undefined;
  return {
    stop: () =>
      (result ??= (async () => {
        clearInterval(timer);
        await tick();
        await Promise.all([coordinatorSql, ...nodes.map((n) => n.sql)].map((sql) => sql.end({ timeout: 2 })));
        return {
          byWorker: Object.fromEntries(nodes.map(({ name, peak, peakByRole, otherPeak }) => [name, { peak, peakByRole, otherPeak }])),
          samples,
        };
      })()),
  };
}
