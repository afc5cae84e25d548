// The production command as a user runs it: `npm start` (through npm, which builds dist/ when stale and
// runs it with plain node). A stop signal (SIGTERM to npm alone, as a container runtime or systemd
// sends it; SIGINT to the whole process group, as Ctrl-C does) lets a request in flight finish, and
// npm exits 0 once the gateway has drained and stopped, leaving no PostgreSQL connection behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ReservedSql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKey, mintAdminToken } from '../../src/http/admin-auth.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/database.js';
import { REPO_ROOT, freePort } from '../support/processes.js';

// The first start in a fresh tree compiles dist/ first.
const READY_TIMEOUT_MS = 90_000;
const EXIT_TIMEOUT_MS = 20_000;

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

interface NpmStart {
  readonly child: ChildProcess;
  readonly port: number;
  readonly output: { stdout: string; stderr: string };
  readonly exited: Promise<Exit>;
}

let db: TestDatabase;
const adminSecret = randomBytes(32).toString('base64url');
const credentialsKey = randomBytes(32).toString('hex');
const started: NpmStart[] = [];
let lock: ReservedSql | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  for (const run of started) {
    if (run.child.exitCode === null && run.child.signalCode === null && run.child.pid !== undefined) {
      try {
        process.kill(-run.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  await lock?.unsafe('ROLLBACK').catch(() => undefined);
  lock?.release();
  await db?.drop();
});

async function npmStart(): Promise<NpmStart> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: db.url,
    CREDENTIALS_KEY: credentialsKey,
    ADMIN_JWT_SECRET: adminSecret,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'info',
    SEED_DEMO: 'false',
    SHUTDOWN_TIMEOUT: '10',
  };
  for (const name of ['TEST_DATABASE_URL', 'CREDENTIALS_KEYS', 'DATA_DIR', 'EMBEDDED_PG_PORT']) delete env[name];
  // Its own process group, so a Ctrl-C can be imitated and cleanup after a failure reaches every child.
  const child = spawn('npm', ['start'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const output = { stdout: '', stderr: '' };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const run = { child, port, output, exited };
  started.push(run);
  await waitFor(
    async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`npm start exited before the gateway was ready:\n${output.stderr}`);
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined);
      await res?.arrayBuffer();
      return res?.status === 200;
    },
    READY_TIMEOUT_MS,
    'npm start to be ready',
  );
  return run;
}

async function gatewayBackends(where = ''): Promise<number> {
  const [row] = await db.admin.unsafe<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE datname = current_database() AND application_name LIKE 'tenantgate%' ${where}`,
  );
  return row?.n ?? 0;
}

async function exitWithin(run: NpmStart, ms: number): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`npm start did not exit within ${ms} ms:\n${run.output.stdout}\n${run.output.stderr}`)), ms);
  });
  try {
    return await Promise.race([run.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The gateway's JSON log lines; npm's own banner lines (`> tenantgate@… start`) are not JSON. */
function logMessages(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { msg: string }).msg);
}

it('the production command runs the compiled gateway with plain node, built first when stale', () => {
  const { scripts } = JSON.parse(readFileSync(`${REPO_ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> };
  expect(scripts.start).toMatch(/^exec node dist\/main\.js$/);
  expect(scripts.prestart).toContain('scripts/build.mjs --if-stale');
});

describe.each([
  { how: 'SIGTERM to npm alone (container runtime, systemd)', signal: 'SIGTERM', group: false },
  { how: 'SIGINT to the process group (Ctrl-C)', signal: 'SIGINT', group: true },
] as const)('npm start, stopped by $how', ({ signal, group }) => {
  it('lets the request in flight finish, drains, and exits 0', { timeout: 120_000 }, async () => {
    const run = await npmStart();
    const base = `http://127.0.0.1:${run.port}`;
    const token = await mintAdminToken(adminKey(adminSecret), 300, 'production-start-test');
    const created = await fetch(`${base}/v1/admin/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `prod-${randomBytes(4).toString('hex')}` }),
    });
    expect(created.status).toBe(201);
    const tenantId = ((await created.json()) as { id: string }).id;

    // Every tenant query blocks on our lock until we release it.
    lock = await db.admin.reserve();
    await lock`BEGIN`;
    await lock`LOCK TABLE users IN ACCESS EXCLUSIVE MODE`;
    const inFlight = fetch(`${base}/v1/internal/users`, { headers: { 'x-tenant-id': tenantId, connection: 'close' } });
    await waitFor(async () => (await gatewayBackends(`AND wait_event_type = 'Lock'`)) >= 1, 10_000, 'the tenant query to block');

    const pid = run.child.pid ?? 0;
    process.kill(group ? -pid : pid, signal);
    await waitFor(() => run.output.stdout.includes('shutting down'), 10_000, 'the gateway to start draining');
    // npm must still be waiting for the gateway, which is waiting for the request.
    expect(run.child.exitCode).toBeNull();

    await lock`ROLLBACK`;
    lock.release();
    lock = undefined;
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(expect.objectContaining({ records: [], total: 0 }));

    expect(await exitWithin(run, EXIT_TIMEOUT_MS)).toEqual({ code: 0, signal: null });
    const messages = logMessages(run.output.stdout);
    expect(messages).toContain('tenantgate listening');
    expect(messages.at(-1)).toBe('stopped');
    await waitFor(async () => (await gatewayBackends()) === 0, 3_000, "the gateway's PostgreSQL connections to end");
  });
});
