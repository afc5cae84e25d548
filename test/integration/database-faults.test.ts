// What callers see when PostgreSQL fails under the gateway, on a PostgreSQL of this file's own that the
// tests stop, restart and starve: 503 with Retry-After within CONNECT_TIMEOUT (never a hang, never a
// 500), recovery without restarting the gateway on both the shared and the dedicated path, killed
// backends replaced, a rotation under load without a failed request, and too many clients as a 503.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres, { type ReservedSql, type Sql } from 'postgres';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { waitFor, type TestDatabase } from '../support/database.js';
import { startTestGateway, type TestGateway, type TestGatewayOptions } from '../support/gateway.js';
import { startPostgresServer, type PostgresServer } from '../support/postgres-server.js';
import { freePort } from '../support/processes.js';

const CONNECT_TIMEOUT_S = 2;
/** Requests still unanswered after this are counted as hung (status 0). */
const REQUEST_BOUND_MS = 8_000;
/** A request waits at most QUEUE_TIMEOUT (2 s) for a slot, then CONNECT_TIMEOUT for a connection; plus slack. */
const ANSWER_WITHIN_MS = 2_000 + CONNECT_TIMEOUT_S * 1000 + 2_000;
const RECOVERY_MS = 15_000;

let dataDir: string;
let port: number;
const password = randomBytes(18).toString('base64url');
let server: PostgresServer | undefined;
let admin: Sql;
let database: TestDatabase;
/** Holds the keys and admin secret; each test runs its own peer of it, so no test inherits another's driver state. */
let base: TestGateway;
let gw: TestGateway;
const peers: TestGateway[] = [];

async function startPostgres(): Promise<string> {
  server = await startPostgresServer({ dataDir, port, superuserPassword: password, database: 'faults' });
  return server.url;
}

async function stopPostgres(): Promise<void> {
  const running = server;
  server = undefined;
  await running?.stop();
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tenantgate-faults-'));
  // mkdtemp makes it 0700; as root, PostgreSQL runs as the postgres system user and must get through.
  await chmod(dataDir, 0o755);
  port = await freePort();
  const url = await startPostgres();
  // postgres.js replaces connections lost to a restart on the next query, so one handle lasts the file.
  admin = postgres(url, { max: 3, onnotice: () => {} });
  database = { url, admin, drop: async () => {} };
  base = await startTestGateway({ database, pool: { connectTimeoutSeconds: CONNECT_TIMEOUT_S } });
});

async function peer(pool: TestGatewayOptions['pool'] = {}): Promise<TestGateway> {
  const started = await startTestGateway({ peerOf: base, pool: { connectTimeoutSeconds: CONNECT_TIMEOUT_S, promoteRps: 1_000_000, ...pool } });
  peers.push(started);
  return started;
}

beforeEach(async () => {
  gw = await peer();
});

afterEach(async () => {
  if (!server) await startPostgres();
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  try {
    if (!server) await startPostgres().catch(() => undefined);
    await base?.close();
    await admin?.end({ timeout: 5 });
  } finally {
    await stopPostgres().catch(() => undefined);
    // A server left behind by a failed run still holds its pid file: stop it by that pid.
    const pidFile = join(dataDir, 'pg', 'postmaster.pid');
    if (existsSync(pidFile)) {
      const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
      if (Number.isInteger(pid) && pid > 0) {
        try {
          process.kill(pid, 'SIGQUIT');
          await waitFor(() => !existsSync(pidFile), 10_000, 'the leftover PostgreSQL to stop');
        } catch {
          // not running
        }
      }
    }
    await rm(dataDir, { recursive: true, force: true });
  }
});

interface Outcome {
  readonly status: number; // 0: no answer within REQUEST_BOUND_MS
  readonly tenantId: string | undefined;
  readonly retryAfter: string | null;
  readonly code: string | undefined;
  readonly startedAt: number;
  readonly ms: number;
}

