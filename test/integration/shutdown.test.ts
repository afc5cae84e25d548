// Graceful stop of the real process (tsx src/main.ts against a test database): on SIGTERM or SIGINT it
// stops taking new work (readiness 503, new requests refused or 503 shutting_down), lets requests in
// flight finish, exits 0 and leaves no PostgreSQL connection behind; a request that outlives
// SHUTDOWN_TIMEOUT is cut and the process still exits 0 soon after. Its stdout is JSON log lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { get as httpGet } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { ReservedSql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKey, mintAdminToken } from '../../src/http/admin-auth.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/database.js';
import { REPO_ROOT, TSX, freePort } from '../support/processes.js';

const READY_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 20_000;

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

interface RunningGateway {
  readonly child: ChildProcess;
  readonly port: number;
  readonly output: { stdout: string; stderr: string };
  readonly exited: Promise<Exit>;
}

interface RawResponse {
  readonly status: number;
  readonly head: string;
  readonly body: string;
}

let db: TestDatabase;
const adminSecret = randomBytes(32).toString('base64url');
const credentialsKey = randomBytes(32).toString('hex');
const started: RunningGateway[] = [];
const reserved: ReservedSql[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
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
  for (const su of reserved) {
    await su`ROLLBACK`.catch(() => undefined);
    su.release();
  }
  await db?.drop();
});

async function startGateway(shutdownTimeoutSeconds: number): Promise<RunningGateway> {
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
    SHUTDOWN_TIMEOUT: String(shutdownTimeoutSeconds),
  };
  for (const name of ['TEST_DATABASE_URL', 'CREDENTIALS_KEYS', 'DATA_DIR', 'EMBEDDED_PG_PORT']) delete env[name];
  // Its own process group, so cleanup after a failure reaches tsx's node child too.
  const child = spawn(TSX, ['src/main.ts'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const output = { stdout: '', stderr: '' };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const gateway = { child, port, output, exited };
  started.push(gateway);
  await waitFor(
    async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the gateway exited before it was ready:\n${output.stderr}`);
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined);
      await res?.arrayBuffer();
      return res?.status === 200;
    },
    READY_TIMEOUT_MS,
    'the gateway to be ready',
  );
  return gateway;
}

async function createTenant(gateway: RunningGateway): Promise<string> {
  const token = await mintAdminToken(adminKey(adminSecret), 300, 'shutdown-test');
  const res = await fetch(`http://127.0.0.1:${gateway.port}/v1/admin/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `shutdown-${randomBytes(4).toString('hex')}` }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/** Locks `users` in a transaction of our own, so every tenant query blocks until `release`. */
async function lockUsers(): Promise<{ release: () => Promise<void> }> {
  const su = await db.admin.reserve();
  reserved.push(su);
  await su`BEGIN`;
  await su`LOCK TABLE users IN ACCESS EXCLUSIVE MODE`;
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      await su`ROLLBACK`;
      reserved.splice(reserved.indexOf(su), 1);
      su.release();
    },
  };
}

async function gatewayBackends(where = ''): Promise<number> {
  const [row] = await db.admin.unsafe<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE datname = current_database() AND application_name LIKE 'tenantgate%' ${where}`,
  );
  return row?.n ?? 0;
}

/**
 * A request whose answer we track without awaiting it. Without keep-alive (`Connection: close`), so
 * the measured exit time is the gateway's own and not the client's idle keep-alive timer: a
 * connection that goes idle after the signal is otherwise held open until the client lets go of it.
 */
function inFlight(port: number, tenantId: string): { settledAt: () => number | undefined; result: Promise<RawResponse | Error> } {
  let settledAt: number | undefined;
  const result = new Promise<RawResponse | Error>((resolve) => {
    const req = httpGet(
      { host: '127.0.0.1', port, path: '/v1/internal/users', headers: { 'x-tenant-id': tenantId }, agent: false, timeout: EXIT_TIMEOUT_MS },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, head: JSON.stringify(res.headers), body }));
        res.on('error', resolve);
      },
    );
    req.on('timeout', () => req.destroy(new Error('TimeoutError: no answer')));
    req.on('error', resolve);
  });
  void result.finally(() => (settledAt = Date.now()));
  return { settledAt: () => settledAt, result };
}

/**
 * A kept-alive connection whose first request (blocked) is in flight: the server cannot close it as
 * idle, so a second request sent on it after the signal reaches the draining gateway. Node answers
 * pipelined requests in order, so both answers arrive once the first completes.
 */
async function openBusyConnection(port: number, tenantId: string): Promise<{ send: (path: string) => void; answers: () => Promise<RawResponse[]> }> {
  const socket: Socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let received = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
  const ended = new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    socket.once('error', () => resolve());
  });
  const send = (path: string): void => {
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-tenant-id: ${tenantId}\r\n\r\n`);
  };
  send('/v1/internal/users');
  return {
    send,
    answers: async () => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, EXIT_TIMEOUT_MS);
      });
      await Promise.race([ended, timeout]);
      clearTimeout(timer);
      socket.destroy();
      return parseResponses(received);
    },
  };
}

/** Splits HTTP/1.1 responses with content-length bodies (all the gateway sends) read off one socket. */
function parseResponses(raw: string): RawResponse[] {
  const responses: RawResponse[] = [];
  let rest = raw;
  for (let i = 0; i < 10 && rest.startsWith('HTTP/1.1 '); i++) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd < 0) break;
    const head = rest.slice(0, headEnd);
    const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
    const body = rest.slice(headEnd + 4, headEnd + 4 + length);
    responses.push({ status: Number(head.slice(9, 12)), head, body });
    rest = rest.slice(headEnd + 4 + length);
  }
  return responses;
}

