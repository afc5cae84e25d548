// What a scenario must reach: a throughput ratio against a reference server, or a latency bound for the
// gateway. Kept apart from the scenarios so the report can label and check them in one way.
import type { LoadFigures } from './load.js';

export type Target =
  /** Gateway req/s ÷ the reference's req/s at least `min`. */
  | { readonly kind: 'ratio'; readonly against: 'baseline' | 'lean'; readonly min: number }
  /** Gateway median latency at most `maxMs`. */
  | { readonly kind: 'p50'; readonly maxMs: number };

export type TargetResult = Target & {
  /** The measured figure the target is about (a ratio, or milliseconds). */
  readonly value: number;
  readonly met: boolean;
};

export function ratioTarget(min: number, against: 'baseline' | 'lean' = 'baseline'): Target {
  return { kind: 'ratio', against, min };
}

export function p50Target(maxMs: number): Target {
  return { kind: 'p50', maxMs };
}

/** "≥ 0.95", "÷ lean ≥ 0.8", "gw p50 ≤ 10 ms". */
export function targetLabel(target: Target): string {
  if (target.kind === 'p50') return `gw p50 ≤ ${target.maxMs} ms`;
  return target.against === 'baseline' ? `≥ ${target.min}` : `÷ ${target.against} ≥ ${target.min}`;
}

export interface MeasuredLoads {
  readonly gateway: LoadFigures;
  readonly baseline: LoadFigures;
  readonly lean: LoadFigures | undefined;
}

/** Gateway req/s ÷ the reference's, rounded to three places; 0 when the reference served nothing. */
export function throughputRatio(gateway: LoadFigures, reference: LoadFigures): number {
  const ratio = reference.requestsPerSecond > 0 ? gateway.requestsPerSecond / reference.requestsPerSecond : 0;
  return Math.round(ratio * 1000) / 1000;
}

export function evaluateTarget(target: Target, loads: MeasuredLoads): TargetResult {
  if (target.kind === 'p50') {
    const value = loads.gateway.latencyMs.p50;
    return { ...target, value, met: value <= target.maxMs };
  }
  const reference = target.against === 'baseline' ? loads.baseline : loads.lean;
  if (!reference) throw new Error(`a target against the ${target.against} server needs its run`);
  const value = throughputRatio(loads.gateway, reference);
  return { ...target, value, met: value >= target.min };
}
