// Tenants over three PostgreSQL servers through HTTP: the catalog's own (main, the shared test server)
// and two embedded clusters this file starts. Servers are added, listed and removed through the admin
// API (the URL's password never shown or logged); tenants of both models are placed explicitly and by
// the policy; the users API, isolation, rotation, suspension and deletion work wherever a tenant lives;
// and when one data server stops, only its tenants get 503, promptly, and they recover when it is back.
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres, { type Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseKeyRing } from '../../src/crypto/key-ring.js';
import { waitFor } from '../support/database.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startPostgresServer, type PostgresServer } from '../support/postgres-server.js';
import { freePort } from '../support/ports.js';
import { runCli, type RunResult } from '../support/processes.js';

const SERVERS = '/v1/admin/servers';
const TENANTS = '/v1/admin/tenants';
const USERS = '/v1/internal/users';
const CONNECT_TIMEOUT_S = 2;

type Model = 'rls' | 'schema';
interface CreatedTenant {
  readonly id: string;
  readonly name: string;
  readonly db_user: string;
  readonly server: string;
  readonly model: Model;
}

/** One embedded cluster of this file: stopped and started again on the same data. */
class DataServer {
  server: PostgresServer | undefined;
  /** Superuser connection to its `tenantgate` database (postgres.js reconnects after a restart). */
  admin!: Sql;
  url = '';
  constructor(
    readonly dir: string,
    readonly port: number,
    readonly password: string,
  ) {}
  async start(): Promise<void> {
    this.server = await startPostgresServer({ dataDir: this.dir, port: this.port, superuserPassword: this.password, database: 'tenantgate' });
    this.url = this.server.url;
    this.admin ??= postgres(this.url, { max: 2, onnotice: () => {} });
  }
  async stop(): Promise<void> {
    const running = this.server;
    this.server = undefined;
    await running?.stop();
  }
}

// Characters a URL must escape, so the password's round trip through the catalog is tested too.
const passwordOne = `one-${randomBytes(12).toString('base64url')}@:/%?#`;
const passwordTwo = `two-${randomBytes(12).toString('base64url')}`;
let one: DataServer;
let two: DataServer;
let gw: TestGateway;
const logLines: string[] = [];
/** Status, headers and body of every answer this file received. */
const answers: string[] = [];
let counter = 0;

async function call(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const res = await gw.request(path, init);
  const body = await res.text();
  answers.push(`${res.status}\n${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${body}`);
  return new Response(res.status === 204 ? null : body, { status: res.status, headers: res.headers });
}

const admin = (method: string, path: string, json?: unknown): Promise<Response> =>
  call(path, { method, headers: { authorization: `Bearer ${gw.adminToken}` }, ...(json === undefined ? {} : { json }) });

const asTenant = (id: string, method: string, path: string, json?: unknown): Promise<Response> =>
  call(path, { method, headers: { 'x-tenant-id': id }, ...(json === undefined ? {} : { json }) });

async function createTenant(model: Model, server?: string): Promise<CreatedTenant> {
  const res = await admin('POST', TENANTS, { name: `srv-${++counter}-${randomBytes(3).toString('hex')}`, model, ...(server === undefined ? {} : { server }) });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as CreatedTenant;
}

/** The superuser connection to the server a tenant lives on. */
function adminOf(server: string): Sql {
  if (server === 'main') return gw.db.admin;
  if (server === 'one') return one.admin;
  if (server === 'two') return two.admin;
  throw new Error(`no server ${server}`);
}

/** The users of a tenant, as stored on `server` (its own schema under the schema model). */
async function storedUsers(server: string, tenant: CreatedTenant): Promise<string[]> {
  const sql = adminOf(server);
  if (tenant.model === 'schema') {
    const schema = `s_${tenant.db_user.slice(2)}`;
    const [exists] = await sql`SELECT 1 FROM pg_namespace WHERE nspname = ${schema}`;
    if (!exists) return [];
    const rows = await sql<{ first_name: string }[]>`SELECT first_name FROM ${sql(schema)}.users ORDER BY first_name`;
    return rows.map((r) => r.first_name);
  }
  const rows = await sql<{ first_name: string }[]>`SELECT first_name FROM public.users WHERE tenant_id = ${tenant.id} ORDER BY first_name`;
  return rows.map((r) => r.first_name);
}

async function roleExists(server: string, role: string): Promise<boolean> {
  const rows = await adminOf(server)`SELECT 1 FROM pg_roles WHERE rolname = ${role}`;
  return rows.length === 1;
}

