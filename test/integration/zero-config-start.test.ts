// The README's `npm start` path: no DATABASE_URL, no secrets. The gateway starts its own PostgreSQL
// under DATA_DIR, seeds a demo tenant, prints curl commands, stops cleanly on SIGTERM, and keeps its
// data and secrets for the next start.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from '../support/database.js';
import { REPO_ROOT, TSX, freePort } from '../support/processes.js';

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;

interface RunningGateway {
  readonly child: ChildProcess;
  readonly output: { stdout: string; stderr: string };
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let dataDir: string;
let env: NodeJS.ProcessEnv;
let httpPort: number;
let pgPort: number;
const started: RunningGateway[] = [];

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(2_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(true); // neither accepted nor refused: something still holds the port
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code !== 'ECONNREFUSED'));
  });
}

function startGateway(extraEnv: NodeJS.ProcessEnv = {}): RunningGateway {
  // Its own process group, so cleanup after a failure can reach tsx's node child and PostgreSQL too.
  const child = spawn(TSX, ['src/main.ts'], { cwd: REPO_ROOT, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const output = { stdout: '', stderr: '' };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const gateway = { child, output, exited };
  started.push(gateway);
  return gateway;
}

/** Waits for the printed curl commands and returns the demo tenant id they carry. */
async function demoTenantId(gateway: RunningGateway): Promise<string> {
  const pattern = /x-tenant-id: ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/;
  await waitFor(
    () => {
      if (gateway.child.exitCode !== null || gateway.child.signalCode !== null) {
        throw new Error(`the gateway exited before it was ready:\n${gateway.output.stderr}`);
      }
      return gateway.output.stdout.includes('tenantgate is ready at') && pattern.test(gateway.output.stdout);
    },
    READY_TIMEOUT_MS,
    'the curl commands on stdout',
  );
  expect(gateway.output.stdout).toContain(`curl -s 'http://127.0.0.1:${httpPort}/v1/internal/users'`);
  return pattern.exec(gateway.output.stdout)?.[1] ?? '';
}

async function stopGateway(gateway: RunningGateway): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  gateway.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no exit within ${STOP_TIMEOUT_MS} ms of SIGTERM`)), STOP_TIMEOUT_MS);
  });
  try {
    return await Promise.race([gateway.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function listUsers(tenantId: string): Promise<{ records: { first_name: string; last_name: string }[]; total: number }> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/v1/internal/users?page_size=100`, { headers: { 'x-tenant-id': tenantId } });
  expect(res.status).toBe(200);
  return (await res.json()) as { records: { first_name: string; last_name: string }[]; total: number };
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tenantgate-zero-config-'));
  // mkdtemp makes it 0700; as root, PostgreSQL runs as the postgres system user and must get through.
  await chmod(dataDir, 0o755);
  [httpPort, pgPort] = await Promise.all([freePort(), freePort()]);
  env = { ...process.env, DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort), PORT: String(httpPort), LOG_LEVEL: 'warn' };
  for (const name of ['DATABASE_URL', 'TEST_DATABASE_URL', 'CREDENTIALS_KEY', 'ADMIN_JWT_SECRET', 'HOST', 'SEED_DEMO']) {
    delete env[name];
  }
});

