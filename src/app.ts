// Builds the Hono application from its dependencies. No I/O happens here; main.ts wires and starts.
import { Hono } from 'hono';
import type { Sql } from 'postgres';
import type { AppEnv } from './http/env.js';
import { createErrorHandler, notFoundHandler } from './http/error-handler.js';
import type { GatewayMetrics } from './http/metrics.js';
import { requestLog } from './http/request-log.js';
import type { MiddlewareHandler } from 'hono';
import { Unavailable } from './errors.js';
import type { Logger } from './log.js';
import type { PoolRegistry } from './pool/registry.js';
import { adminTenantRoutes } from './routes/admin-tenants.js';
import { healthRoutes } from './routes/health.js';
import { usersRoutes } from './routes/users.js';
import type { TenantCatalog } from './tenants/catalog.js';

export interface AppDeps {
  readonly catalog: Sql;
  readonly tenants: TenantCatalog;
  readonly registry: PoolRegistry;
  readonly adminKey: Uint8Array;
  readonly bodyLimitBytes: number;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** Caller authentication, tenant resolution and rate limits for /v1/internal/*, in order. */
  readonly tenantGuards: MiddlewareHandler<AppEnv>[];
  /** True once shutdown began: readiness fails and new requests are turned away. */
  readonly draining: () => boolean;
}

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(createErrorHandler(deps.logger));
  app.notFound(notFoundHandler);
  app.use('*', deps.metrics.middleware);
  app.use('*', requestLog(deps.logger));
  app.use('*', async (c, next) => {
    // Requests still arriving on kept-alive connections during shutdown: refuse, and close the socket.
    if (deps.draining() && !c.req.path.startsWith('/health')) {
      c.header('Connection', 'close');
      throw new Unavailable('shutting_down', 'this instance is shutting down; retry on another', 1);
    }
    await next();
    // A request that was in flight when shutdown began must not keep its connection alive after it.
    if (deps.draining()) c.res.headers.set('Connection', 'close');
  });
  app.get('/metrics', async (c) =>
    c.body(await deps.metrics.registry.metrics(), 200, { 'content-type': deps.metrics.registry.contentType }),
  );
  app.route('/health', healthRoutes(deps.catalog, deps.draining));
  app.route('/v1/internal/users', usersRoutes(deps.registry, deps.bodyLimitBytes, deps.tenantGuards));
  app.route('/v1/admin/tenants', adminTenantRoutes(deps));
  return app;
}
