// Builds the Hono application from its dependencies. No I/O happens here; main.ts wires and starts.
import { Hono } from 'hono';
import type { MiddlewareHandler } from 'hono';
import type { Sql } from 'postgres';
import { requestEnvelope } from './http/envelope.js';
import type { AppEnv } from './http/env.js';
import { createErrorHandler, notFoundHandler } from './http/error-handler.js';
import { chainGuards } from './http/guards.js';
import { onlyMethods } from './http/methods.js';
import type { GatewayMetrics } from './http/metrics.js';
import { createRequestLog } from './http/request-log.js';
import type { Logger } from './log.js';
import type { PoolRegistry } from './pool/registry.js';
import type { OpenApiDocument } from './openapi/document.js';
import type { ClusterView } from './citus/cluster-view.js';
import { adminClusterRoutes } from './routes/admin-cluster.js';
import { adminServerRoutes } from './routes/admin-servers.js';
import { adminTenantRoutes } from './routes/admin-tenants.js';
import { docsRoutes } from './routes/docs.js';
import { healthRoutes } from './routes/health.js';
import { usersRoutes } from './routes/users.js';
import type { ServerCatalog } from './servers/catalog.js';
import type { ServerConnections } from './servers/connections.js';
import type { TenantMoves } from './servers/tenant-moves.js';
import type { CitusTenantOps } from './citus/tenant-operations.js';
import type { PoolSets } from './servers/pool-sets.js';
import type { TenantCatalog } from './tenants/catalog.js';

export interface AppDeps {
  readonly catalog: Sql;
  readonly tenants: TenantCatalog;
  readonly registry: PoolRegistry;
  /** The servers tenants live on: their catalog, owner connections and this instance's pools on each. */
  readonly serverCatalog: ServerCatalog;
  readonly servers: ServerConnections;
  readonly poolSets: PoolSets;
  /** Tenants' moves between servers, run by this instance. */
  readonly moves: TenantMoves;
  /** The Citus servers' state and tenants' placements on them (GET /v1/admin/cluster). */
  readonly cluster: ClusterView;
  /** Tenants' isolation and moves between workers on Citus servers, run by this instance. */
  readonly citusTenants: CitusTenantOps;
  readonly adminKey: Uint8Array;
  readonly bodyLimitBytes: number;
  /** IDEMPOTENCY_TTL_SECONDS. */
  readonly idempotencyTtlSeconds: number;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** Caller authentication, tenant resolution and rate limits for /v1/internal/*, in order. */
  readonly tenantGuards: MiddlewareHandler<AppEnv>[];
  /** True once shutdown began: readiness fails and new requests are turned away. */
  readonly draining: () => boolean;
  /** Admits callers of /metrics and /health/ready (METRICS_NETWORKS). */
  readonly monitoringGuard: MiddlewareHandler<AppEnv>;
  /** Served at /openapi.json and shown at /docs (src/openapi/document.ts). */
  readonly apiDocument: OpenApiDocument;
}

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const onError = createErrorHandler(deps.logger);
  app.onError(onError);
  app.notFound(notFoundHandler);
  // Request id, shutdown refusal, metrics and the request log: the only app-wide middleware.
  app.use('*', requestEnvelope({ metrics: deps.metrics, log: createRequestLog(deps.logger), draining: deps.draining, onError }));
  app.use('/metrics', deps.monitoringGuard);
  app.use('/health/ready', deps.monitoringGuard);
  app.get('/metrics', async (c) => c.body(await deps.metrics.render(), 200, { 'content-type': deps.metrics.registry.contentType }));
  app.all('/metrics', onlyMethods('GET'));
  app.route('/health', healthRoutes(deps.catalog, deps.draining));
  app.route(
    '/v1/internal/users',
    usersRoutes(deps.registry, { bodyLimitBytes: deps.bodyLimitBytes, idempotencyTtlSeconds: deps.idempotencyTtlSeconds }, chainGuards(deps.tenantGuards)),
  );
  app.route('/v1/admin/tenants', adminTenantRoutes(deps));
  app.route('/v1/admin/servers', adminServerRoutes(deps));
  app.route('/v1/admin/cluster', adminClusterRoutes(deps));
  app.route('/', docsRoutes(deps.apiDocument));
  return app;
}
