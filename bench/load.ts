// Runs autocannon against a server for a fixed time and reduces its result to the figures the report
// needs, with a tally of non-2xx answers (status and error code) and a few sample bodies.
import autocannon from 'autocannon';

export interface LoadSettings {
  readonly baseUrl: string;
  readonly connections: number;
  readonly durationSeconds: number;
  /** Stop after this many requests instead of after the duration (which then only bounds the run). */
  readonly amount?: number;
  readonly requests: autocannon.Request[];
  /** Aborting stops the run early (SIGINT); the partial result is still returned. */
  readonly signal?: AbortSignal;
}

export interface LoadFigures {
  readonly requestsPerSecond: number;
  readonly completed: number;
  /** Requests sent, including those still in flight when the run stopped (the server completes them too). */
  readonly sent: number;
  readonly durationSeconds: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly average: number; readonly max: number };
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly statusCodes: Record<string, number>;
  /** Non-2xx answers by `error.code` of their body. */
  readonly errorCodes: Record<string, number>;
  readonly errorSamples: readonly { readonly status: number; readonly body: string }[];
}

const REQUEST_TIMEOUT_SECONDS = 10;
const MAX_SAMPLES = 5;
// autocannon stops by itself after the duration; this only guards against it never calling back.
const GRACE_MS = 30_000;

export function runLoad(settings: LoadSettings): Promise<LoadFigures> {
  const tally = createTally();
  const requests = settings.requests.map((r) => ({ ...r, onResponse: tally.onResponse }));
  return new Promise((resolve, reject) => {
    let watchdog: NodeJS.Timeout | undefined;
    const instance = autocannon(
      {
        url: settings.baseUrl,
        connections: settings.connections,
        ...(settings.amount === undefined ? { duration: settings.durationSeconds } : { amount: settings.amount }),
        timeout: REQUEST_TIMEOUT_SECONDS,
        pipelining: 1,
        requests,
      },
      (err, result) => {
        clearTimeout(watchdog);
        settings.signal?.removeEventListener('abort', stop);
        if (err) reject(err);
        else resolve(summarise(result, tally));
      },
    );
    const stop = (): void => instance.stop();
    settings.signal?.addEventListener('abort', stop, { once: true });
    watchdog = setTimeout(
      () => {
        stop();
        reject(new Error(`autocannon did not finish within ${settings.durationSeconds} s + ${GRACE_MS / 1000} s`));
      },
      settings.durationSeconds * 1000 + GRACE_MS,
    );
  });
}

interface Tally {
  onResponse(status: number, body: string): void;
  readonly codes: Record<string, number>;
  readonly samples: { status: number; body: string }[];
}

function createTally(): Tally {
  const codes: Record<string, number> = {};
  const samples: { status: number; body: string }[] = [];
  return {
    codes,
    samples,
    onResponse(status, body) {
      // Only failures are parsed: the 2xx path stays as cheap as autocannon's own.
      if (status >= 200 && status < 300) return;
      const code = `${status} ${errorCode(body)}`;
      codes[code] = (codes[code] ?? 0) + 1;
      if (samples.length < MAX_SAMPLES) samples.push({ status, body: body.slice(0, 300) });
    },
  };
}

function errorCode(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown } };
    return typeof parsed.error?.code === 'string' ? parsed.error.code : '(no code)';
  } catch {
    return '(not JSON)';
  }
}

function summarise(result: autocannon.Result, tally: Tally): LoadFigures {
  const statusCodes: Record<string, number> = {};
  for (const [status, { count }] of Object.entries(result.statusCodeStats)) statusCodes[status] = count;
  return {
    requestsPerSecond: round(result.requests.average, 0),
    completed: result.requests.total,
    sent: result.requests.sent,
    durationSeconds: result.duration,
    latencyMs: {
      p50: result.latency.p50,
      p99: result.latency.p99,
      average: round(result.latency.average, 2),
      max: result.latency.max,
    },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    errorCodes: { ...tally.codes },
    errorSamples: [...tally.samples],
  };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
