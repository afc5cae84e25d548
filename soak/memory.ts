// Samples the gateway's resident memory (VmRSS of the child Node process, every 500 ms) per gateway
// generation, and judges each generation long enough to judge: after warm-up (the first quarter of its
// life) the median of its last quarter may not exceed the median of its second quarter by more than
// RSS_GROWTH_LIMIT (relative) and RSS_GROWTH_FLOOR_MB (absolute) together. A restart starts a new
// baseline. Why these figures: without any leak the quarter medians of a generation moved by up to ±12%
// in our runs (V8's heap settling, GC timing, bursts of 503s), so 15% and 8 MB sit just above that
// noise. The middles of Q2 and Q4 of a 140 s generation (a 10-minute soak) lie 70 s apart: at ~300
// req/s a leak of 1.5 KB per request (~32 MB, ~20% of the ~150 MB gateway) fails the check; slower
// leaks need a longer soak. A generation shorter than RSS_MIN_JUDGED_MS is held only to an absolute
// ceiling: a 1-minute soak's first generation (~46 s) grew by up to 30% between its quarters without
// any leak (V8's old space still growing to its first limits), while the same code stayed flat over
// the 140 s generations of 10-minute soaks.
import { median } from './time.js';
import { readRssKb } from '../bench/sample.js';

const INTERVAL_MS = 500;
export const RSS_GROWTH_LIMIT = 0.15;
export const RSS_GROWTH_FLOOR_MB = 8;
/** Generations shorter than this are not judged by growth: their quarters are too short to mean anything. */
export const RSS_MIN_JUDGED_MS = 100_000;
/** What any generation may reach: about twice the gateway's peak in every soak so far (~200 MB). */
export const RSS_CEILING_MB = 400;

export interface GenerationMemory {
  readonly generation: number;
  readonly durationMs: number;
  readonly samples: number;
  readonly peakMb: number;
  readonly q2MedianMb: number | undefined;
  readonly q4MedianMb: number | undefined;
  /** (Q4 − Q2) / Q2, when judged. */
  readonly growth: number | undefined;
  readonly judged: boolean;
  readonly flat: boolean;
}

export interface MemorySampler {
  stop(): Promise<GenerationMemory[]>;
}

export function sampleMemory(current: () => { pid: number | undefined; generation: number }): MemorySampler {
  const samples = new Map<number, { at: number; mb: number }[]>();
  const tick = async (): Promise<void> => {
    const { pid, generation } = current();
    if (pid === undefined) return;
    const kb = await readRssKb(pid);
    // The pid may have died and the generation moved on meanwhile.
    if (kb === undefined || current().generation !== generation) return;
    let list = samples.get(generation);
    if (!list) samples.set(generation, (list = []));
    list.push({ at: Date.now(), mb: kb / 1024 });
  };
  const timer = setInterval(() => void tick(), INTERVAL_MS);
  return {
    async stop() {
      clearInterval(timer);
      return [...samples.entries()].map(([generation, list]) => judge(generation, list));
    },
  };
}

function judge(generation: number, list: { at: number; mb: number }[]): GenerationMemory {
  const first = list[0]?.at ?? 0;
  const durationMs = (list[list.length - 1]?.at ?? first) - first;
  const quarter = (q: number): number[] =>
    list.filter((s) => s.at >= first + (durationMs * (q - 1)) / 4 && s.at <= first + (durationMs * q) / 4).map((s) => s.mb);
  const judged = durationMs >= RSS_MIN_JUDGED_MS;
  const q2 = median(quarter(2));
  const q4 = median(quarter(4));
  const growth = q2 !== undefined && q4 !== undefined ? (q4 - q2) / q2 : undefined;
  const peakMb = Math.max(0, ...list.map((s) => s.mb));
  const grew = judged && q2 !== undefined && q4 !== undefined && q4 - q2 > RSS_GROWTH_FLOOR_MB && (growth ?? 0) > RSS_GROWTH_LIMIT;
  const flat = !grew && peakMb <= RSS_CEILING_MB;
  return {
    generation,
    durationMs,
    samples: list.length,
    peakMb: round(peakMb),
    q2MedianMb: q2 === undefined ? undefined : round(q2),
    q4MedianMb: q4 === undefined ? undefined : round(q4),
    growth: growth === undefined ? undefined : Math.round(growth * 1000) / 1000,
    judged,
    flat,
  };
}

function round(mb: number): number {
  return Math.round(mb * 10) / 10;
}