async function exitWithin(gateway: RunningGateway, ms: number): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no exit within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([gateway.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function logLines(stdout: string): Record<string, unknown>[] {
  const lines = stdout.split('\n').filter((line) => line.trim() !== '');
  expect(lines.length).toBeGreaterThan(0);
  return lines.map((line) => {
    let parsed: unknown;
    expect(() => (parsed = JSON.parse(line)), `stdout line is not JSON: ${line}`).not.toThrow();
    expect(parsed).toEqual(expect.objectContaining({ level: expect.any(Number), time: expect.any(Number), msg: expect.any(String) }));
    return parsed as Record<string, unknown>;
  });
}

describe.each(['SIGTERM', 'SIGINT'] as const)('on %s', (signal) => {
  it(
    'drains: readiness and new requests are refused, the request in flight completes, the process exits 0 with no connections left',
    { timeout: 60_000 },
    async () => {
      const gateway = await startGateway(5);
      const tenantId = await createTenant(gateway);
      const base = `http://127.0.0.1:${gateway.port}`;

      const lock = await lockUsers();
      let releasedAt = 0;
      let busy: Awaited<ReturnType<typeof openBusyConnection>>;
      let request: ReturnType<typeof inFlight>;
      try {
        request = inFlight(gateway.port, tenantId);
        busy = await openBusyConnection(gateway.port, tenantId);
        await waitFor(async () => (await gatewayBackends(`AND wait_event_type = 'Lock'`)) >= 2, 10_000, 'both tenant queries to block');

        gateway.child.kill(signal);
        await waitFor(() => gateway.output.stdout.includes('shutting down'), 5_000, 'the shutdown to begin');

        // A connection opened from now on is refused (the listening socket is closed) or told to go away.
        const fresh = await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(5_000) }).catch((err: unknown) => err as Error);
        if (fresh instanceof Response) {
          expect(fresh.status).toBe(503);
          expect(((await fresh.json()) as { error: { code: string } }).error.code).toBe('shutting_down');
        } else {
          expect(String((fresh.cause as { code?: string } | undefined)?.code ?? fresh.message)).toMatch(/ECONNREFUSED|ECONNRESET|other side closed/);
        }
        // Requests pipelined behind the in-flight one on its connection: the in-flight response closes
        // the connection (Connection: close), so these are never processed (HTTP/1.1 clients retry them).
        busy.send('/health/ready');
        busy.send('/v1/internal/users');

        expect(request.settledAt()).toBeUndefined();
        expect(gateway.child.exitCode).toBeNull();
      } finally {
        releasedAt = Date.now();
        await lock.release();
      }

      const res = await request.result;
      if (res instanceof Error) throw res;
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual(expect.objectContaining({ records: [], total: 0 }));

      const [first, ...more] = await busy.answers();
      expect(first?.status, first?.head).toBe(200);
      expect(first?.head).toMatch(/\r\nconnection: close/i);
      expect(more).toEqual([]);

      expect(await exitWithin(gateway, EXIT_TIMEOUT_MS)).toEqual({ code: 0, signal: null });
      const exitMs = Date.now() - releasedAt;
      expect(exitMs, `exited ${exitMs} ms after the blocked requests were released`).toBeLessThan(2_000);
      await waitFor(async () => (await gatewayBackends()) === 0, 3_000, "the gateway's PostgreSQL connections to end");

      const logs = logLines(gateway.output.stdout);
      expect(logs.every((line) => line.service === 'tenantgate')).toBe(true);
      expect(logs).toContainEqual(expect.objectContaining({ signal, msg: expect.stringContaining('shutting down') }));
      expect(logs.at(-1)).toEqual(expect.objectContaining({ msg: 'stopped' }));
      expect(gateway.output.stderr).toBe('');
    },
  );
});

it('a request blocked past SHUTDOWN_TIMEOUT is cut, and the process still exits 0 about that timeout later', { timeout: 60_000 }, async () => {
  const gateway = await startGateway(1);
  const tenantId = await createTenant(gateway);
  const lock = await lockUsers();
  try {
    const request = inFlight(gateway.port, tenantId);
    await waitFor(async () => (await gatewayBackends(`AND wait_event_type = 'Lock'`)) >= 1, 10_000, 'the tenant query to block');

    const signalledAt = Date.now();
    gateway.child.kill('SIGTERM');
    const exit = await exitWithin(gateway, EXIT_TIMEOUT_MS);
    const exitMs = Date.now() - signalledAt;
    expect(exit).toEqual({ code: 0, signal: null });
    // One second to drain, then connections cut; a little more for pools to close and logs to flush.
    expect(exitMs).toBeGreaterThanOrEqual(1_000);
    // Soft, so the checks below still report: the pools' own drain timeouts must not outlast it.
    expect.soft(exitMs, `exited ${exitMs} ms after SIGTERM; its log:\n${gateway.output.stdout}`).toBeLessThan(4_000);

    // The client saw its connection cut (or, at best, a 503) once the timeout passed, never a hang.
    const res = await request.result;
    if (res instanceof Error) expect(res.message).not.toMatch(/TimeoutError/);
    else expect(res.status).toBe(503);
    expect((request.settledAt() ?? Infinity) - signalledAt).toBeLessThan(3_000);
    expect(gateway.output.stdout).toContain('shutdown timeout');
  } finally {
    await lock.release();
  }
  // The backend that was waiting on our lock notices its client is gone once the lock is released.
  await waitFor(async () => (await gatewayBackends()) === 0, 3_000, "the gateway's PostgreSQL connections to end");
  logLines(gateway.output.stdout);
});
