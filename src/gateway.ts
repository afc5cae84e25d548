// Assembles a running gateway from a database URL and secrets: catalog connection, migrations, tenant
// catalog, pool registry with its sweeper, and the HTTP app. Shared by main.ts and the tests, so both
// run exactly the same parts.
import type { Hono } from 'hono';
import type { Sql } from 'postgres';
import { createApp } from './app.js';
import type { PoolConfig } from './config.js';
import { connectCatalog } from './db/catalog.js';
import { migrate } from './db/migrate.js';
import type { AppEnv } from './http/env.js';
import type { Logger } from './log.js';
import { createPoolRegistry, type PoolRegistry } from './pool/registry.js';
import { startSweeper, sweepIntervalMs } from './pool/sweeper.js';
import { createTenantPoolOpener } from './pool/tenant-pool.js';
import { createTenantCatalog, type TenantCatalog } from './tenants/catalog.js';

export interface GatewayOptions {
  readonly databaseUrl: string;
  readonly credentialsKey: Buffer;
  readonly adminKey: Uint8Array;
  readonly pool: PoolConfig;
  readonly bodyLimitBytes: number;
  readonly logger: Logger;
}

export interface Gateway {
  readonly app: Hono<AppEnv>;
  readonly catalog: Sql;
  readonly tenants: TenantCatalog;
  readonly registry: PoolRegistry;
  /** Stops the sweeper, closes every tenant pool and the catalog connection. */
  close(): Promise<void>;
}

export async function buildGateway(options: GatewayOptions): Promise<Gateway> {
  const { pool, logger } = options;
  const catalog = connectCatalog(options.databaseUrl, { connectTimeoutSeconds: pool.connectTimeoutSeconds });
  const applied = await migrate(catalog);
  if (applied.length > 0) logger.info({ versions: applied }, 'migrations applied');
  const tenants = createTenantCatalog(catalog, options.credentialsKey);
  const opener = createTenantPoolOpener(catalog, {
    databaseUrl: options.databaseUrl,
    credentialsKey: options.credentialsKey,
    maxPerTenant: pool.maxPerTenant,
    idleTimeoutSeconds: pool.idleTimeoutSeconds,
    connectTimeoutSeconds: pool.connectTimeoutSeconds,
  });
  const idleTimeoutMs = pool.idleTimeoutSeconds * 1000;
  const registry = createPoolRegistry(opener, { maxPools: pool.maxPools, idleTimeoutMs });
  const sweeper = startSweeper(() => {
    const closed = registry.sweepIdle();
    if (closed > 0) logger.debug({ closed }, 'idle tenant pools closed');
  }, sweepIntervalMs(idleTimeoutMs));
  const app = createApp({
    catalog,
    tenants,
    registry,
    adminKey: options.adminKey,
    bodyLimitBytes: options.bodyLimitBytes,
    logger,
  });
  return {
    app,
    catalog,
    tenants,
    registry,
    async close() {
      sweeper.stop();
      await registry.close();
      await catalog.end({ timeout: 5 });
    },
  };
}
