// The background timer that closes idle tenant pools. Unref'd so it never keeps the process alive;
// stop() is part of shutdown.
export interface Sweeper {
  stop(): void;
}

export function startSweeper(sweep: () => void, intervalMs: number): Sweeper {
  const timer = setInterval(sweep, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** Sweep often enough that a pool outlives its idle timeout by at most half of it (10 s at most). */
export function sweepIntervalMs(idleTimeoutMs: number): number {
  return Math.max(100, Math.min(idleTimeoutMs / 2, 10_000));
}