async function call(target: TestGateway, path: string, tenantId?: string): Promise<Outcome> {
  const startedAt = Date.now();
  try {
    const res = await target.request(path, {
      headers: tenantId ? { 'x-tenant-id': tenantId } : {},
      signal: AbortSignal.timeout(REQUEST_BOUND_MS),
    });
    const text = await res.text();
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
    } catch {
      code = undefined;
    }
    return { status: res.status, tenantId, retryAfter: res.headers.get('retry-after'), code, startedAt, ms: Date.now() - startedAt };
  } catch {
    return { status: 0, tenantId, retryAfter: null, code: undefined, startedAt, ms: Date.now() - startedAt };
  }
}

const users = (target: TestGateway, tenantId: string): Promise<Outcome> => call(target, '/v1/internal/users', tenantId);

function expectUnavailable(outcome: Outcome, what: string): void {
  expect(outcome.status, `${what}: ${JSON.stringify(outcome)}`).toBe(503);
  expect(outcome.retryAfter, what).toMatch(/^[1-9]\d*$/);
}

/** Polls until the request answers 200; returns how long that took. */
async function recovers(request: () => Promise<Outcome>, what: string): Promise<number> {
  const started = Date.now();
  await waitFor(async () => (await request()).status === 200, RECOVERY_MS, what);
  return Date.now() - started;
}

/** A tenant with a dedicated pool (as promotion of a hot tenant would make), and one on the shared path. */
async function tenantsOnBothPaths(): Promise<{ shared: string; dedicated: string }> {
  const shared = (await gw.createTenant()).id;
  const dedicated = (await gw.createTenant()).id;
  await gw.gateway.registry.run(dedicated, (sql) => sql`SELECT 1`);
  for (const id of [shared, dedicated]) expect((await users(gw, id)).status).toBe(200);
  return { shared, dedicated };
}

describe('while PostgreSQL is stopped', () => {
  it(
    'requests get 503 with Retry-After well within CONNECT_TIMEOUT, readiness fails, and both paths recover after a restart',
    { timeout: 45_000 },
    async () => {
      const { shared, dedicated } = await tenantsOnBothPaths();
      const uncached = (await gw.createTenant()).id; // never requested: needs the catalog

      await stopPostgres();
      const down = await Promise.all([users(gw, shared), users(gw, dedicated), users(gw, uncached), call(gw, '/health/ready')]);
      const [onShared, onDedicated, onCatalog, ready] = down;
      expectUnavailable(onShared as Outcome, 'shared path');
      expect(onShared?.code).toBe('database_unavailable');
      expectUnavailable(onDedicated as Outcome, 'dedicated path');
      expect(onDedicated?.code).toBe('database_unavailable');
      expectUnavailable(onCatalog as Outcome, 'catalog look-up');
      expectUnavailable(ready as Outcome, 'readiness');
      expect(ready?.code).toBe('not_ready');
      for (const outcome of down) expect(outcome.ms).toBeLessThan(CONNECT_TIMEOUT_S * 1000 + 1500);
      // Admin routes too: a database fault is a 503 there, never a 500.
      const adminDown = await gw.request('/v1/admin/tenants', { headers: { authorization: `Bearer ${gw.adminToken}` } });
      expect(adminDown.status).toBe(503);
      await adminDown.arrayBuffer();

      await startPostgres();
      await recovers(() => users(gw, shared), 'the shared path to recover');
      await recovers(() => users(gw, dedicated), 'the dedicated path to recover');
      await recovers(() => users(gw, uncached), 'catalog look-ups to recover');
      await recovers(() => call(gw, '/health/ready'), 'readiness to recover');
      // Still on its own pool: the pool survived the outage and reconnected.
      const before = gw.gateway.registry.stats();
      expect(before.dedicatedOpen).toBe(1);
      expect((await users(gw, dedicated)).status).toBe(200);
      expect(gw.gateway.registry.stats()).toMatchObject({ servedDedicated: before.servedDedicated + 1, servedShared: before.servedShared });
      await waitFor(() => gw.gateway.listener.listening(), RECOVERY_MS, 'the change listener to reconnect');
    },
  );
});

