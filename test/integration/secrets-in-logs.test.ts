// Every log line of a gateway, captured at trace level (the most verbose) through a whole lifecycle (tenants created,
// users served, bad requests, rotation, suspension, dedicated pools, database failures, deletion,
// shutdown), holds no secret: no tenant or authenticator password, no ciphertext, no key, no token.
// Request log lines carry what happened to whom, and the request id a caller supplies when it is sane.
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminKey } from '../../src/http/admin-auth.js';
import { waitFor } from '../support/database.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const USERS = '/v1/internal/users';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// Never a secret, but sent where secrets would travel (bodies, cookies, query strings): logs must not echo it.
const CANARY = `canary-${randomBytes(8).toString('hex')}`;

interface LogLine {
  level: number;
  msg: string;
  requestId?: unknown;
  tenantId?: unknown;
  method?: unknown;
  route?: unknown;
  status?: unknown;
  ms?: unknown;
  [key: string]: unknown;
}

const captured: string[] = [];
const secrets = new Map<string, string>();
/** Status line, headers and body of every response the lifecycle received. */
const responses: string[] = [];
let requestsSent = 0;
let gw: TestGateway;
let tenantA: { id: string; db_user: string };
let tenantB: { id: string; db_user: string };
let tenantC: { id: string; db_user: string };
const echoed: Record<string, string | null> = {};

function secret(label: string, value: string | undefined): void {
  if (value === undefined || value.length < 8) throw new Error(`secret ${label} is missing or too short to search for`);
  secrets.set(label, value);
}

async function call(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  requestsSent++;
  const res = await gw.request(path, init);
  const body = await res.text();
  responses.push(`${res.status}\n${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${body}`);
  return new Response(res.status === 204 ? null : body, { status: res.status, headers: res.headers });
}

function admin(path: string, init: RequestInit & { json?: unknown } = {}, token = gw.adminToken): Promise<Response> {
  return call(`/v1/admin/tenants${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` } });
}

function tenantCall(tenantId: string, init: RequestInit & { json?: unknown } = {}, query = ''): Promise<Response> {
  return call(`${USERS}${query}`, { ...init, headers: { ...(init.headers as Record<string, string>), 'x-tenant-id': tenantId } });
}

async function expectStatus(res: Promise<Response>, status: number): Promise<Response> {
  const r = await res;
  expect(r.status, await r.clone().text()).toBe(status);
  return r;
}

/** Reads the tenant's sealed password and records it and its plaintext as secrets. */
async function recordTenantSecrets(label: string, tenantId: string): Promise<void> {
  const [row] = await gw.db.admin<{ sealed: string }[]>`SELECT db_password_encrypted AS sealed FROM tenants WHERE id = ${tenantId}`;
  if (!row) throw new Error(`tenant ${label} is not in the catalog`);
  secret(`${label} sealed password`, row.sealed);
  secret(`${label} password`, gw.keys.open(row.sealed));
}

/** Holds an exclusive lock on users until released: every tenant query blocks, holding its connection. */
async function lockUsers(): Promise<() => Promise<void>> {
  const reserved = await gw.db.admin.reserve();
  await reserved`BEGIN`;
  await reserved`LOCK TABLE users IN ACCESS EXCLUSIVE MODE`;
  return async () => {
    await reserved`COMMIT`;
    reserved.release();
  };
}

