// Samplers that run beside a load run: server connections held by the server under test (from
// pg_stat_activity, on a connection of their own) and the resident memory of its Node process.
import { readFile } from 'node:fs/promises';
import postgres from 'postgres';
import type { ServerKind } from './servers.js';

export interface ConnectionPeaks {
  /** Most connections of the server under test seen at once. */
  readonly peak: number;
  /** Most connections per application_name (catalog, shared, dedicated pools), each at its own peak. */
  readonly peakByApp: Record<string, number>;
  readonly samples: number;
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

/** Samples pg_stat_activity every ~100 ms until stopped; the sampler's own backend is excluded. */
export function sampleConnections(databaseUrl: string, kind: ServerKind): Sampler<ConnectionPeaks> {
  const sql = postgres(databaseUrl, {
    max: 1,
    onnotice: () => {},
    connection: { application_name: 'bench-sampler', statement_timeout: 2000 },
  });
  const belongs = BELONGS[kind];
  const peakByApp: Record<string, number> = {};
  let peak = 0;
  let samples = 0;
  let busy = false;
  const tick = async (): Promise<void> => {
    // A slow sample is skipped rather than queued: samples must not pile up on a loaded server.
    if (busy) return;
    busy = true;
    try {
      // The comment is bench/statements.ts' MARK: this query is the bench's, not the server's.
      const rows = await sql<{ app: string; n: number }[]>`
        SELECT /* bench-own */ application_name AS app, count(*)::int AS n FROM pg_stat_activity
        WHERE pid <> pg_backend_pid() AND (application_name LIKE 'tenantgate%' OR application_name IN ('baseline', 'lean'))
        GROUP BY application_name`;
      let total = 0;
      for (const { app, n } of rows) {
        if (!belongs(app)) continue;
        total += n;
        peakByApp[app] = Math.max(peakByApp[app] ?? 0, n);
      }
      peak = Math.max(peak, total);
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
      await sql.end({ timeout: 2 });
      return { peak, peakByApp, samples };
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
