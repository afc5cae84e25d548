// Assembles a running gateway from a database URL and secrets: catalog connection, migrations, tenant
// catalog, pool registry with its sweeper, and the HTTP app. Shared by main.ts and the tests, so both
// run exactly the same parts.
import type { Hono } from 'hono';
import type { Sql } from 'postgres';
import { createApp } from './app.js';
import { buildApiDocument } from './openapi/document.js';
import type { PoolConfig, QueueConfig, RateLimitConfig } from './config.js';
import type { KeyRing } from './crypto/key-ring.js';
import { connectCatalog } from './db/catalog.js';
import { loadTenantMigrations } from './db/tenant-migrations.js';
import { isolationModels } from './isolation/models.js';
import type { IsolationModelName } from './tenants/placement.js';
import { tenantScopeSetting } from './isolation/rls.js';
import { migrate } from './db/migrate.js';
import { createCallerAuth, networkGuard, type CallerAuthConfig } from './http/caller-auth.js';
import type { Cidr } from './http/cidr.js';
import { hostTenantResolver, type TenantSource } from './http/tenant-host.js';
import type { AppEnv } from './http/env.js';
import { createRateLimiter } from './http/rate-limit.js';
import { tenantLimit } from './http/tenant-limit.js';
import { createMetrics, type GatewayMetrics } from './http/metrics.js';
import { errorFacts, type Logger } from './log.js';
import { ensureAuthenticator, type AuthenticatorLogin } from './pool/authenticator.js';
import { createConnectionBudget, type ConnectionBudget } from './pool/budget.js';
import { createLimiter, createWaitQueue } from './pool/limiter.js';
import { createRateTracker } from './pool/rate.js';
import { reactToTenantChange } from './pool/change-reactions.js';
import { createDedicatedPools } from './pool/dedicated-pools.js';
import type { PromotionPolicy } from './pool/promotion.js';
import { createPoolRegistry, type PoolRegistry } from './pool/registry.js';
import { createServerPools, type ServerPools } from './pool/server-pools.js';
import { createServerCatalog, MAIN_SERVER, type ServerCatalog } from './servers/catalog.js';
import { createServerConnections, type ServerConnections } from './servers/connections.js';
import { citusBudget, detectCitus, grantWorkerLogin, type CitusFacts } from './citus/coordinator.js';
import { createClusterView, type ClusterView } from './citus/cluster-view.js';
import { createNodeSamples, samplesOf } from './citus/node-samples.js';
import { createCitusTenantOps, type CitusTenantOps } from './citus/tenant-operations.js';
import { createPoolSets, type PoolSets } from './servers/pool-sets.js';
import { createTenantMoves, type TenantMoves } from './servers/tenant-moves.js';
import { startMoveSweeper, type MoveSweeper } from './servers/move-sweeper.js';
import { createSharedPool, type SharedPool } from './pool/shared-pool.js';
import { startSweeper, sweepIntervalMs } from './pool/sweeper.js';
import { createTenantPoolOpener } from './pool/tenant-pool.js';
import { createTenantCatalog, type TenantCatalog } from './tenants/catalog.js';
import { startChangeListener, type ChangeListener } from './tenants/change-listener.js';
import { createTenantDirectory } from './tenants/directory.js';
import { createTenantNames } from './tenants/names.js';

export interface GatewayOptions {
  readonly databaseUrl: string;
  readonly keys: KeyRing;
  readonly adminKey: Uint8Array;
  readonly pool: PoolConfig;
  readonly queue: QueueConfig;
  readonly auth: CallerAuthConfig;
  /** How a request names its tenant (TENANT_FROM); default: what the auth mode always did (header or claim). */
  readonly tenant?: TenantSource;
  /** Who may read /metrics and /health/ready. */
  readonly monitoringNetworks: readonly Cidr[];
  /** METRICS_TENANT_SERIES; the clock per-tenant series change hands on (default Date.now; tests move their own). */
  readonly metrics: { readonly tenantSeries: number; readonly now?: () => number };
  readonly rateLimit: RateLimitConfig;
  readonly bodyLimitBytes: number;
  readonly logger: Logger;
  /** The isolation model of tenants created without one (TENANT_MODEL); `rls` unless set. */
  readonly defaultModel?: IsolationModelName;
  /** IDEMPOTENCY_TTL_SECONDS (default a day). */
  readonly idempotencyTtlSeconds?: number;
  /** How long a moved tenant's old copy stays (fenced) after the switch; default: see createTenantMoves below. */
  readonly moveGraceMs?: number;
  /** How often every server is checked for moves whose mover stopped (default 30 s). */
  readonly moveSweepMs?: number;
  /**
   * How long a tenant statement may take before it is answered 503 and cancelled. Default: connecting
   * and running may each take their full allowance (CONNECT_TIMEOUT + QUERY_TIMEOUT). Tests set less.
   */
  readonly deadlineMs?: number;
}