async function lifecycle(): Promise<void> {
  const key = adminKey(gw.adminSecret);
  secret('admin JWT secret', gw.adminSecret);
  secret('admin token', gw.adminToken);
  secret('credentials key (hex)', gw.credentialsKey.toString('hex'));
  secret('credentials key (base64)', gw.credentialsKey.toString('base64'));
  secret('database password', decodeURIComponent(new URL(gw.db.url).password));
  const [auth] = await gw.db.admin<{ value: string }[]>`SELECT value FROM gateway_settings WHERE key = 'authenticator_password'`;
  secret('authenticator sealed password', auth?.value);
  secret('authenticator password', gw.keys.open(auth?.value ?? ''));

  // Tenants through the admin API.
  const created = async (name: string): Promise<{ id: string; db_user: string }> =>
    (await (await expectStatus(admin('', { method: 'POST', json: { name } }), 201)).json()) as { id: string; db_user: string };
  tenantA = await created('logs-a');
  tenantB = await created('logs-b');
  tenantC = await created('logs-c');
  await recordTenantSecrets('A', tenantA.id);
  await recordTenantSecrets('B', tenantB.id);
  await recordTenantSecrets('C', tenantC.id);
  await expectStatus(admin('?page=1&page_size=10'), 200);

  // Users, with a caller-supplied request id and with ones that must be replaced.
  await expectStatus(tenantCall(tenantA.id, { method: 'POST', json: { first_name: 'Ada', last_name: CANARY.slice(0, 40) } }), 201);
  await expectStatus(tenantCall(tenantB.id, { method: 'POST', json: { first_name: 'Grace', last_name: 'Hopper' } }), 201);
  echoed.valid = (await expectStatus(tenantCall(tenantA.id, { headers: { 'x-request-id': 'abc-123' } }), 200)).headers.get('x-request-id');
  echoed.max = (await expectStatus(tenantCall(tenantA.id, { headers: { 'x-request-id': 'r'.repeat(128) } }), 200)).headers.get('x-request-id');
  echoed.long = (await expectStatus(tenantCall(tenantA.id, { headers: { 'x-request-id': 'r'.repeat(200) } }), 200)).headers.get('x-request-id');
  echoed.spaces = (await expectStatus(tenantCall(tenantA.id, { headers: { 'x-request-id': 'abc 123' } }), 200)).headers.get('x-request-id');
  echoed.injection = (await expectStatus(tenantCall(tenantA.id, { headers: { 'x-request-id': '"},"level":60,"x":"' } }), 200)).headers.get('x-request-id');
  // Credentials sent where they do not belong, and canaries in cookies, bodies and query strings.
  await expectStatus(tenantCall(tenantB.id, { headers: { authorization: `Bearer ${gw.adminToken}`, cookie: `session=${CANARY}` } }, `?search=${CANARY}`), 200);

  // Bad requests.
  const wrongSecretToken = await new SignJWT({ role: 'admin' })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(randomBytes(32).toString('hex')));
  const expiredToken = await new SignJWT({ role: 'admin' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
    .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
    .sign(key);
  const nonAdminToken = await new SignJWT({ role: 'user' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(key);
  const bogusToken = `${randomBytes(12).toString('base64url')}.${randomBytes(12).toString('base64url')}.${randomBytes(12).toString('base64url')}`;
  secret('token signed with a wrong secret', wrongSecretToken);
  secret('expired admin token', expiredToken);
  secret('non-admin token', nonAdminToken);
  secret('bogus token', bogusToken);
  await expectStatus(admin('', {}, bogusToken), 401);
  await expectStatus(admin('', {}, wrongSecretToken), 401);
  await expectStatus(admin('', {}, expiredToken), 401);
  await expectStatus(admin('', {}, nonAdminToken), 403);
  await expectStatus(call('/v1/admin/tenants', { headers: { authorization: `Basic ${Buffer.from(`admin:${gw.adminSecret}`).toString('base64')}` } }), 401);
  await expectStatus(tenantCall(tenantA.id, {}, `?sort_column=${CANARY}`), 400);
  await expectStatus(tenantCall(tenantA.id, {}, `?${CANARY}=1`), 400);
  await expectStatus(tenantCall(tenantA.id, { method: 'POST', json: { first_name: 'x', last_name: 'y', [CANARY]: 1 } }), 400);
  await expectStatus(tenantCall(tenantA.id, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"first_name":"${CANARY}"` }), 400);
  await expectStatus(tenantCall(tenantA.id, { method: 'POST', body: CANARY }), 415);
  await expectStatus(call(USERS), 400);
  await expectStatus(tenantCall('not-a-uuid'), 400);
  await expectStatus(tenantCall('6f1c7a52-9d0e-4b8a-a1f3-2c4d5e6f7a8b'), 404);
  await expectStatus(call(`/nowhere/${CANARY}`), 404);

  // Rotation: the old password and ciphertext stay secrets; the new ones join them.
  await expectStatus(admin(`/${tenantA.id}/rotate`, { method: 'POST' }), 200);
  await recordTenantSecrets('A after rotation', tenantA.id);
  await expectStatus(tenantCall(tenantA.id), 200);

  // Suspension and resumption.
  await expectStatus(admin(`/${tenantB.id}/suspend`, { method: 'POST' }), 200);
  await expectStatus(tenantCall(tenantB.id), 403);
  await expectStatus(admin(`/${tenantB.id}/resume`, { method: 'POST' }), 200);
  await expectStatus(tenantCall(tenantB.id), 200);

  // A dedicated pool: A logs in with its own (rotated) password.
  await gw.gateway.registry.run(tenantA.id, (sql) => sql`SELECT 1`);
  await expectStatus(tenantCall(tenantA.id), 200);

  // Database failures. The shared pool's one connection blocked on a lock: B waits, C times out (503).
  const release = await lockUsers();
  const blockedB = tenantCall(tenantB.id);
  await waitFor(() => gw.gateway.registry.stats().sharedInUse === 1, 5_000, "B's request to hold the shared connection");
  await expectStatus(tenantCall(tenantC.id), 503);
  // A's dedicated connection is killed mid-query: a PostgreSQL error becomes 503 database_unavailable.
  const blockedA = tenantCall(tenantA.id);
  let pid: number | undefined;
  await waitFor(
    async () => {
      const rows = await gw.db.admin<{ pid: number }[]>`
      SELECT pid FROM pg_stat_activity WHERE usename = ${tenantA.db_user} AND wait_event_type = 'Lock'`;
      pid = rows[0]?.pid;
      return pid !== undefined;
    },
    5_000,
    "A's query to wait on the lock",
  );
  await gw.db.admin`SELECT pg_terminate_backend(${pid as number})`;
  const killed = await blockedA;
  await release();
  await expectStatus(blockedB, 200);
  expect(killed.status).toBe(503);

  // A failed login in the background: C's role password no longer matches its ciphertext, so its
  // promotion to a dedicated pool fails (logged) while the shared pool keeps serving it.
  await gw.db.admin.unsafe(`ALTER ROLE "${tenantC.db_user}" PASSWORD '${CANARY}'`);
  for (let i = 0; i < 12; i++) await expectStatus(tenantCall(tenantC.id), 200);
  await waitFor(() => captured.some((l) => l.includes('dedicated pool could not be created')), 5_000, "C's failed promotion to be logged");

  // Metrics and health answer without secrets too.
  await expectStatus(call('/metrics'), 200);
  await expectStatus(call('/health'), 200);
  await expectStatus(call('/health/ready'), 200);

  // Deletion, and shutdown.
  await expectStatus(admin(`/${tenantA.id}`, { method: 'DELETE' }), 204);
  await expectStatus(admin(`/${tenantC.id}`, { method: 'DELETE' }), 204);
  await expectStatus(tenantCall(tenantA.id), 404);
}

function parsed(): LogLine[] {
  return captured
    .join('')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as LogLine);
}

function requestLines(): LogLine[] {
  return parsed().filter((l) => l.msg === 'request' || l.msg === 'request failed');
}

beforeAll(async () => {
  gw = await startTestGateway({
    logDestination: { write: (line: string) => void captured.push(line) },
    logLevel: 'trace',
    pool: { sharedPoolMax: 1, maxConnectionsTotal: 20, promoteRps: 8, pipelineDepth: 1 },
    queue: { timeoutMs: 300 },
  });
  try {
    await lifecycle();
  } finally {
    // Takes the 10 s drain timeout: postgres.js's end() waits it out for a pool whose connection the
    // server killed mid-query (porsager/postgres#1097), here tenant A's dedicated pool.
    await gw.close();
  }
});

describe('the captured logs of a whole lifecycle', () => {
  it('were captured: startup, requests, failures and shutdown all logged something', () => {
    const messages = new Set(parsed().map((l) => l.msg));
    expect(messages).toContain('migrations applied');
    expect(messages).toContain('request');
    expect(messages).toContain('request failed');
    expect(messages).toContain('request failed: dependency unavailable');
    expect(messages).toContain('dedicated pool could not be created; tenant stays on the shared pool');
    expect(secrets.size).toBeGreaterThanOrEqual(17);
  });

  it('contain no password, ciphertext, key or token', () => {
    const text = captured.join('');
    const found = [...secrets].filter(([, value]) => text.includes(value)).map(([label]) => label);
    expect(found).toEqual([]);
  });

  it('contain no request body, cookie or query string', () => {
    expect(captured.join('').includes(CANARY)).toBe(false);
  });

  it('are one JSON object per line', () => {
    const lines = captured
      .join('')
      .split('\n')
      .filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(requestsSent);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
  });
});

describe('request log lines', () => {
  it('are one per request, each with requestId, method, route, status and ms', () => {
    const lines = requestLines();
    expect(lines).toHaveLength(requestsSent);
    for (const line of lines) {
      expect(line.requestId, JSON.stringify(line)).toEqual(expect.any(String));
      expect((line.requestId as string).length).toBeGreaterThan(0);
      expect(line.method).toMatch(/^(GET|POST|DELETE)$/);
      expect(line.route).toEqual(expect.any(String));
      expect(line.status).toEqual(expect.any(Number));
      expect(line.ms).toEqual(expect.any(Number));
      expect(line.ms as number).toBeGreaterThanOrEqual(0);
      expect(line.level).toBe((line.status as number) >= 500 ? 40 : 30);
    }
    expect(new Set(lines.map((l) => l.requestId)).size).toBe(lines.length);
  });

  it('name the tenant of every tenant request that named a valid one', () => {
    const tenantIds = new Set([tenantA.id, tenantB.id, tenantC.id, '6f1c7a52-9d0e-4b8a-a1f3-2c4d5e6f7a8b']);
    const tenantRoutes = requestLines().filter((l) => l.route === USERS || l.route === `${USERS}/`);
    expect(tenantRoutes.length).toBeGreaterThan(20);
    for (const line of tenantRoutes) {
      if (line.status === 400 && line.tenantId === undefined) continue; // missing or malformed x-tenant-id
      expect(tenantIds.has(line.tenantId as string), JSON.stringify(line)).toBe(true);
    }
    const statuses = (id: string): unknown[] => tenantRoutes.filter((l) => l.tenantId === id).map((l) => l.status);
    expect(statuses(tenantB.id)).toEqual(expect.arrayContaining([201, 200, 403]));
    expect(statuses(tenantA.id)).toEqual(expect.arrayContaining([201, 200, 400, 415, 503, 404]));
    expect(statuses(tenantC.id)).toContain(503);
  });

  it('log and echo a sane caller-supplied x-request-id', () => {
    expect(echoed.valid).toBe('abc-123');
    expect(echoed.max).toBe('r'.repeat(128));
    const line = requestLines().find((l) => l.requestId === 'abc-123');
    expect(line).toMatchObject({ tenantId: tenantA.id, method: 'GET', route: USERS, status: 200 });
  });

  it('replace an unusable x-request-id with a fresh UUID, and log that one', () => {
    const replaced = [echoed.long, echoed.spaces, echoed.injection];
    for (const id of replaced) {
      expect(id).toMatch(UUID);
      expect(requestLines().filter((l) => l.requestId === id)).toHaveLength(1);
    }
    expect(new Set(replaced).size).toBe(3);
    const text = captured.join('');
    expect(text).not.toContain('r'.repeat(129));
    expect(text).not.toContain('abc 123');
    expect(parsed().some((l) => l.level === 60)).toBe(false);
  });
});

describe('responses', () => {
  it('never contain a secret: not in errors, metrics, headers or any other answer', () => {
    expect(responses.length).toBe(requestsSent);
    const text = responses.join('\n');
    const found = [...secrets].filter(([, value]) => text.includes(value)).map(([label]) => label);
    expect(found).toEqual([]);
  });

  it('include the metrics page and error bodies in that check', () => {
    expect(responses.some((r) => r.includes('tenantgate_http_requests_total'))).toBe(true);
    expect(responses.some((r) => r.startsWith('503') && r.includes('"database_unavailable"'))).toBe(true);
    expect(responses.some((r) => r.startsWith('503') && r.includes('"queue_timeout"'))).toBe(true);
    expect(responses.some((r) => r.startsWith('401'))).toBe(true);
  });
});
