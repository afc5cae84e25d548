// A real 3-node Citus cluster of a test file's own (coordinator + 2 workers on loopback, PostgreSQL 15
// with Citus 13.2), made by scripts/citus-cluster.sh (a copy of ../shared/citus/cluster.sh) under a
// temporary directory on free ports, password authentication on for every role but the local
// superuser's socket. Citus is in neither Debian nor npm: `citusMissing()` says how to install it, and
// the suites skip with that message unless REQUIRE_CITUS is set (.ci/run), where they fail instead.
// No vitest hooks here.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres, { type Sql } from 'postgres';
import type { TestDatabase } from './database.js';
import { freePort } from './ports.js';
import { REPO_ROOT } from './processes.js';

const run = promisify(execFile);
const SCRIPT = join(REPO_ROOT, 'scripts/citus-cluster.sh');
const PG15 = '/usr/lib/postgresql/15/bin';

/** Why the Citus suites cannot run here, or undefined when they can. */
export function citusMissing(): string | undefined {
  if (existsSync(`${PG15}/postgres`) && existsSync('/usr/lib/postgresql/15/lib/citus.so')) {
    if (process.getuid?.() !== 0) return 'Citus clusters are started as root (runuser -u postgres): run the Citus suites as root';
    return undefined;
  }
  return 'Citus is not installed: run `sudo ../shared/citus/install.sh` (PostgreSQL 15 from apt + Citus 13.2.2), then the Citus suites run';
}

/** Whether to skip the Citus suites here (and why); with REQUIRE_CITUS set a missing Citus is an error. */
export function skipWithoutCitus(): boolean {
  const missing = citusMissing();
  if (missing === undefined) return false;
  if (process.env.REQUIRE_CITUS) throw new Error(`REQUIRE_CITUS is set but ${missing}`);
  console.warn(`Citus suites skipped: ${missing}`);
  return true;
}

export interface CitusCluster {
  readonly coordinatorPort: number;
  readonly workerPorts: readonly number[];
  /** The coordinator's superuser URL, password included (a Citus server needs a superuser: src/citus/). */
  readonly url: string;
  /** Superuser connection to the coordinator's database. */
  readonly coordinator: Sql;
  /** Superuser connection to a worker's database. */
  worker(port: number): Sql;
  /** The cluster as a test database: the gateway's catalog on the coordinator. */
  asDatabase(): TestDatabase;
  /** Stops one node (fast shutdown), and starts it again. */
  stopNode(port: number): Promise<void>;
  startNode(port: number): Promise<void>;
  destroy(): Promise<void>;
}

export async function startCitusCluster(): Promise<CitusCluster> {
  const base = await mkdtemp(join(tmpdir(), 'tenantgate-citus-'));
  const coordinatorPort = await freePort();
  const workerPorts = [await freePort(), await freePort()];
  const password = randomBytes(18).toString('base64url');
  const env = {
    ...process.env,
    BASE: base,
    COORD_PORT: String(coordinatorPort),
    WORKER_PORTS: workerPorts.join(' '),
    NODE_AUTH: 'pgpass',
    SUPERUSER_PASSWORD: password,
  };
  const script = (...args: string[]): Promise<unknown> => run('bash', [SCRIPT, ...args], { env, timeout: 120_000 });
  await script('start');
  const connect = (port: number, max = 3): Sql =>
    postgres({
      host: '127.0.0.1',
      port,
      database: 'postgres',
      username: 'postgres',
      password,
      max,
      onnotice: () => {},
      connect_timeout: 5,
      connection: { TimeZone: 'UTC' },
    });
  const coordinator = connect(coordinatorPort);
  const workers = new Map(workerPorts.map((p) => [p, connect(p, 2)]));
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${coordinatorPort}/postgres`;
  const pgCtl = async (port: number, action: 'start' | 'stop'): Promise<void> => {
    const args = action === 'stop' ? ['-m', 'fast'] : ['-l', join(base, `${port}.log`)];
    await run(
      'runuser',
      ['-u', 'postgres', '--', 'env', `PGPASSFILE=${base}/pgpass`, `${PG15}/pg_ctl`, '-D', join(base, String(port)), '-w', '-s', ...args, action],
      {
        timeout: 60_000,
      },
    );
  };
  return {
    coordinatorPort,
    workerPorts,
    url,
    coordinator,
    worker: (port) => {
      const sql = workers.get(port);
      if (!sql) throw new Error(`no worker on port ${port}`);
      return sql;
    },
    asDatabase: () => ({ url, admin: coordinator, drop: async () => {} }),
    stopNode: (port) => pgCtl(port, 'stop'),
    startNode: (port) => pgCtl(port, 'start'),
    async destroy() {
      await Promise.all([coordinator.end({ timeout: 5 }), ...[...workers.values()].map((w) => w.end({ timeout: 5 }))]);
      await script('destroy');
    },
  };
}