export interface Gateway {
  readonly app: Hono<AppEnv>;
  readonly catalog: Sql;
  readonly tenants: TenantCatalog;
  readonly registry: PoolRegistry;
  /** main's shared pool and budget. */
  readonly shared: SharedPool;
  readonly budget: ConnectionBudget;
  /** Owner connections to every server, and the servers' list in the catalog. */
  readonly servers: ServerConnections;
  readonly serverCatalog: ServerCatalog;
  /** Each server's pools. */
  readonly poolSets: PoolSets;
  readonly moves: TenantMoves;
  /** The Citus servers' nodes, tables and shards, and where a tenant lives. */
  readonly cluster: ClusterView;
  readonly citusTenants: CitusTenantOps;
  readonly moveSweeper: MoveSweeper;
  readonly listener: ChangeListener;
  readonly metrics: GatewayMetrics;
  /** Readiness fails and new requests get 503 from now on; requests in flight carry on. */
  startDraining(): void;
  /** Stops the sweeper, closes every tenant pool and the catalog connection. */
  close(): Promise<void>;
}

export async function buildGateway(options: GatewayOptions): Promise<Gateway> {
  const { pool, logger } = options;
  // The catalog's connections: a small pool plus the change listener's one.
  const catalog = connectCatalog(options.databaseUrl, {
    max: pool.catalogPoolMax - 1,
    connectTimeoutSeconds: pool.connectTimeoutSeconds,
  });
  const applied = await migrate(catalog);
  if (applied.length > 0) logger.info({ versions: applied }, 'migrations applied');
  const tenantMigrations = await loadTenantMigrations();
  const models = isolationModels(tenantMigrations);
  const servers = createServerConnections(catalog, options.keys, { mainUrl: options.databaseUrl, connectTimeoutSeconds: pool.connectTimeoutSeconds });
  const serverCatalog = createServerCatalog(catalog, options.keys, { connectTimeoutSeconds: pool.connectTimeoutSeconds });
  const tenants = createTenantCatalog(catalog, options.keys, { models, defaultModel: options.defaultModel ?? 'rls', servers });
  // A node or server that does not answer within a second is shown down (as in GET /v1/admin/servers).
  const cluster = createClusterView({ catalog, serverCatalog, servers, probeTimeoutMs: 1000, connectTimeoutSeconds: pool.connectTimeoutSeconds });
  const citusNodes = createNodeSamples(async () => samplesOf(await cluster.servers()), { maxAgeMs: 5000, waitMs: 1000, now: Date.now });
  const metrics = createMetrics(
    // registry, directory and listener are built below; these run only when /metrics is scraped.
    { stats: () => registry.stats(), tenantsKnown: () => directory.size(), changeFeedUp: () => listener.listening(), citusNodes },
    { tenantSeries: options.metrics.tenantSeries, now: options.metrics.now ?? Date.now },
  );
  // Known tenants: a few hundred bytes each, so even a hundred thousand stay well under the RSS budget.
  const directory = createTenantDirectory(catalog, {
    maxTenants: 100_000,
    ttlMs: pool.tenantCacheTtlSeconds * 1000,
    negativeTtlMs: 5000,
  });
  // Header or claim: what the auth mode decides by itself (config.ts refuses the other pairings).
  const tenantSource = options.tenant ?? { from: options.auth.mode === 'jwt' ? 'jwt' : 'header' };
  // Only host mode looks tenants up by name; sized and timed like the directory, and kept current by
  // the same change feed (below).
  const names =
    tenantSource.from === 'host' ? createTenantNames(catalog, { maxNames: 100_000, ttlMs: pool.tenantCacheTtlSeconds * 1000, negativeTtlMs: 5000 }) : undefined;
  const nameTenant = tenantSource.from === 'host' && names !== undefined ? hostTenantResolver(tenantSource.baseDomain, names) : undefined;
  const idleTimeoutMs = pool.idleTimeoutSeconds * 1000;
  const policy: PromotionPolicy = {
    promoteRps: pool.promoteRps,
    poolMax: pool.maxPerTenant,
    rpsPerConnection: pool.dedicatedConnectionRps,
    maxDedicatedConnections: pool.dedicatedMaxConnections,
  };
  const rates = createRateTracker(100_000);

  /**
   * One server's pools under its own budget: its shared pool (the server's shared role), a wait queue
   * and dedicated pools of its own, so a server that is down or saturated holds up only its tenants.
   */
  const buildServerPools = (
    url: string,
    login: AuthenticatorLogin,
    budget: ConnectionBudget,
    sharedMax: number,
    citus: CitusFacts | undefined,
  ): ServerPools => {
    // On a Citus coordinator every tenant stays on the shared role, in transaction form (src/citus/).
    const serverPolicy: PromotionPolicy = citus === undefined ? policy : { ...policy, promoteRps: Number.POSITIVE_INFINITY };
    const shared = createSharedPool({
      databaseUrl: url,
      ...login,
      max: sharedMax,
      pipelineDepth: pool.pipelineDepth,
      preparedPerConnection: pool.sharedPreparedMax,
      scopeMode: citus === undefined ? pool.sharedScopeMode : 'transaction',
      genericPlans: citus === undefined,
      scope: tenantScopeSetting,
      connectTimeoutSeconds: pool.connectTimeoutSeconds,
      statementTimeoutMs: pool.queryTimeoutMs,
    });
    const queue = createWaitQueue(options.queue);
    queue.onWaitEnd = (ms, outcome) => metrics.observeQueueWait(ms, outcome);
    const opener = createTenantPoolOpener(catalog, {
      databaseUrl: url,
      keys: options.keys,
      maxPerTenant: pool.maxPerTenant,
      idleTimeoutSeconds: pool.idleTimeoutSeconds,
      connectTimeoutSeconds: pool.connectTimeoutSeconds,
      statementTimeoutMs: pool.queryTimeoutMs,
    });
    const dedicated = createDedicatedPools(
      {
        open: opener,
        budget,
        queue,
        rates,
        onPromotionFailed: (tenantId, err) =>
          logger.warn({ tenantId, err: errorFacts(err) }, 'dedicated pool could not be created; tenant stays on the shared pool'),
      },
      { policy, maxPools: pool.maxPools, idleTimeoutMs, pipelineDepth: pool.pipelineDepth, drainTimeoutSeconds: 10, now: Date.now },
    );
    return createServerPools(
      {
        shared,
        // Statements pipeline on shared connections too (the driver spreads them), but one tenant never
        // has more than POOL_MAX in flight, so it can never occupy more than POOL_MAX connections.
        // Round trips leave a connection idle between an answer and the next statement; a short pipeline
        // fills that gap, as the driver does by default.
        sharedLimiter: createLimiter({ slots: sharedMax * pool.pipelineDepth, perTenantSlots: pool.maxPerTenant, queue }),
        dedicated,
        directory,
        budget,
        queue,
        rates,
        models,
      },
      {
        policy: serverPolicy,
        deadlineMs: options.deadlineMs ?? pool.connectTimeoutSeconds * 1000 + pool.queryTimeoutMs,
        now: Date.now,
        tenantDataVersion: tenantMigrations.latest,
        onStuckPool: (tenantId) => logger.warn({ tenantId }, 'a statement on a dedicated pool missed its deadline; pool dropped'),
        onStatement: (tenantId, path) => metrics.observeStatement(tenantId, path),
      },
    );
  };

  // main: the catalog's server. Catalog and shared pool take their connections off the top of the
  // budget, for good.
  const mainCitus = await detectCitus(catalog);
  const mainBudget = createConnectionBudget(mainCitus === undefined ? pool.maxConnectionsTotal : citusBudget(pool.maxConnectionsTotal, mainCitus));
  mainBudget.tryReserve(pool.catalogPoolMax);
  mainBudget.tryReserve(pool.sharedPoolMax);
  const mainLogin = await ensureAuthenticator(catalog, options.keys);
  if (mainCitus !== undefined) await grantWorkerLogin(catalog, mainLogin);
  const mainPools = buildServerPools(options.databaseUrl, mainLogin, mainBudget, pool.sharedPoolMax, mainCitus);

  const poolSets = createPoolSets({
    retryAfterMs: 1000,
    now: Date.now,
    onBuildFailed: (server, err) => logger.warn({ server, err: errorFacts(err) }, 'server could not be reached; its tenants get 503 until it can'),
    build: async (name) => {
      if (name === MAIN_SERVER) return mainPools;
      const record = await servers.record(name);
      const admin = await servers.admin(name);
      // A data server follows this build's schema like main does (a no-op when it is current).
      await migrate(admin);
      const login = await ensureAuthenticator(admin, options.keys);
      const citus = await detectCitus(admin);
      if (citus !== undefined) await grantWorkerLogin(admin, login);
      // Its budget: the owner connections, then a shared pool of at most half of it, the rest for
      // dedicated pools.
      const requested = record.maxConnections ?? pool.maxConnectionsTotal;
      const total = citus === undefined ? requested : citusBudget(requested, citus);
      const budget = createConnectionBudget(total);
      budget.tryReserve(2);
      const sharedMax = Math.max(1, Math.min(pool.sharedPoolMax, Math.floor((total - 2) / 2)));
      budget.tryReserve(sharedMax);
      return buildServerPools(record.url, login, budget, sharedMax, citus);
    },
  });
  await poolSets.open(MAIN_SERVER);
  const registry = createPoolRegistry({ directory, servers: poolSets });
  const sweeper = startSweeper(() => {
    const closed = registry.sweepIdle();
    if (closed > 0) logger.debug({ closed }, 'idle tenant pools closed');
  }, sweepIntervalMs(idleTimeoutMs));
  const reactToChange = reactToTenantChange(directory, registry);
  const listener = await startChangeListener(catalog, {
    databaseUrl: options.databaseUrl,
    connectTimeoutSeconds: pool.connectTimeoutSeconds,
    logger,
    onChange: (change) => {
      // A rename or a deletion arrives as a change to the tenant's id: the names cached for it go too.
      names?.invalidate(change.tenantId);
      reactToChange(change);
    },
    onResyncAll: () => {
      logger.warn('tenant change feed had a gap; forgetting every cached tenant and dedicated pool');
      names?.clear();
      registry.evictAll();
    },
  });
  // The old copy of a moved tenant stays fenced until no instance can still be routing to it: one that
  // missed the change feed re-reads the tenant within the cache TTL, and a statement under way then
  // ends within its deadline.
  const moves = createTenantMoves(catalog, options.keys, servers, models, {
    connectTimeoutSeconds: pool.connectTimeoutSeconds,
    graceMs: options.moveGraceMs ?? pool.tenantCacheTtlSeconds * 1000 + (options.deadlineMs ?? pool.connectTimeoutSeconds * 1000 + pool.queryTimeoutMs) + 1000,
    onFailed: (tenantId, err) => logger.warn({ tenantId, err: errorFacts(err) }, 'tenant move failed; the tenant is served from where it was'),
    onCleanupError: (tenantId, err) => logger.warn({ tenantId, err: errorFacts(err) }, "a moved tenant's old copy could not be removed; it stays fenced"),
  });
  const citusTenants = createCitusTenantOps(catalog, servers, {
    connectTimeoutSeconds: pool.connectTimeoutSeconds,
    onFailed: (tenantId, err) =>
      logger.warn({ tenantId, err: errorFacts(err) }, 'tenant move between Citus workers failed; the tenant is served from where it was'),
  });
  const moveSweeper = startMoveSweeper(catalog, servers, models, { intervalMs: options.moveSweepMs ?? 30_000, logger });
  let draining = false;
  const tenantGuards = [createCallerAuth(options.auth, nameTenant), tenantLimit(directory, createRateLimiter(100_000), options.rateLimit)];
  const app = createApp({
    metrics,
    tenantGuards,
    draining: () => draining,
    apiDocument: buildApiDocument({ authMode: options.auth.mode, tenantFrom: tenantSource.from }),
    monitoringGuard: networkGuard(options.monitoringNetworks, options.auth.mode === 'network' ? options.auth.trustedProxies : []),
    catalog,
    tenants,
    registry,
    serverCatalog,
    servers,
    poolSets,
    moves,
    cluster,
    citusTenants,
    adminKey: options.adminKey,
    bodyLimitBytes: options.bodyLimitBytes,
    idempotencyTtlSeconds: options.idempotencyTtlSeconds ?? 86_400,
    logger,
  });
  return {
    app,
    catalog,
    tenants,
    registry,
    shared: mainPools.shared,
    budget: mainBudget,
    servers,
    serverCatalog,
    poolSets,
    moves,
    cluster,
    citusTenants,
    moveSweeper,
    listener,
    metrics,
    startDraining: () => {
      draining = true;
    },
    async close() {
      sweeper.stop();
      moveSweeper.stop();
      await listener.stop();
      await registry.close();
      await servers.close();
      // Requests have drained by now (or their time is up): do not wait on the catalog either.
      await catalog.end({ timeout: 1 });
    },
  };
}