describe('under load', () => {
  it(
    'while PostgreSQL stops and restarts, every answer is 200 or 503 with Retry-After, none hangs, and all succeed after recovery',
    { timeout: 60_000 },
    async () => {
      const { shared, dedicated } = await tenantsOnBothPaths();
      const outcomes: Outcome[] = [];
      let stop = false;
      const worker = async (tenantId: string): Promise<void> => {
        // Bounded: stops on the flag, or after this many requests whatever happens.
        for (let i = 0; i < 5_000 && !stop; i++) {
          const outcome = await users(gw, tenantId);
          outcomes.push(outcome);
          // Pacing while failing fast, so 20 clients do not starve the restarting server of CPU.
          if (outcome.status !== 200) await new Promise((r) => setTimeout(r, 20));
        }
      };
      const workers = Array.from({ length: 20 }, (_, i) => worker(i % 2 === 0 ? shared : dedicated));
      let recoveredAt = Number.POSITIVE_INFINITY;
      try {
        await waitFor(() => outcomes.length >= 100, 10_000, 'load to build up');
        await stopPostgres();
        const downAt = Date.now();
        await waitFor(() => outcomes.some((o) => o.startedAt > downAt && o.status === 503), 10_000, 'requests to fail while down');
        await startPostgres();
        const upAt = Date.now();
        await waitFor(
          () => [shared, dedicated].every((id) => outcomes.some((o) => o.tenantId === id && o.startedAt > upAt && o.status === 200)),
          RECOVERY_MS,
          'requests to succeed again',
        );
        recoveredAt = Date.now();
        await waitFor(() => outcomes.filter((o) => o.startedAt > recoveredAt + 500).length >= 200, 10_000, 'load after recovery');
      } finally {
        stop = true;
        await Promise.all(workers);
      }

      const statuses = new Map<number, number>();
      for (const o of outcomes) statuses.set(o.status, (statuses.get(o.status) ?? 0) + 1);
      const summary = JSON.stringify([...statuses]);
      expect(statuses.get(503) ?? 0, summary).toBeGreaterThan(0);
      // Soft: each is a separate guarantee, and every one broken should be reported.
      expect
        .soft(
          outcomes.filter((o) => o.status !== 0 && o.status !== 200 && o.status !== 503),
          `never a 500: ${summary}`,
        )
        .toEqual([]);
      expect
        .soft(
          outcomes.filter((o) => o.status === 503 && !/^[1-9]\d*$/.test(o.retryAfter ?? '')),
          'Retry-After on every 503',
        )
        .toEqual([]);
      const late = outcomes.filter((o) => o.status === 0 || o.ms >= ANSWER_WITHIN_MS);
      expect.soft(late, `answered after ${ANSWER_WITHIN_MS} ms or not within ${REQUEST_BOUND_MS} ms (status 0): ${summary}`).toEqual([]);
      const afterRecovery = outcomes.filter((o) => o.startedAt > recoveredAt + 500);
      expect(afterRecovery.length).toBeGreaterThanOrEqual(200);
      expect(
        afterRecovery.filter((o) => o.status !== 200),
        'after recovery',
      ).toEqual([]);
    },
  );
});

describe('killed backends', () => {
  it('after every gateway backend is terminated, each request succeeds, at the latest on its first retry', async () => {
    const { shared, dedicated } = await tenantsOnBothPaths();
    const uncached = (await gw.createTenant()).id;
    await waitFor(() => gw.gateway.listener.listening(), RECOVERY_MS, 'the change listener');

    const [killed] = await admin<{ n: number; kinds: string[] }[]>`
      SELECT count(pg_terminate_backend(pid, 5000))::int AS n, array_agg(DISTINCT application_name) AS kinds
      FROM pg_stat_activity
      WHERE datname = current_database() AND application_name LIKE 'tenantgate%' AND pid <> pg_backend_pid()`;
    expect(killed?.kinds.sort()).toEqual(['tenantgate', 'tenantgate-catalog', 'tenantgate-listener', 'tenantgate-shared']);

    const requests: [string, () => Promise<Outcome>][] = [
      ['shared path', () => users(gw, shared)],
      ['dedicated path', () => users(gw, dedicated)],
      ['catalog look-up', () => users(gw, uncached)],
      ['readiness', () => call(gw, '/health/ready')],
    ];
    for (const [what, request] of requests) {
      const first = await request();
      if (first.status !== 200) {
        expectUnavailable(first, `${what}, first try`);
        const second = await request();
        expect(second.status, `${what}, retry: ${JSON.stringify(second)}`).toBe(200);
      }
    }
    await waitFor(() => gw.gateway.listener.listening(), RECOVERY_MS, 'the change listener to reconnect');
  });
});

