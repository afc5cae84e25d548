// Samplers that run beside a load run: server connections held by the server under test (from
// pg_stat_activity, on a connection of their own) and the resident memory of its Node process.
import { readFile } from 'node:fs/promises';
import postgres from 'postgres';
import type { ServerKind } from './servers.js';

export interface ServerConnectionPeaks {
  /** Most connections of the server under test seen at once on this PostgreSQL server. */
  readonly peak: number;
  /** Most connections per application_name (catalog, shared, dedicated pools), each at its own peak. */
  readonly peakByApp: Record<string, number>;
}

export interface ConnectionPeaks extends ServerConnectionPeaks {
  /** With several servers: the peak of their sum (samples taken together), and each one's own figures. */
  readonly byServer: Record<string, ServerConnectionPeaks>;
  readonly samples: number;
}

interface Peaks {
  peak: number;
  peakByApp: Record<string, number>;
}

/** A PostgreSQL server to sample, by its catalog name (`main`, `s2`). */
export interface SampledServer {
  readonly name: string;
  /** Superuser URL. */
  readonly url: string;
}

export interface Sampler<T> {
  /** Stops sampling and returns the figures; later calls return the same figures. */
  stop(): Promise<T>;
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => (result ??= fn());
}

const CONNECTION_INTERVAL_MS = 100;
const RSS_INTERVAL_MS = 250;

// The gateway names every pool 'tenantgate…' (catalog, shared, dedicated); the references say 'baseline'
// and 'lean'.
const BELONGS: Record<ServerKind, (app: string) => boolean> = {
  gateway: (app) => app.startsWith('tenantgate'),
  baseline: (app) => app === 'baseline',
  lean: (app) => app === 'lean',
};

/**
 * Samples pg_stat_activity of every server every ~100 ms until stopped (all servers at once, so their
 * sum is of one moment, give or take a round trip); the samplers' own backends are excluded.
 */
export function sampleConnections(servers: readonly SampledServer[], kind: ServerKind): Sampler<ConnectionPeaks> {
  const connections = servers.map(({ name, url }) => ({
    name,
    sql: postgres(url, {
      max: 1,
      onnotice: () => {},
      connection: { application_name: 'bench-sampler', statement_timeout: 2000 },
    }),
    peaks: { peak: 0, peakByApp: {} } as Peaks,
  }));
  const belongs = BELONGS[kind];
  const total: Peaks = { peak: 0, peakByApp: {} };
  let samples = 0;
  let busy = false;
  const count = async (sql: postgres.Sql): Promise<Map<string, number>> => {
    // The comment is bench/statements.ts' MARK: this query is the bench's, not the server's.
    const rows = await sql<{ app: string; n: number }[]>`
      SELECT /* bench-own */ application_name AS app, count(*)::int AS n FROM pg_stat_activity
      WHERE pid <> pg_backend_pid() AND (application_name LIKE 'tenantgate%' OR application_name IN ('baseline', 'lean'))
      GROUP BY application_name`;
    return new Map(rows.filter(({ app }) => belongs(app)).map(({ app, n }) => [app, n]));
  };
  const record = (peaks: Peaks, apps: Map<string, number>): void => {
    let sum = 0;
    for (const [app, n] of apps) {
      sum += n;
      peaks.peakByApp[app] = Math.max(peaks.peakByApp[app] ?? 0, n);
    }
    peaks.peak = Math.max(peaks.peak, sum);
  };
  const tick = async (): Promise<void> => {
    // A slow sample is skipped rather than queued: samples must not pile up on a loaded server.
    if (busy) return;
    busy = true;
    try {
      const counts = await Promise.all(connections.map(({ sql }) => count(sql)));
      const all = new Map<string, number>();
      counts.forEach((apps, i) => {
        const server = connections[i];
        if (server) record(server.peaks, apps);
        for (const [app, n] of apps) all.set(app, (all.get(app) ?? 0) + n);
      });
      record(total, all);
      samples++;
    } catch {
      // A missed sample (statement timeout under load) only lowers the sample count.
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), CONNECTION_INTERVAL_MS);
  return {
    stop: once(async () => {
      clearInterval(timer);
      await tick();
      await Promise.all(connections.map(({ sql }) => sql.end({ timeout: 2 })));
      return { ...total, byServer: Object.fromEntries(connections.map(({ name, peaks }) => [name, peaks])), samples };
    }),
  };
}

export interface MemoryFigures {
  readonly peakMb: number;
  readonly samples: number;
}

export interface RssSampler extends Sampler<MemoryFigures> {
  /** Reads VmRSS now (MB), e.g. right after the measured load. */
  current(): Promise<number | undefined>;
}

/** Samples VmRSS of `pid` (the Node process itself, not a wrapper) every ~250 ms. */
export function sampleRss(pid: number): RssSampler {
  let peakKb = 0;
  let samples = 0;
  const read = async (): Promise<number | undefined> => {
    const kb = await readRssKb(pid);
    if (kb !== undefined) {
      peakKb = Math.max(peakKb, kb);
      samples++;
    }
    return kb;
  };
  const timer = setInterval(() => void read(), RSS_INTERVAL_MS);
  return {
    async current() {
      const kb = await read();
      return kb === undefined ? undefined : toMb(kb);
    },
    stop: once(async () => {
      clearInterval(timer);
      await read();
      return { peakMb: toMb(peakKb), samples };
    }),
  };
}

/** The process's resident set in kB, from /proc; undefined once it has exited. */
export async function readRssKb(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined; // the process has exited
  }
}

function toMb(kb: number): number {
  return Math.round((kb / 1024) * 10) / 10;
}
