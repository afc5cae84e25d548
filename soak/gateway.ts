// The gateway under test as a child process (`node --import tsx src/main.ts`, so the child's pid is the
// Node process whose RSS we sample), on one fixed port across restarts, so that the soak can SIGKILL it
// and start it again. Its warnings are counted by message for the report.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { delay } from './time.js';

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const TAIL_LINES = 60;

export interface GatewayProcess {
  readonly baseUrl: string;
  /** Pid of the running child, undefined while it is down. */
  pid(): number | undefined;
  /** 1 for the first start, +1 for each restart. */
  generation(): number;
  /** Starts the child and resolves once /health/ready answers 200. */
  start(): Promise<void>;
  /** SIGKILL: no drain, no goodbye to PostgreSQL. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (graceful stop), SIGKILL after a deadline. */
  stop(): Promise<void>;
  /** Warning-and-above log lines by message, over every generation. */
  warnings(): Record<string, number>;
  /** The first few such lines in full, to say what went wrong. */
  samples(): string[];
  tail(): string[];
}

export function gatewayProcess(env: Readonly<Record<string, string>>, port: number): GatewayProcess {
  const baseUrl = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let generation = 0;
  const counts: Record<string, number> = {};
  const samples: string[] = [];
  const tail: string[] = [];
  const killOnExit = (): void => void child?.kill('SIGKILL');
  process.on('exit', killOnExit);

  const logFile = process.env.SOAK_GATEWAY_LOG ? createWriteStream(process.env.SOAK_GATEWAY_LOG, { flags: 'a' }) : undefined;
  const onLine = (line: string): void => {
    logFile?.write(`${Date.now()} [gen ${generation}] ${line}\n`);
    tail.push(`[gen ${generation}] ${line}`);
    if (tail.length > TAIL_LINES) tail.shift();
    const key = warningKey(line);
    if (key === undefined) return;
    counts[key] = (counts[key] ?? 0) + 1;
    if (counts[key] === 1 && samples.length < 12) samples.push(line.slice(0, 600));
  };

  const alive = (c: ChildProcess | undefined): c is ChildProcess => c !== undefined && c.exitCode === null && c.signalCode === null;

  const waitReady = async (c: ChildProcess): Promise<void> => {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!alive(c)) throw new Error(`the gateway exited before it was ready:\n${tail.join('\n')}`);
      try {
        const res = await fetch(`${baseUrl}/health/ready`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.ok) return;
      } catch {
        // Not listening yet.
      }
      await delay(50);
    }
    throw new Error(`the gateway was not ready within ${READY_TIMEOUT_MS / 1000} s:\n${tail.join('\n')}`);
  };

  return {
    baseUrl,
    pid: () => (alive(child) ? child.pid : undefined),
    generation: () => generation,
    async start() {
      if (alive(child)) throw new Error('the gateway is already running');
      generation++;
      const c = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group: Ctrl-C reaches only the soak, which then stops it in order.
        detached: true,
      });
      if (c.pid === undefined) throw new Error('could not spawn the gateway');
      child = c;
      for (const stream of [c.stdout, c.stderr]) if (stream) createInterface({ input: stream }).on('line', onLine);
      await waitReady(c);
    },
    async kill() {
      const c = child;
      if (!alive(c)) return;
      const exited = once(c, 'exit');
      c.kill('SIGKILL');
      await exited;
    },
    async stop() {
      const c = child;
      if (!alive(c)) return;
      const exited = once(c, 'exit');
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), STOP_TIMEOUT_MS);
      try {
        await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    warnings: () => ({ ...counts }),
    samples: () => [...samples],
    tail: () => [...tail],
  };
}

/** pino lines at warn (40) and above, keyed by message and error code; other non-empty output by its text. */
function warningKey(line: string): string | undefined {
  if (!line.startsWith('{')) return line.trim() === '' ? undefined : line.slice(0, 120);
  try {
    const entry = JSON.parse(line) as { level?: unknown; msg?: unknown; err?: { code?: unknown }; status?: unknown };
    if (typeof entry.level !== 'number' || entry.level < 40) return undefined;
    const code = typeof entry.err?.code === 'string' ? ` (${entry.err.code})` : '';
    const status = typeof entry.status === 'number' ? ` ${entry.status}` : '';
    return `${String(entry.msg)}${status}${code}`;
  } catch {
    return line.slice(0, 120);
  }
}