async function newDataServer(prefix: string, password: string): Promise<DataServer> {
  const dir = await mkdtemp(join(tmpdir(), `tenantgate-${prefix}-`));
  // mkdtemp makes it 0700; as root, PostgreSQL runs as the postgres system user and must get through.
  await chmod(dir, 0o755);
  const server = new DataServer(dir, await freePort(), password);
  await server.start();
  return server;
}

beforeAll(async () => {
  [one, two] = await Promise.all([newDataServer('one', passwordOne), newDataServer('two', passwordTwo)]);
  gw = await startTestGateway({
    pool: { connectTimeoutSeconds: CONNECT_TIMEOUT_S, promoteRps: 1_000_000 },
    logLevel: 'trace',
    logDestination: { write: (line: string) => void logLines.push(line) },
  });
}, 180_000);

afterAll(async () => {
  try {
    await gw?.close();
  } finally {
    for (const server of [one, two]) {
      if (!server) continue;
      await server.admin?.end({ timeout: 1 }).catch(() => undefined);
      await server.stop().catch(() => undefined);
      await rm(server.dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }
});

describe('adding servers', () => {
  it('refuses bodies that are not a server, naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ url: one.url, max_connections: 20 }, 'name'],
      [{ name: 'One', url: one.url, max_connections: 20 }, 'name'],
      [{ name: 'one', max_connections: 20 }, 'url'],
      [{ name: 'one', url: 'http://127.0.0.1/tenantgate', max_connections: 20 }, 'url'],
      [{ name: 'one', url: 'postgres://127.0.0.1/tenantgate', max_connections: 20 }, 'url'],
      [{ name: 'one', url: 'postgres://postgres:%zz@127.0.0.1/tenantgate', max_connections: 20 }, 'url'],
      [{ name: 'one', url: 'postgres://postgres@127.0.0.1/', max_connections: 20 }, 'url'],
      [{ name: 'one', url: one.url }, 'max_connections'],
      [{ name: 'one', url: one.url, max_connections: 3 }, 'max_connections'],
      [{ name: 'one', url: one.url, max_connections: 20, password: 'x' }, 'password'],
    ];
    for (const [body, field] of cases) {
      const res = await admin('POST', SERVERS, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      expect(error.message, JSON.stringify(body)).toContain(field);
    }
  });

  it('refuses a server it cannot log in to with 422, listing nothing', async () => {
    const closed = `postgres://postgres:${encodeURIComponent(passwordTwo)}@127.0.0.1:${await freePort()}/tenantgate`;
    const wrongPassword = two.url.replace(encodeURIComponent(passwordTwo), 'not-the-password');
    const noDatabase = two.url.replace(/\/tenantgate$/, '/no_such_database');
    for (const url of [closed, wrongPassword, noDatabase]) {
      const res = await admin('POST', SERVERS, { name: 'broken', url, max_connections: 20 });
      expect(res.status, url.replace(/:[^@/]*@/, ':…@')).toBe(422);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('server_unreachable');
    }
    expect((await admin('GET', `${SERVERS}/broken`)).status).toBe(404);
  });

  it('adds two data servers: migrated, the shared role set up, the password sealed and never shown', async () => {
    for (const [name, server] of [
      ['one', one],
      ['two', two],
    ] as const) {
      const res = await admin('POST', SERVERS, { name, url: server.url, max_connections: 24 });
      expect(res.status, await res.clone().text()).toBe(201);
      const added = (await res.json()) as Record<string, unknown>;
      expect(added).toMatchObject({ name, max_connections: 24, tenants: 0, health: 'up', pools: null });
      expect(added.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/tenantgate`);
      // The same schema as main, and the shared role the gateway's shared pool logs in as.
      const [migrated] = await server.admin<{ servers: string | null; users: string | null }[]>`
        SELECT to_regclass('public.servers')::text AS servers, to_regclass('public.users')::text AS users`;
      expect(migrated).toEqual({ servers: 'servers', users: 'users' });
      const [shared] = await server.admin<{ role: string; sealed: string }[]>`
        SELECT r.value AS role, p.value AS sealed FROM gateway_settings r, gateway_settings p
        WHERE r.key = 'authenticator_role' AND p.key = 'authenticator_password'`;
      expect(await server.admin`SELECT 1 FROM pg_authid WHERE rolname = ${shared?.role ?? ''} AND rolpassword LIKE 'SCRAM-SHA-256$%'`).toHaveLength(1);
      expect(shared?.sealed).toBeTruthy();
    }
    const [stored] = await gw.db.admin<{ url: string; password_sealed: string }[]>`SELECT url, password_sealed FROM servers WHERE name = 'one'`;
    expect(stored?.url).not.toContain(encodeURIComponent(passwordOne));
    expect(stored?.password_sealed).not.toContain(passwordOne);
    expect(gw.keys.open(stored?.password_sealed ?? '')).toBe(passwordOne);
  });

  it('refuses a second server of the same name or the same URL with 409', async () => {
    const sameName = await admin('POST', SERVERS, { name: 'one', url: two.url.replace('/tenantgate', '/other'), max_connections: 20 });
    expect(sameName.status).toBe(409);
    expect(((await sameName.json()) as { error: { code: string } }).error.code).toBe('server_exists');
    const sameUrl = await admin('POST', SERVERS, { name: 'one_again', url: one.url, max_connections: 20 });
    expect(sameUrl.status).toBe(409);
    // The catalog's own database, under another URL: it is main already.
    const catalog = await admin('POST', SERVERS, { name: 'catalog', url: `${gw.db.url}?sslmode=disable`, max_connections: 20 });
    expect(catalog.status, await catalog.clone().text()).toBe(409);
    expect(((await catalog.json()) as { error: { message: string } }).error.message).toContain('main');
  });

  it('lists main first, then the data servers, each with its tenants, budget and health', async () => {
    const res = await admin('GET', SERVERS);
    expect(res.status).toBe(200);
    const { records } = (await res.json()) as { records: Record<string, unknown>[] };
    expect(records.map((r) => r.name)).toEqual(['main', 'one', 'two']);
    expect(records[0]).toMatchObject({ url: null, max_connections: null, health: 'up' });
    // main's pools are built at start-up: catalog and shared pool reserved off its budget.
    expect(records[0]?.pools).toMatchObject({ budget_total: 40 });
    for (const r of records.slice(1)) expect(r).toMatchObject({ max_connections: 24, health: 'up' });
    const single = await admin('GET', `${SERVERS}/one`);
    expect(await single.json()).toMatchObject({ name: 'one', health: 'up' });
  });

  it('answers 404 for an unknown server, 409 for removing main, 405 with Allow for other methods', async () => {
    const unknown = await admin('GET', `${SERVERS}/nowhere`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('server_not_found');
    expect((await admin('DELETE', `${SERVERS}/nowhere`)).status).toBe(404);
    const removeMain = await admin('DELETE', `${SERVERS}/main`);
    expect(removeMain.status).toBe(409);
    expect(((await removeMain.json()) as { error: { code: string } }).error.code).toBe('server_in_use');
    const put = await admin('PUT', `${SERVERS}/one`, {});
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, DELETE, HEAD');
    const patch = await admin('PATCH', SERVERS, {});
    expect(patch.headers.get('allow')).toBe('GET, POST, HEAD');
    expect((await call(SERVERS)).status).toBe(401);
  });
});

describe('tenants on three servers', () => {
  const placed: CreatedTenant[] = [];

  it('creates tenants of both models on each server named, and shows server and model', async () => {
    for (const server of ['main', 'one', 'two']) {
      for (const model of ['rls', 'schema'] as const) {
        const tenant = await createTenant(model, server);
        expect(tenant).toMatchObject({ server, model });
        const got = await admin('GET', `${TENANTS}/${tenant.id}`);
        expect(await got.json()).toMatchObject({ id: tenant.id, server, model });
        // Its role is on its server only (roles are per cluster).
        for (const other of ['main', 'one', 'two']) expect(await roleExists(other, tenant.db_user), `${tenant.db_user} on ${other}`).toBe(other === server);
        placed.push(tenant);
      }
    }
  });

  it('places a tenant without a server on the one with the fewest tenants, main first among equals', async () => {
    const counts = async (): Promise<Record<string, number>> => {
      const { records } = (await (await admin('GET', SERVERS)).json()) as { records: { name: string; tenants: number }[] };
      return Object.fromEntries(records.map((r) => [r.name, r.tenants]));
    };
    const before = await counts();
    // Even the servers out first, so the order the policy picks in is known.
    const most = Math.max(...Object.values(before));
    for (const [server, n] of Object.entries(before)) for (let i = n; i < most; i++) placed.push(await createTenant('rls', server));
    const chosen: string[] = [];
    for (let i = 0; i < 4; i++) chosen.push((await createTenant(i % 2 === 0 ? 'schema' : 'rls')).server);
    expect(chosen).toEqual(['main', 'one', 'two', 'main']);
    const after = await counts();
    expect(after).toEqual({ main: most + 2, one: most + 1, two: most + 1 });
  });

  it('refuses an unknown server with 422 and a malformed one with 400', async () => {
    const unknown = await admin('POST', TENANTS, { name: `nowhere-${randomBytes(3).toString('hex')}`, server: 'nowhere' });
    expect(unknown.status).toBe(422);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('unknown_server');
    const malformed = await admin('POST', TENANTS, { name: `bad-${randomBytes(3).toString('hex')}`, server: 'No Such' });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { message: string } }).error.message).toContain('server');
  });

  it('serves the users API to tenants on every server: create, list, get, patch, delete', async () => {
    for (const tenant of placed.slice(0, 6)) {
      const created = await asTenant(tenant.id, 'POST', USERS, { first_name: 'Ada', last_name: tenant.server });
      expect(created.status, `${tenant.server}/${tenant.model}: ${await created.clone().text()}`).toBe(201);
      const user = (await created.json()) as { id: string };
      const list = (await (await asTenant(tenant.id, 'GET', USERS)).json()) as { records: { id: string }[] };
      expect(list.records.map((u) => u.id)).toEqual([user.id]);
      expect((await asTenant(tenant.id, 'GET', `${USERS}/${user.id}`)).status).toBe(200);
      const patched = await asTenant(tenant.id, 'PATCH', `${USERS}/${user.id}`, { confirmed: true });
      expect(await patched.json()).toMatchObject({ id: user.id, confirmed: true });
      expect((await asTenant(tenant.id, 'DELETE', `${USERS}/${user.id}`)).status).toBe(204);
      expect((await asTenant(tenant.id, 'GET', `${USERS}/${user.id}`)).status).toBe(404);
    }
  });

  it('keeps every tenant to its own rows on its own server: no tenant sees another, on any server', async () => {
    const tenants = placed.slice(0, 6);
    const ids = new Map<string, string>();
    for (const tenant of tenants) {
      const res = await asTenant(tenant.id, 'POST', USERS, { first_name: `own-${tenant.id}`, last_name: 'x' });
      expect(res.status).toBe(201);
      ids.set(tenant.id, ((await res.json()) as { id: string }).id);
    }
    for (const tenant of tenants) {
      const list = (await (await asTenant(tenant.id, 'GET', `${USERS}?page_size=100`)).json()) as { records: { first_name: string }[] };
      expect(list.records.map((u) => u.first_name)).toEqual([`own-${tenant.id}`]);
      for (const other of tenants) {
        if (other === tenant) continue;
        // Another tenant's user, by id: not found, whichever server either lives on.
        expect((await asTenant(tenant.id, 'GET', `${USERS}/${ids.get(other.id) ?? ''}`)).status).toBe(404);
        expect((await asTenant(tenant.id, 'DELETE', `${USERS}/${ids.get(other.id) ?? ''}`)).status).toBe(404);
      }
      // Stored on its server only.
      for (const server of ['main', 'one', 'two']) {
        expect(await storedUsers(server, tenant), `${tenant.server}/${tenant.model} on ${server}`).toEqual(
          server === tenant.server ? [`own-${tenant.id}`] : [],
        );
      }
    }
  });

  it('rotates a data-server tenant: the new password is its role password on its server', async () => {
    const tenant = placed.find((t) => t.server === 'one' && t.model === 'rls') as CreatedTenant;
    const verifier = async (): Promise<string> => {
      const [row] = await one.admin<{ v: string }[]>`SELECT rolpassword AS v FROM pg_authid WHERE rolname = ${tenant.db_user}`;
      return row?.v ?? '';
    };
    const before = await verifier();
    const res = await admin('POST', `${TENANTS}/${tenant.id}/rotate`);
    expect(res.status).toBe(200);
    expect(await verifier()).not.toBe(before);
    // The tenant's own login (a dedicated pool) works with the rotated password on its server.
    const who = await gw.gateway.registry.run(
      tenant.id,
      async (sql) => (await sql<{ u: string; port: number }[]>`SELECT current_user AS u, inet_server_port() AS port`)[0],
    );
    expect(who).toEqual({ u: tenant.db_user, port: one.port });
    expect((await asTenant(tenant.id, 'POST', USERS, { first_name: 'after', last_name: 'rotation' })).status).toBe(201);
  });

  it('suspends and resumes a data-server tenant', async () => {
    const tenant = placed.find((t) => t.server === 'two' && t.model === 'schema') as CreatedTenant;
    expect((await admin('POST', `${TENANTS}/${tenant.id}/suspend`)).status).toBe(200);
    const refused = await asTenant(tenant.id, 'GET', USERS);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('tenant_suspended');
    expect((await admin('POST', `${TENANTS}/${tenant.id}/resume`)).status).toBe(200);
    expect((await asTenant(tenant.id, 'GET', USERS)).status).toBe(200);
  });

  it('deletes a data-server tenant: its role, schema or rows and its record there are gone', async () => {
    for (const model of ['rls', 'schema'] as const) {
      const tenant = await createTenant(model, 'two');
      expect((await asTenant(tenant.id, 'POST', USERS, { first_name: 'gone', last_name: 'soon' })).status).toBe(201);
      expect(await storedUsers('two', tenant)).toEqual(['gone']);
      expect((await admin('DELETE', `${TENANTS}/${tenant.id}`)).status).toBe(204);
      expect(await roleExists('two', tenant.db_user)).toBe(false);
      expect(await storedUsers('two', tenant)).toEqual([]);
      expect(await two.admin`SELECT 1 FROM public.tenants WHERE id = ${tenant.id}`).toHaveLength(0);
      expect(await gw.db.admin`SELECT 1 FROM tenants WHERE id = ${tenant.id}`).toHaveLength(0);
      expect((await asTenant(tenant.id, 'GET', USERS)).status).toBe(404);
    }
  });
});

describe('removing a server', () => {
  it('is refused while tenants live there, and works once it is empty', async () => {
    // A database of its own on the second cluster (a server is a database a gateway may own).
    await two.admin`CREATE DATABASE three`;
    expect((await admin('POST', SERVERS, { name: 'three', url: two.url.replace(/\/tenantgate$/, '/three'), max_connections: 8 })).status).toBe(201);
    const tenant = await createTenant('rls', 'three');
    expect((await asTenant(tenant.id, 'POST', USERS, { first_name: 'on', last_name: 'three' })).status).toBe(201);
    expect(gw.gateway.poolSets.get('three')).toBeDefined();
    const refused = await admin('DELETE', `${SERVERS}/three`);
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('server_in_use');
    expect((await admin('DELETE', `${TENANTS}/${tenant.id}`)).status).toBe(204);
    expect((await admin('DELETE', `${SERVERS}/three`)).status).toBe(204);
    expect((await admin('GET', `${SERVERS}/three`)).status).toBe(404);
    // This instance let go of its pools and owner connection there.
    expect(gw.gateway.poolSets.get('three')).toBeUndefined();
    await waitFor(async () => (await two.admin`SELECT 1 FROM pg_stat_activity WHERE datname = 'three'`).length === 0, 5000, 'connections to three closed');
    const placedThere = await admin('POST', TENANTS, { name: `late-${randomBytes(3).toString('hex')}`, server: 'three' });
    expect(placedThere.status).toBe(422);
  });
});

describe('the CLI', () => {
  const cli = (args: string[]): Promise<RunResult> =>
    runCli(
      args,
      { ...process.env, DATABASE_URL: gw.db.url, CREDENTIALS_KEY: gw.credentialsKey.toString('hex'), ADMIN_JWT_SECRET: gw.adminSecret, LOG_LEVEL: 'trace' },
      60_000,
    );
  const outputs: string[] = [];
  const ok = async (args: string[]): Promise<Record<string, unknown>> => {
    const result = await cli(args);
    outputs.push(result.stdout, result.stderr);
    expect(result.code, `${args.slice(0, 2).join(' ')}: ${result.stderr}`).toBe(0);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };

  it('adds a server, places a tenant there, serves, rotates and deletes it, and removes the server', { timeout: 120_000 }, async () => {
    await one.admin`CREATE DATABASE four`;
    const url = one.url.replace(/\/tenantgate$/, '/four');
    const added = await ok(['servers', 'add', 'four', url, '--max-connections', '10']);
    expect(added).toMatchObject({ name: 'four', url: `postgres://postgres@127.0.0.1:${one.port}/four`, max_connections: 10, tenants: 0, health: 'up' });

    const listed = (await ok(['servers', 'list'])) as { records: { name: string; health: string }[] };
    expect(listed.records.map((r) => [r.name, r.health])).toEqual([
      ['main', 'up'],
      ['four', 'up'],
      ['one', 'up'],
      ['two', 'up'],
    ]);

    const tenant = (await ok([
      'tenant',
      'create',
      `cli-${randomBytes(3).toString('hex')}`,
      '--model',
      'schema',
      '--server',
      'four',
    ])) as unknown as CreatedTenant;
    expect(tenant).toMatchObject({ server: 'four', model: 'schema' });
    const four = postgres(url, { max: 1, onnotice: () => {} });
    try {
      expect(await four`SELECT 1 FROM pg_roles WHERE rolname = ${tenant.db_user}`).toHaveLength(1);
      // The gateway, which never heard of server four, serves the tenant there on its first request.
      expect((await asTenant(tenant.id, 'POST', USERS, { first_name: 'from', last_name: 'cli' })).status).toBe(201);
      expect((await four<{ n: number }[]>`SELECT count(*)::int AS n FROM ${four(`s_${tenant.db_user.slice(2)}`)}.users`)[0]?.n).toBe(1);
      const busy = await cli(['servers', 'remove', 'four']);
      expect([busy.code, busy.stderr]).toEqual([1, expect.stringContaining('server_in_use')]);
      await ok(['tenant', 'rotate', tenant.id]);
      expect((await asTenant(tenant.id, 'GET', USERS)).status).toBe(200);
      await ok(['tenant', 'delete', tenant.id]);
      expect(await four`SELECT 1 FROM pg_roles WHERE rolname = ${tenant.db_user}`).toHaveLength(0);
      expect(await four`SELECT 1 FROM public.tenants WHERE id = ${tenant.id}`).toHaveLength(0);
    } finally {
      await four.end({ timeout: 1 });
    }
    expect(await ok(['servers', 'remove', 'four'])).toEqual({ name: 'four', removed: true });
    const main = await cli(['servers', 'remove', 'main']);
    expect([main.code, main.stderr]).toEqual([1, expect.stringContaining('server_in_use')]);
    const unknown = await cli(['tenant', 'create', 'x', '--server', 'four']);
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringContaining('unknown_server')]);
    const bad = await cli(['servers', 'add', 'five', 'http://x/y', '--max-connections', '10']);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('url')]);
    outputs.push(main.stdout, main.stderr, unknown.stdout, unknown.stderr, bad.stdout, bad.stderr);
    for (const output of outputs) expect(output).not.toContain(passwordOne);
    for (const output of outputs) expect(output).not.toContain(encodeURIComponent(passwordOne));
  });

  it('migrate brings a schema tenant on a data server up to date there, through its record on that server', { timeout: 120_000 }, async () => {
    const created = await gw.request('/v1/admin/tenants', {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.adminToken}` },
      json: { name: `cli-migrate-${randomBytes(3).toString('hex')}`, model: 'schema', server: 'one' },
    });
    const tenant = (await created.json()) as CreatedTenant;
    const schema = `s_${tenant.db_user.slice(2)}`;
    // Behind by the last tenant-data migration (sql/tenant/003): its table gone, both ledgers at 2.
    await one.admin.unsafe(`DROP TABLE "${schema}".idempotency_keys`);
    await one.admin`UPDATE public.tenants SET data_version = 2 WHERE id = ${tenant.id}`;
    await gw.db.admin`UPDATE tenants SET data_version = 2 WHERE id = ${tenant.id}`;
    await waitFor(async () => (await asTenant(tenant.id, 'GET', USERS)).status === 503, 5000, 'the tenant to be refused as behind');
    const result = await runCli(
      ['migrate'],
      { ...process.env, DATABASE_URL: gw.db.url, CREDENTIALS_KEY: gw.credentialsKey.toString('hex'), ADMIN_JWT_SECRET: gw.adminSecret },
      60_000,
    );
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(await one.admin`SELECT 1 FROM pg_tables WHERE schemaname = ${schema} AND tablename = 'idempotency_keys'`).toHaveLength(1);
    expect(await one.admin`SELECT data_version FROM public.tenants WHERE id = ${tenant.id}`).toEqual([{ data_version: 3 }]);
    expect(await gw.db.admin`SELECT data_version, data_failure FROM tenants WHERE id = ${tenant.id}`).toEqual([{ data_version: 3, data_failure: null }]);
    await waitFor(async () => (await asTenant(tenant.id, 'GET', USERS)).status === 200, 5000, 'the tenant to be served again');
  });

  it('tenant move moves a tenant by name to another server, printing its steps and its report', { timeout: 120_000 }, async () => {
    const name = `cli-move-${randomBytes(3).toString('hex')}`;
    const created = await gw.request('/v1/admin/tenants', {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.adminToken}` },
      json: { name, server: 'main' },
    });
    const tenant = (await created.json()) as CreatedTenant;
    for (const first_name of ['ada', 'bo', 'cy']) expect((await asTenant(tenant.id, 'POST', USERS, { first_name, last_name: 'moved' })).status).toBe(201);
    // A short grace: the old copy goes once the cache TTL and a statement's deadline are over.
    const result = await runCli(
      ['tenant', 'move', name, '--server', 'one'],
      {
        ...process.env,
        DATABASE_URL: gw.db.url,
        CREDENTIALS_KEY: gw.credentialsKey.toString('hex'),
        ADMIN_JWT_SECRET: gw.adminSecret,
        TENANT_CACHE_TTL: '1',
        CONNECT_TIMEOUT: '1',
        QUERY_TIMEOUT: '1',
      },
      90_000,
    );
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout) as { id: string; server: string; report: { rows: number; pauseMs: number; oldCopyRemoved: boolean } };
    expect(out).toMatchObject({ id: tenant.id, server: 'one', report: { rows: 3, oldCopyRemoved: true } });
    expect(result.stderr).toContain(`move ${tenant.id}: switch`);
    expect(await storedUsers('one', tenant)).toEqual(['ada', 'bo', 'cy']);
    expect(await storedUsers('main', tenant)).toEqual([]);
    await waitFor(async () => (await asTenant(tenant.id, 'GET', USERS)).status === 200, 5000, 'the tenant to be served from one');
    const again = await runCli(
      ['tenant', 'move', name, '--server', 'one'],
      { ...process.env, DATABASE_URL: gw.db.url, CREDENTIALS_KEY: gw.credentialsKey.toString('hex'), ADMIN_JWT_SECRET: gw.adminSecret },
      60_000,
    );
    expect([again.code, again.stderr]).toEqual([1, expect.stringContaining('move_same_server')]);
  });
});