describe('rotation under load', () => {
  it('three rotations while 10 clients hammer a tenant on a dedicated pool fail no request', { timeout: 30_000 }, async () => {
    const hot = await peer({ promoteRps: 5 });
    const tenant = (await hot.createTenant()).id;
    await hot.gateway.registry.run(tenant, (sql) => sql`SELECT 1`);
    const before = hot.gateway.registry.stats();
    const outcomes: Outcome[] = [];
    let stop = false;
    const worker = async (): Promise<void> => {
      for (let i = 0; i < 20_000 && !stop; i++) outcomes.push(await users(hot, tenant));
    };
    const workers = Array.from({ length: 10 }, () => worker());
    try {
      for (let rotation = 0; rotation < 3; rotation++) {
        const mark = outcomes.length;
        await waitFor(() => outcomes.length >= mark + 50, 10_000, 'requests between rotations');
        const res = await hot.request(`/v1/admin/tenants/${tenant}/rotate`, {
          method: 'POST',
          headers: { authorization: `Bearer ${hot.adminToken}` },
        });
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      }
      // Long enough after the last rotation for the tenant to be promoted to a fresh pool again.
      await waitFor(() => hot.gateway.registry.stats().created > before.created, 10_000, 'a new dedicated pool');
      const mark = outcomes.length;
      await waitFor(() => outcomes.length >= mark + 100, 10_000, 'requests on the new pool');
    } finally {
      stop = true;
      await Promise.all(workers);
    }
    const failed = outcomes.filter((o) => o.status !== 200);
    expect(failed, JSON.stringify(failed.slice(0, 5))).toEqual([]);
    expect(hot.gateway.registry.stats().evicted).toBeGreaterThanOrEqual(before.evicted + 3);
  });
});

describe('too many clients', () => {
  it('a request that needs a new connection while max_connections is exhausted gets 503, not 500', { timeout: 30_000 }, async () => {
    const { shared, dedicated } = await tenantsOnBothPaths();
    // Make both paths need a new connection, then take every slot a non-superuser may use.
    await admin`
      SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
      WHERE datname = current_database() AND application_name IN ('tenantgate', 'tenantgate-shared')`;
    const [slots] = await admin<{ free: number }[]>`
      SELECT current_setting('max_connections')::int
           - current_setting('superuser_reserved_connections')::int
           - coalesce(current_setting('reserved_connections', true)::int, 0)
           - (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') AS free`;
    const free = slots?.free ?? 0;
    expect(free).toBeGreaterThan(0);
    // A superuser may also take the reserved slots: a little extra makes sure none is left for others.
    const hog = postgres(database.url, { max: free + 2, onnotice: () => {}, connection: { application_name: 'faults-hog' } });
    const held: ReservedSql[] = [];
    try {
      const opened = await Promise.allSettled(Array.from({ length: free + 2 }, () => hog.reserve()));
      for (const r of opened) if (r.status === 'fulfilled') held.push(r.value);
      expect(held.length).toBeGreaterThanOrEqual(free);

      for (const [what, id] of [
        ['shared path', shared],
        ['dedicated path', dedicated],
      ] as const) {
        const outcome = await users(gw, id);
        expectUnavailable(outcome, what);
        expect(outcome.code).toBe('database_unavailable');
      }
    } finally {
      for (const connection of held) connection.release();
      await hog.end({ timeout: 5 });
    }
    await recovers(() => users(gw, shared), 'the shared path once slots are free');
    await recovers(() => users(gw, dedicated), 'the dedicated path once slots are free');
  });
});
