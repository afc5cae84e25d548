// Starting the real process (tsx src/main.ts) the ways an operator gets wrong or right: a busy port, an
// unreachable DATABASE_URL and invalid variables each end in plain words on stderr and exit 1 (never a
// stack trace or a password); `.env` in the working directory is read without overriding the
// environment; in a terminal the log is readable, piped it stays JSON.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/database.js';
import { REPO_ROOT, TSX, freePort } from '../support/processes.js';

const MAIN = `${REPO_ROOT}src/main.ts`;
const EXIT_TIMEOUT_MS = 60_000;

let db: TestDatabase;
let workDir: string;
const credentialsKey = randomBytes(32).toString('hex');
const adminSecret = randomBytes(32).toString('base64url');
const children: ChildProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  workDir = await mkdtemp(join(tmpdir(), 'tenantgate-start-'));
});

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  await db?.drop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** The environment of a gateway on the test database, without anything the test runner set. */
function baseEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: db.url,
    CREDENTIALS_KEY: credentialsKey,
    ADMIN_JWT_SECRET: adminSecret,
    HOST: '127.0.0.1',
    SEED_DEMO: 'false',
    LOG_LEVEL: 'info',
  };
  for (const name of ['TEST_DATABASE_URL', 'CREDENTIALS_KEYS', 'DATA_DIR', 'EMBEDDED_PG_PORT', 'PORT']) delete env[name];
  return { ...env, ...extra };
}

/** Runs the gateway to its exit (it is expected to fail at start-up). */
function runToExit(env: NodeJS.ProcessEnv, cwd = REPO_ROOT): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(TSX, [MAIN], { cwd, env, timeout: EXIT_TIMEOUT_MS, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
    children.push(child);
  });
}

function expectOneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((line) => line.trim() !== '');
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines[0] ?? '';
}

describe('a failed start is one clear line and exit 1', () => {
  let holder: Server;
  afterAll(() => new Promise<void>((resolve) => (holder ? holder.close(() => resolve()) : resolve())));

  it('a busy port names the address and what to do', { timeout: EXIT_TIMEOUT_MS }, async () => {
    holder = createServer();
    const port = await new Promise<number>((resolve) => holder.listen(0, '127.0.0.1', () => resolve((holder.address() as { port: number }).port)));
    const result = await runToExit(baseEnv({ PORT: String(port) }));
    expect(result.code).toBe(1);
    expect(expectOneLine(result.stderr)).toBe(`failed to start: 127.0.0.1:${port} is already in use: stop the process listening there or choose another PORT`);
  });

  it('an unreachable DATABASE_URL names the server (not the password) and the reason', { timeout: EXIT_TIMEOUT_MS }, async () => {
    const closed = await freePort();
    const password = `pw-${randomBytes(6).toString('hex')}`;
    const result = await runToExit(baseEnv({ PORT: String(await freePort()), DATABASE_URL: `postgres://someone:${password}@127.0.0.1:${closed}/tenantgate` }));
    expect(result.code).toBe(1);
    expect(expectOneLine(result.stderr)).toBe(`failed to start: cannot reach PostgreSQL at 127.0.0.1:${closed} (DATABASE_URL): connection refused`);
    expect(result.stderr + result.stdout).not.toContain(password);
  });

  it('invalid variables are all reported at once', { timeout: EXIT_TIMEOUT_MS }, async () => {
    const result = await runToExit(baseEnv({ PORT: 'eighty', POOL_MAX: '0', LOG_LEVEL: 'loud' }));
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines[0]).toBe('configuration error: 3 invalid variables');
    expect(lines.slice(1).map((line) => line.trim().split(':')[0])).toEqual(['POOL_MAX', 'PORT', 'LOG_LEVEL']);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('.env in the working directory', () => {
  it('is read at start-up, and a variable already set in the environment wins over the file', { timeout: EXIT_TIMEOUT_MS }, async () => {
    const port = await freePort();
    // PORT only in the file; LOG_LEVEL in both (the environment's `info` must win over `silent`).
    await writeFile(join(workDir, '.env'), `# written by start-up.test.ts\nPORT=${port}\nLOG_LEVEL=silent\nSHUTDOWN_TIMEOUT="3"\n`);
    const env = baseEnv({ LOG_LEVEL: 'info' });
    const child = spawn(TSX, [MAIN], { cwd: workDir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`the gateway exited:\n${stderr}`);
        const res = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
        await res?.arrayBuffer();
        return res?.status === 200;
      },
      EXIT_TIMEOUT_MS,
      'the gateway on the port from .env',
    );
    expect(stdout).toContain('"msg":"tenantgate listening"');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('without a .env file the start is unchanged', { timeout: EXIT_TIMEOUT_MS }, async () => {
    const empty = await mkdtemp(join(tmpdir(), 'tenantgate-noenv-'));
    try {
      const result = await runToExit(baseEnv({ PORT: 'eighty' }), empty);
      expect(result.code).toBe(1);
      expect(expectOneLine(result.stderr)).toMatch(/^configuration error: PORT: /);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('log format', () => {
  const hasScript = () => new Promise<boolean>((resolve) => execFile('script', ['--version'], (error) => resolve(error === null)));

  it('is readable lines in a terminal (pino-pretty), not JSON', { timeout: EXIT_TIMEOUT_MS }, async (ctx) => {
    if (!(await hasScript())) {
      ctx.skip(true, 'util-linux `script` (to give the process a terminal) is not installed');
      return;
    }
    const port = await freePort();
    // `script` runs the command on a pseudo-terminal, as a person's shell would.
    const child = spawn('script', ['-qec', `exec ${TSX} ${MAIN}`, '/dev/null'], {
      cwd: REPO_ROOT,
      env: baseEnv({ PORT: String(port) }),
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    children.push(child);
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await waitFor(() => output.includes('tenantgate listening'), EXIT_TIMEOUT_MS, 'the listening line on the terminal');
    process.kill(-(child.pid ?? 0), 'SIGTERM');
    await exited;
    const plain = output.replace(/\u001b\[[0-9;]*m/g, '');
    expect(plain).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: tenantgate listening$/m);
    expect(plain).toContain(`url: "http://127.0.0.1:${port}"`);
    expect(plain).not.toMatch(/^\{"level"/m);
  });
});