describe('one server down', () => {
  it("stops one data server under load: its tenants get 503 promptly, the others' tenants never fail, and it recovers", { timeout: 120_000 }, async () => {
    const tenants = {
      main: [await createTenant('rls', 'main'), await createTenant('schema', 'main')],
      one: [await createTenant('rls', 'one'), await createTenant('schema', 'one')],
      two: [await createTenant('rls', 'two'), await createTenant('schema', 'two')],
    };
    for (const list of Object.values(tenants))
      for (const t of list) expect((await asTenant(t.id, 'POST', USERS, { first_name: 'load', last_name: 'x' })).status).toBe(201);
    // Server two has the fewest tenants, so the placement policy would choose it first.
    const { records } = (await (await admin('GET', SERVERS)).json()) as { records: { name: string; tenants: number }[] };
    const count = (name: string): number => records.find((r) => r.name === name)?.tenants ?? 0;
    for (const server of ['main', 'one']) for (let n = count(server); n <= count('two'); n++) await createTenant('rls', server);

    type Outcome = { status: number; ms: number; retryAfter: string | null; at: number };
    const outcomes = new Map<string, Outcome[]>(Object.keys(tenants).map((s) => [s, []]));
    type Phase = 'before' | 'down' | 'after';
    let phase = 'before' as Phase;
    const phases = new Map<Outcome, Phase>();
    let running = true;
    // Four clients per server, each a loop of reads and writes on one of its tenants.
    const client = async (server: string, tenant: CreatedTenant, n: number): Promise<void> => {
      while (running) {
        const started = Date.now();
        const write = n % 2 === 0;
        let status = 0;
        let retryAfter: string | null = null;
        try {
          const res = await fetch(`${gw.url}${USERS}${write ? '' : '?page_size=5'}`, {
            method: write ? 'POST' : 'GET',
            headers: { 'x-tenant-id': tenant.id, 'content-type': 'application/json' },
            ...(write ? { body: JSON.stringify({ first_name: 'load', last_name: String(n) }) } : {}),
            signal: AbortSignal.timeout(15_000),
          });
          await res.arrayBuffer();
          status = res.status;
          retryAfter = res.headers.get('retry-after');
        } catch {
          status = 0;
        }
        const outcome = { status, ms: Date.now() - started, retryAfter, at: Date.now() };
        outcomes.get(server)?.push(outcome);
        phases.set(outcome, phase);
        if (status !== 200 && status !== 201) await new Promise((r) => setTimeout(r, 20));
      }
    };
    const clients = Object.entries(tenants).flatMap(([server, list]) => [0, 1, 2, 3].map((n) => client(server, list[n % 2] as CreatedTenant, n)));
    const okFor = (server: string, p: Phase): number =>
      (outcomes.get(server) ?? []).filter((o) => phases.get(o) === p && (o.status === 200 || o.status === 201)).length;

    try {
      await waitFor(() => ['main', 'one', 'two'].every((s) => okFor(s, 'before') >= 20), 20_000, 'load on every server');
      phase = 'down';
      const stoppedAt = Date.now();
      await two.stop();
      // Its tenants' requests now fail; wait until some have, and the others keep going meanwhile.
      await waitFor(() => (outcomes.get('two') ?? []).filter((o) => o.at > stoppedAt + 500 && o.status === 503).length >= 20, 20_000, '503s for server two');
      await waitFor(() => okFor('main', 'down') >= 50 && okFor('one', 'down') >= 50, 20_000, 'load on the other servers while two is down');
      // Administration of its tenants answers 503 and changes nothing.
      const victim = tenants.two[0] as CreatedTenant;
      const version = async () => (await gw.db.admin<{ v: number }[]>`SELECT credentials_version AS v FROM tenants WHERE id = ${victim.id}`)[0]?.v;
      const before = await version();
      for (const [method, path, json] of [
        ['POST', `${TENANTS}/${victim.id}/rotate`, undefined],
        ['DELETE', `${TENANTS}/${victim.id}`, undefined],
        ['POST', TENANTS, { name: `while-down-${randomBytes(3).toString('hex')}`, server: 'two' }],
      ] as const) {
        const res = await admin(method, path, json);
        expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBe(503);
        expect(res.headers.get('retry-after')).not.toBeNull();
      }
      expect(await version()).toBe(before);
      expect(await gw.db.admin`SELECT 1 FROM tenants WHERE name LIKE 'while-down-%'`).toHaveLength(0);
      // A tenant that names no server is still created: the policy passes over the one that is down.
      for (const model of ['rls', 'schema'] as const) expect((await createTenant(model)).server).not.toBe('two');
      // The listing shows it down, and promptly.
      const listedAt = Date.now();
      const { records } = (await (await admin('GET', SERVERS)).json()) as { records: { name: string; health: string }[] };
      expect(Date.now() - listedAt).toBeLessThan(3000);
      expect(Object.fromEntries(records.map((r) => [r.name, r.health]))).toEqual({ main: 'up', one: 'up', two: 'down' });
      phase = 'after';
      await two.start();
      await waitFor(() => okFor('two', 'after') >= 20, 30_000, 'server two served again');
      await waitFor(() => okFor('main', 'after') >= 20 && okFor('one', 'after') >= 20, 10_000, 'load after the restart');
    } finally {
      running = false;
      await Promise.all(clients);
      if (!two.server) await two.start();
    }

    // The other servers' tenants: not one failure, in any phase.
    for (const server of ['main', 'one']) {
      const failed = (outcomes.get(server) ?? []).filter((o) => o.status !== 200 && o.status !== 201);
      expect(failed, `${server}: ${JSON.stringify(failed.slice(0, 5))}`).toEqual([]);
    }
    // Server two's tenants: 503 with Retry-After, each within the connect timeout and some slack, never
    // a hang, a 500 or another status.
    const down = (outcomes.get('two') ?? []).filter((o) => phases.get(o) === 'down' && o.status !== 200 && o.status !== 201);
    expect(down.length).toBeGreaterThan(0);
    expect(new Set(down.map((o) => o.status))).toEqual(new Set([503]));
    expect(down.every((o) => o.retryAfter !== null && Number(o.retryAfter) >= 1)).toBe(true);
    const slowest = Math.max(...down.map((o) => o.ms));
    expect(slowest).toBeLessThan(CONNECT_TIMEOUT_S * 1000 + 2000);
    const afterRecovery = (outcomes.get('two') ?? []).filter((o) => phases.get(o) === 'after');
    expect(afterRecovery.at(-1)?.status).toBeOneOf([200, 201]);
    console.log(
      `outage: server two down → ${down.length} answers 503 (slowest ${slowest} ms); main ${outcomes.get('main')?.length} and one ${outcomes.get('one')?.length} requests, all 2xx`,
    );
  });
});

