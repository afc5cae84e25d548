// Starts a real gateway in-process on a random port, against a fresh database on the test PostgreSQL,
// built by the same buildGateway() that main.ts uses.
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerClientErrors } from '../../src/http/client-errors.js';
import { requestTimeouts } from '../../src/http/server-options.js';
import { serve, type ServerType } from '@hono/node-server';
import { afterEach } from 'vitest';
import type { PoolConfig, QueueConfig, RateLimitConfig } from '../../src/config.js';
import type { CallerAuthConfig } from '../../src/http/caller-auth.js';
import type { TenantSource } from '../../src/http/tenant-host.js';
import { parseCidrList } from '../../src/http/cidr.js';
import { singleKeyRing, type KeyRing } from '../../src/crypto/key-ring.js';
import { buildGateway, type Gateway } from '../../src/gateway.js';
import { adminKey, mintAdminToken } from '../../src/http/admin-auth.js';
import type { DestinationStream } from 'pino';
import { createLogger } from '../../src/log.js';
import { isIsolationModelName, type IsolationModelName } from '../../src/tenants/placement.js';
import postgres, { type PendingQuery, type Row, type Sql } from 'postgres';
import { quoteLiteral } from '../../src/db/quote.js';
import { contractFor } from './contract-log.js';
import { createTestDatabase, withDatabase, type TestDatabase } from './database.js';