afterAll(async () => {
  for (const gateway of started) {
    if (gateway.child.exitCode === null && gateway.child.signalCode === null && gateway.child.pid !== undefined) {
      try {
        process.kill(-gateway.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  // A PostgreSQL left behind by a failed run still holds its pid file; stop it by that pid.
  const pidFile = join(dataDir, 'pg', 'postmaster.pid');
  if (existsSync(pidFile)) {
    const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 'SIGQUIT');
        await waitFor(async () => !(await acceptsConnections(pgPort)), 10_000, 'the leftover PostgreSQL to stop');
      } catch {
        // not running
      }
    }
  }
  await rm(dataDir, { recursive: true, force: true });
});

it('starts with no configuration, serves the demo tenant, stops on SIGTERM and keeps its data', { timeout: 120_000 }, async () => {
  // First start: embedded PostgreSQL initialised, secrets generated, demo tenant seeded.
  const first = startGateway();
  const tenantId = await demoTenantId(first);
  const seeded = await listUsers(tenantId);
  expect(seeded.total).toBe(3);
  expect(seeded.records.map((u) => `${u.first_name} ${u.last_name}`).sort()).toEqual(['Ada Lovelace', 'Alan Turing', 'Grace Hopper']);

  const created = await fetch(`http://127.0.0.1:${httpPort}/v1/internal/users`, {
    method: 'POST',
    headers: { 'x-tenant-id': tenantId, 'content-type': 'application/json' },
    body: JSON.stringify({ first_name: 'Katherine', last_name: 'Johnson' }),
  });
  expect(created.status).toBe(201);

  const secretsFile = join(dataDir, 'secrets.json');
  expect((await stat(secretsFile)).mode & 0o777).toBe(0o600);
  const secretsBefore = await readFile(secretsFile, 'utf8');

  // SIGTERM: a clean exit, and the PostgreSQL it started is gone with it.
  expect(await acceptsConnections(pgPort)).toBe(true);
  expect(await stopGateway(first)).toEqual({ code: 0, signal: null });
  expect(await acceptsConnections(pgPort)).toBe(false);
  expect(await acceptsConnections(httpPort)).toBe(false);
  expect(existsSync(join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);

  // Second start on the same DATA_DIR: same tenant, its data, the same secrets, no second demo tenant.
  // At the most verbose level, which must still copy nothing of what PostgreSQL logs about statements.
  const second = startGateway({ LOG_LEVEL: 'trace' });
  expect(await demoTenantId(second)).toBe(tenantId);
  const kept = await listUsers(tenantId);
  expect(kept.total).toBe(4);
  expect(kept.records.map((u) => u.first_name)).toContain('Katherine');

  expect(await readFile(secretsFile, 'utf8')).toBe(secretsBefore);
  expect((await stat(secretsFile)).mode & 0o777).toBe(0o600);
  const { adminJwtSecret } = JSON.parse(secretsBefore) as { adminJwtSecret: string };
  const token = await new SignJWT({ role: 'admin' })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(adminJwtSecret));
  const tenants = await fetch(`http://127.0.0.1:${httpPort}/v1/admin/tenants`, { headers: { authorization: `Bearer ${token}` } });
  expect(tenants.status).toBe(200);
  const page = (await tenants.json()) as { records: { id: string; name: string }[]; total: number };
  expect(page.total).toBe(1);
  expect(page.records).toEqual([expect.objectContaining({ id: tenantId, name: 'demo' })]);

  // PostgreSQL's own log gets tenant data here, as an operator who logs statements would have it:
  // every statement with its parameters ("DETAIL: parameters: $1 = '…'"), and an error with its
  // "STATEMENT:" line. None of it may reach the gateway's log.
  const canary = `canary-${randomBytes(6).toString('hex')}`;
  const { postgresPassword } = JSON.parse(secretsBefore) as { postgresPassword: string };
  const su = postgres(`postgres://postgres:${encodeURIComponent(postgresPassword)}@127.0.0.1:${pgPort}/postgres`, { max: 1, onnotice: () => {} });
  try {
    await su`ALTER SYSTEM SET log_min_duration_statement = 0`;
    await su`SELECT pg_reload_conf()`;
    await expect(su.unsafe(`SELECT 1/0 AS "${canary}"`)).rejects.toMatchObject({ code: '22012' });
  } finally {
    await su.end({ timeout: 1 });
  }
  const createTenant = () =>
    fetch(`http://127.0.0.1:${httpPort}/v1/admin/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: canary }),
    });
  expect((await createTenant()).status).toBe(201);
  expect((await createTenant()).status).toBe(409);
  const searched = await fetch(`http://127.0.0.1:${httpPort}/v1/internal/users?search=${canary}`, { headers: { 'x-tenant-id': tenantId } });
  expect(searched.status).toBe(200);

  expect(await stopGateway(second)).toEqual({ code: 0, signal: null });
  expect(await acceptsConnections(pgPort)).toBe(false);

  const logged = second.output.stdout + second.output.stderr;
  // It did repeat the server's lifecycle (so lines from PostgreSQL do reach this log), and a problem by its severity only.
  expect(logged).not.toContain(canary);
  expect(logged).not.toMatch(/STATEMENT:|DETAIL:|INSERT INTO/);
  expect(logged).toContain('database system is ready to accept connections');
  expect(logged).toMatch(/"postgres":\{"severity":"ERROR","withheld":true\}/);
});