describe('rotating the master key', () => {
  // Last but one: the gateway of this file holds only the old key.
  it("keys rotate re-seals the data servers' passwords, in the catalog and on each server", { timeout: 60_000 }, async () => {
    const newKey = randomBytes(32).toString('hex');
    const result = await runCli(['keys', 'rotate'], {
      ...process.env,
      DATABASE_URL: gw.db.url,
      CREDENTIALS_KEYS: `new:${newKey},old:${gw.credentialsKey.toString('hex')}`,
      ADMIN_JWT_SECRET: gw.adminSecret,
    });
    expect(result.code, result.stderr).toBe(0);
    const onlyNew = parseKeyRing(`new:${newKey}`);
    const catalog = await gw.db.admin<
      { name: string; sealed: string }[]
    >`SELECT name, password_sealed AS sealed FROM servers WHERE name <> 'main' ORDER BY name`;
    expect(catalog.map((r) => [r.name, onlyNew.open(r.sealed)])).toEqual([
      ['one', passwordOne],
      ['two', passwordTwo],
    ]);
    for (const server of [one, two]) {
      const [auth] = await server.admin<{ value: string }[]>`SELECT value FROM gateway_settings WHERE key = 'authenticator_password'`;
      expect(onlyNew.isCurrent(auth?.value ?? '')).toBe(true);
      expect(() => onlyNew.open(auth?.value ?? '')).not.toThrow();
    }
    expect(result.stdout).not.toContain(passwordOne);
  });
});

describe('secrets', () => {
  it("no answer and no log line carries a data server's password", async () => {
    expect(answers.length).toBeGreaterThan(50);
    expect(logLines.length).toBeGreaterThan(50);
    for (const password of [passwordOne, passwordTwo]) {
      for (const form of new Set([password, encodeURIComponent(password)])) {
        expect(answers.filter((a) => a.includes(form))).toEqual([]);
        expect(logLines.filter((l) => l.includes(form))).toEqual([]);
      }
    }
  });
});
