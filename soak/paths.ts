// Reads the gateway's /metrics every few seconds for the requests served by path (dedicated pools vs the
// shared pool). Counters restart with each gateway generation, so the last reading of each is kept and
// the generations are added up.
import { delay } from './time.js';

const INTERVAL_MS = 3000;
const BY_PATH = /^tenantgate_requests_by_path_total\{([^}]*)\}\s+(\S+)/gm;

export interface PathCounts {
  dedicated: number;
  shared: number;
}

export interface PathSampler {
  /** Takes a reading now (e.g. before the gateway is killed). */
  read(): Promise<void>;
  stop(): Promise<PathCounts>;
}

export function samplePaths(baseUrl: string, generation: () => number): PathSampler {
  const last = new Map<number, PathCounts>();
  let stopped = false;
  const read = async (): Promise<void> => {
    const gen = generation();
    try {
      const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(2000) });
      const text = await res.text();
      if (!res.ok || generation() !== gen) return;
      const counts = { dedicated: 0, shared: 0 };
      for (const match of text.matchAll(BY_PATH)) {
        const path = /(?:^|,)path="(\w+)"/.exec(match[1] ?? '')?.[1];
        if (path === 'dedicated' || path === 'shared') counts[path] += Number(match[2]);
      }
      last.set(gen, counts);
    } catch {
      // Down or busy: the next reading will do.
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await read();
      await delay(INTERVAL_MS);
    }
  })();
  return {
    read,
    async stop() {
      stopped = true;
      await loop;
      await read();
      const total = { dedicated: 0, shared: 0 };
      for (const c of last.values()) {
        total.dedicated += c.dedicated;
        total.shared += c.shared;
      }
      return total;
    },
  };
}
