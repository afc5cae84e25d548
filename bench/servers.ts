// Starts a server under test (the gateway, the baseline or the lean server) as a child `node --import tsx <entry>`, so
// the child's pid is the Node process itself (its RSS is what we sample), waits until it is ready and
// stops it: SIGTERM, then SIGKILL after a deadline. Its log lines are kept for the report.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from '../soak/ports.js';
import { delay } from './timeout.js';

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

export type ServerKind = 'gateway' | 'baseline' | 'lean';

export interface ServerSpec {
  readonly kind: ServerKind;
  /** Entry module, relative to the repository root. */
  readonly entry: string;
  /** The child's whole environment, besides PATH, HOME and PORT: nothing leaks in from ours. */
  readonly env: Readonly<Record<string, string>>;
  /** Extra node flags, e.g. --cpu-prof (not allowed in NODE_OPTIONS). */
  readonly nodeArgs?: readonly string[];
}

export interface RunningServer {
  readonly kind: ServerKind;
  readonly pid: number;
  readonly baseUrl: string;
  /** Counts of the child's log messages at warn level and above, by message. */
  logSummary(): Record<string, number>;
  /** The first few such lines in full (truncated), to say what went wrong. */
  logSamples(): string[];
  /** The last lines the child wrote (for error reports). */
  logTail(): string[];
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
const TAIL_LINES = 40;
const SAMPLE_LINES = 5;

export async function startServer(spec: ServerSpec): Promise<RunningServer> {
  const port = await freePort();
  const child = spawn(process.execPath, [...(spec.nodeArgs ?? []), '--import', 'tsx', spec.entry], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...spec.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: Ctrl-C reaches only the bench, which then stops the server in order.
    detached: true,
  });
  if (child.pid === undefined) throw new Error(`${spec.kind}: could not spawn node`);
  const logs = captureLogs(child);
  // If the bench itself dies, do not leave a server behind holding connections.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const server: RunningServer = {
    kind: spec.kind,
    pid: child.pid,
    baseUrl: `http://127.0.0.1:${port}`,
    logSummary: logs.summary,
    logSamples: logs.samples,
    logTail: logs.tail,
    async stop() {
      await stopChild(child);
      process.removeListener('exit', killOnExit);
    },
  };
  try {
    await waitReady(server, child);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

async function waitReady(server: RunningServer, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${server.kind} exited before it was ready:\n${server.logTail().join('\n')}`);
    }
    try {
      const res = await fetch(`${server.baseUrl}/health/ready`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await delay(100);
  }
  throw new Error(`${server.kind} was not ready within ${READY_TIMEOUT_MS / 1000} s:\n${server.logTail().join('\n')}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

interface LogCapture {
  summary(): Record<string, number>;
  samples(): string[];
  tail(): string[];
}

function captureLogs(child: ChildProcess): LogCapture {
  const counts: Record<string, number> = {};
  const samples: string[] = [];
  const tail: string[] = [];
  const onLine = (line: string): void => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    const key = warningKey(line);
    if (key === undefined) return;
    counts[key] = (counts[key] ?? 0) + 1;
    if (counts[key] === 1 && samples.length < SAMPLE_LINES) samples.push(line.slice(0, 600));
  };
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on('line', onLine);
  }
  return { summary: () => ({ ...counts }), samples: () => [...samples], tail: () => [...tail] };
}

/** pino lines at warn (40) and above, keyed by message and error code; other output by its text. */
function warningKey(line: string): string | undefined {
  if (!line.startsWith('{')) return line.trim() === '' ? undefined : line.slice(0, 120);
  try {
    const entry = JSON.parse(line) as { level?: unknown; msg?: unknown; err?: { code?: unknown } };
    if (typeof entry.level !== 'number' || entry.level < 40) return undefined;
    const code = typeof entry.err?.code === 'string' ? ` (${entry.err.code})` : '';
    return `${String(entry.msg)}${code}`;
  } catch {
    return line.slice(0, 120);
  }
}
