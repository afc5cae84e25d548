// Starts the gateway: config, secrets, database (embedded when DATABASE_URL is unset), the assembled
// gateway, the HTTP server, and an orderly stop on SIGINT/SIGTERM.
import { serve } from '@hono/node-server';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db/open.js';
import { buildGateway } from './gateway.js';
import { createLogger, errorFacts } from './log.js';
import { resolveSecrets } from './secrets.js';
import { demoInstructions, ensureDemoTenant } from './tenants/demo.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const secrets = await resolveSecrets(config);
  const database = await openDatabase(config, secrets, logger);
  const gateway = await buildGateway({
    databaseUrl: database.url,
    credentialsKey: secrets.credentialsKey,
    adminKey: secrets.adminKey,
    pool: config.pool,
    queue: config.queue,
    auth: config.auth,
    rateLimit: config.rateLimit,
    bodyLimitBytes: config.bodyLimitBytes,
    logger,
  });
  const demoTenantId = config.seedDemo ? await ensureDemoTenant(gateway.tenants, gateway.registry) : undefined;

  const server = serve({ fetch: gateway.app.fetch, hostname: config.host, port: config.port }, (info) => {
    const baseUrl = `http://${config.host}:${info.port}`;
    logger.info({ url: baseUrl }, 'tenantgate listening');
    if (demoTenantId) process.stdout.write(demoInstructions(baseUrl, demoTenantId) + '\n');
  });

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await gateway.close();
    await database.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError ? `configuration error: ${err.message}` : `failed to start: ${errorFacts(err).message}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