export interface TestGateway {
  readonly url: string;
  readonly adminToken: string;
  readonly adminSecret: string;
  readonly credentialsKey: Buffer;
  /** The gateway's key ring (a single untagged key unless `keys` was given). */
  readonly keys: KeyRing;
  readonly db: TestDatabase;
  readonly gateway: Gateway;
  /** fetch relative to the gateway, JSON in and out. */
  request(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  /** Creates a tenant through the admin API and returns its id. */
  /** `server`: where it lives (default: the placement policy's choice). */
  createTenant(name?: string, model?: IsolationModelName, server?: string): Promise<{ id: string; db_user: string; model: IsolationModelName }>;
  /**
   * A tenant's users table for `adminOf(id)` queries (a fragment): `users` for a row-model tenant, its
   * own schema's for a schema or database tenant, so one test checks what is stored under any model.
   */
  usersOf(tenantId: string): PendingQuery<Row[]>;
  /** The same table's qualified name, as text. */
  usersTableName(tenantId: string): string;
  /**
   * A superuser connection to the database that holds the tenant's tables: `db.admin`, or a database
   * tenant's own database. Queries with `usersOf(id)` in them run on it.
   */
  adminOf(tenantId: string): Sql;
  /**
   * Every user of every tenant this gateway created, under either model: `table` is a fragment. (Boxed:
   * a query fragment is thenable, and a promise resolving to it would run it.)
   */
  allUsers(): Promise<{ readonly table: PendingQuery<Row[]> }>;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  readonly pool?: Partial<PoolConfig>;
  readonly queue?: Partial<QueueConfig>;
  readonly auth?: CallerAuthConfig;
  /** TENANT_FROM (default: the auth mode's own, header or claim). */
  readonly tenant?: TenantSource;
  /** Who may read /metrics and /health/ready (default: loopback). */
  readonly monitoringNetworks?: string;
  /** METRICS_TENANT_SERIES (default 20), and a clock for per-tenant series to change hands on. */
  readonly metrics?: { readonly tenantSeries?: number; readonly now?: () => number };
  readonly rateLimit?: RateLimitConfig;
  readonly keys?: KeyRing;
  /** Run against this database (not dropped on close) instead of a fresh one. */
  readonly database?: TestDatabase;
  /** Share database, keys and admin secret with another gateway: a second instance of one fleet. */
  readonly peerOf?: TestGateway;
  /** Where the gateway's logs go (default: silent unless TEST_LOG_LEVEL is set). */
  readonly logDestination?: DestinationStream;
  readonly logLevel?: string;
  readonly bodyLimitBytes?: number;
  /** REQUEST_TIMEOUT in ms (default 30 s). */
  readonly requestTimeoutMs?: number;
  /**
   * The model of tenants created without one (TENANT_MODEL). Default: TEST_TENANT_MODEL from the
   * environment, else rls; .ci/run runs suites again with TEST_TENANT_MODEL=schema and =database.
   */
  readonly defaultModel?: IsolationModelName;
  /** IDEMPOTENCY_TTL_SECONDS (default a day). */
  readonly idempotencyTtlSeconds?: number;
  /** The statement deadline in ms (default CONNECT_TIMEOUT + QUERY_TIMEOUT). */
  readonly deadlineMs?: number;
}

/** The model suites run their tenants under (TEST_TENANT_MODEL; rls unless set). */
export function testTenantModel(): IsolationModelName {
  const model = process.env.TEST_TENANT_MODEL ?? 'rls';
  if (!isIsolationModelName(model)) throw new Error(`TEST_TENANT_MODEL=${model} is not a model`);
  return model;
}

export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const ownsDatabase = options.database === undefined && options.peerOf === undefined;
  const db = options.peerOf?.db ?? options.database ?? (await createTestDatabase());
  const adminSecret = options.peerOf?.adminSecret ?? randomBytes(32).toString('base64url');
  const credentialsKey = options.peerOf?.credentialsKey ?? randomBytes(32);
  const keys = options.keys ?? options.peerOf?.keys ?? singleKeyRing(credentialsKey);
  const key = adminKey(adminSecret);
  const gateway = await buildGateway({
    databaseUrl: db.url,
    keys,
    adminKey: key,
    pool: {
      maxPerTenant: 5,
      maxPools: 100,
      idleTimeoutSeconds: 60,
      connectTimeoutSeconds: 5,
      maxConnectionsTotal: 40,
      sharedPoolMax: 4,
      catalogPoolMax: 3,
      // Low thresholds, so tests can drive promotion with a few requests a second.
      promoteRps: 20,
      dedicatedConnectionRps: 200,
      dedicatedMaxConnections: 100,
      sharedScopeMode: 'session',
      tenantCacheTtlSeconds: 30,
      queryTimeoutMs: 30_000,
      pipelineDepth: 4,
      sharedPreparedMax: 4000,
      ...options.pool,
    },
    queue: { timeoutMs: 2000, maxWaiting: 1000, maxWaitingPerTenant: 250, ...options.queue },
    auth: options.auth ?? { mode: 'network', trustedNetworks: parseCidrList('127.0.0.0/8,::1/128'), trustedProxies: [] },
    ...(options.tenant !== undefined ? { tenant: options.tenant } : {}),
    monitoringNetworks: parseCidrList(options.monitoringNetworks ?? '127.0.0.0/8,::1/128'),
    metrics: { tenantSeries: options.metrics?.tenantSeries ?? 20, ...(options.metrics?.now === undefined ? {} : { now: options.metrics.now }) },
    rateLimit: options.rateLimit ?? { rps: 0, burst: 1 },
    bodyLimitBytes: options.bodyLimitBytes ?? 16_384,
    defaultModel: options.defaultModel ?? testTenantModel(),
    ...(options.idempotencyTtlSeconds !== undefined ? { idempotencyTtlSeconds: options.idempotencyTtlSeconds } : {}),
    ...(options.deadlineMs !== undefined ? { deadlineMs: options.deadlineMs } : {}),
    logger: options.logDestination ? createLogger(options.logLevel ?? 'info', options.logDestination) : createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
  });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: gateway.app.fetch, hostname: '127.0.0.1', port: 0, serverOptions: requestTimeouts(options.requestTimeoutMs ?? 30_000) }, () =>
      resolve(s),
    );
  });
  answerClientErrors(server as Server);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const adminToken = await mintAdminToken(key, 3600, 'tests');

  const contract = contractFor(options.auth?.mode ?? 'network', options.tenant?.from ?? (options.auth?.mode === 'jwt' ? 'jwt' : 'header'));
  const request: TestGateway['request'] = async (path, init = {}) => {
    const { json, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (json !== undefined) headers.set('content-type', 'application/json');
    const res = await fetch(url + path, { ...rest, headers, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) });
    // Every answer the suites receive is held to the OpenAPI document (test/support/contract.ts).
    const body = await res
      .clone()
      .text()
      .catch(() => undefined);
    if (body !== undefined) {
      contract.check({
        method: rest.method ?? 'GET',
        url: path,
        ...(json !== undefined ? { requestJson: json } : {}),
        status: res.status,
        contentType: res.headers.get('content-type'),
        retryAfter: res.headers.get('retry-after'),
        body,
        headers: Object.fromEntries(res.headers),
        requestHeaders: Object.fromEntries(headers),
      });
    }
    return res;
  };

  let counter = 0;
  // Schema and database tenants this gateway created, by id: their users table.
  const schemaTables = new Map<string, string>();
  // Database tenants, by id: a superuser connection to their database (opened on first use).
  const tenantDatabases = new Map<string, { readonly name: string; sql?: Sql }>();
  const adminOf = (tenantId: string): Sql => {
    const own = tenantDatabases.get(tenantId);
    if (!own) return db.admin;
    own.sql ??= postgres(withDatabase(db.url, own.name), { max: 2, onnotice: () => {} });
    return own.sql;
  };
  const usersTableName = (tenantId: string): string => schemaTables.get(tenantId) ?? 'public.users';
  const usersOf = (tenantId: string): PendingQuery<Row[]> => adminOf(tenantId).unsafe(usersTableName(tenantId));
  return {
    usersOf,
    usersTableName,
    adminOf,
    async allUsers() {
      // Deleted tenants' schemas and databases are gone.
      const present = await db.admin<{ t: string }[]>`
        SELECT t FROM unnest(${[...schemaTables.entries()].filter(([id]) => !tenantDatabases.has(id)).map(([, t]) => t)}::text[]) AS t
        WHERE to_regclass(t) IS NOT NULL`;
      const tables = ['public.users', ...present.map((p) => p.t)];
      // Database tenants' users are in other databases: read now, and shown here as rows of that shape.
      const elsewhere: Row[] = [];
      for (const [id, own] of tenantDatabases) {
        const [exists] = await db.admin`SELECT 1 FROM pg_database WHERE datname = ${own.name}`;
        if (exists) elsewhere.push(...(await adminOf(id).unsafe(`SELECT * FROM ${usersTableName(id)}`)));
      }
      const rows = `SELECT * FROM json_populate_recordset(NULL::public.users, ${quoteLiteral(JSON.stringify(elsewhere))}::json)`;
      return { table: db.admin.unsafe(`(${[...tables.map((t) => `SELECT * FROM ${t}`), rows].join(' UNION ALL ')}) AS all_users`) };
    },
    url,
    adminToken,
    adminSecret,
    credentialsKey,
    keys,
    db,
    gateway,
    request,
    async createTenant(name, model, server) {
      const res = await request('/v1/admin/tenants', {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}` },
        json: {
          name: name ?? `tenant-${process.pid}-${++counter}-${randomBytes(3).toString('hex')}`,
          ...(model === undefined ? {} : { model }),
          ...(server === undefined ? {} : { server }),
        },
      });
      if (res.status !== 201) throw new Error(`creating a tenant answered ${res.status}: ${await res.text()}`);
      const tenant = (await res.json()) as { id: string; db_user: string; model: IsolationModelName };
      if (tenant.model === 'schema' || tenant.model === 'database') schemaTables.set(tenant.id, `"s_${tenant.db_user.slice(2)}".users`);
      if (tenant.model === 'database') tenantDatabases.set(tenant.id, { name: `d_${tenant.db_user.slice(2)}` });
      return tenant;
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.close();
      for (const own of tenantDatabases.values()) await own.sql?.end({ timeout: 1 });
      if (ownsDatabase) {
        // Tenant databases are the server's, not the test database's: they would outlive it.
        const left = await db.admin<{ db_user: string; data_name: string }[]>`
          SELECT db_user, data_name FROM tenants WHERE model = 'database'`.catch(() => []);
        for (const t of left) {
          await db.admin`DROP DATABASE IF EXISTS ${db.admin(t.data_name)} WITH (FORCE)`;
          await db.admin`DROP ROLE IF EXISTS ${db.admin(t.db_user)}`;
        }
        await db.drop();
      }
    },
  };
}

/**
 * A factory for tests that each want their own gateway: every gateway it starts is closed after the
 * test that started it.
 */
export function gatewayPerTest(): (options?: TestGatewayOptions) => Promise<TestGateway> {
  const open: TestGateway[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((gw) => gw.close()));
  });
  return async (options = {}) => {
    const gw = await startTestGateway(options);
    open.push(gw);
    return gw;
  };
}
