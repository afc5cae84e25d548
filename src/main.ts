// Starts the gateway: config, secrets, database (embedded when DATABASE_URL is unset), the assembled
// gateway, the HTTP server, and an orderly stop on SIGINT/SIGTERM.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { loadConfig, type Config } from './config.js';
import { withEnvFile } from './env-file.js';
import { openDatabase } from './db/open.js';
import { buildGateway } from './gateway.js';
import { answerClientErrors } from './http/client-errors.js';
import { requestTimeouts } from './http/server-options.js';
import { createLogger, terminalDestination } from './log.js';
import { resolveSecrets } from './secrets.js';
import { startFailureMessage, startTarget } from './start-failure.js';
import { demoInstructions, ensureDemoTenant } from './tenants/demo.js';

async function start(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel, process.stdout.isTTY ? terminalDestination() : undefined);
  const secrets = await resolveSecrets(config);
  const database = await openDatabase(config, secrets, logger);
  const gateway = await buildGateway({
    databaseUrl: database.url,
    keys: secrets.keys,
    adminKey: secrets.adminKey,
    pool: config.pool,
    queue: config.queue,
    auth: config.auth,
    tenant: config.tenant,
    monitoringNetworks: config.monitoringNetworks,
    metrics: { tenantSeries: config.metricsTenantSeries },
    rateLimit: config.rateLimit,
    bodyLimitBytes: config.bodyLimitBytes,
    defaultModel: config.tenantModel,
    idempotencyTtlSeconds: config.idempotencyTtlSeconds,
    logger,
  });
  const demoTenantId = config.seedDemo ? await ensureDemoTenant(gateway.tenants, gateway.registry) : undefined;

  const server = serve({
    fetch: gateway.app.fetch,
    hostname: config.host,
    port: config.port,
    serverOptions: requestTimeouts(config.requestTimeoutMs),
  }) as Server;
  try {
    await listening(server);
  } catch (err) {
    // A busy port: what was opened is closed again, then main's catch prints the one line.
    await gateway.close();
    await database.stop();
    throw err;
  }
  const baseUrl = `http://${config.host}:${(server.address() as AddressInfo).port}`;
  logger.info({ url: baseUrl }, 'tenantgate listening');
  if (demoTenantId) process.stdout.write(demoInstructions(baseUrl, demoTenantId, config.tenant.from === 'host' ? config.tenant.baseDomain : undefined) + '\n');

  answerClientErrors(server);

  // Graceful stop: readiness fails and new requests are refused at once; requests in flight get
  // SHUTDOWN_TIMEOUT to finish; then pools, sweeper, listener and (embedded) database close.
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining requests in flight');
    gateway.startDraining();
    const http = server;
    const closed = new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeIdleConnections();
    const deadline = setTimeout(() => {
      logger.warn({ seconds: config.shutdownTimeoutSeconds }, 'shutdown timeout: cutting the remaining connections');
      http.closeAllConnections();
    }, config.shutdownTimeoutSeconds * 1000);
    await closed;
    clearTimeout(deadline);
    await gateway.close();
    await database.stop();
    logger.info('stopped');
    // The log is written asynchronously: let it drain before the process goes.
    logger.flush(() => process.exit(0));
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

function listening(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function main(): void {
  const fail = (message: string): void => {
    process.stderr.write(`${message}\n`);
    process.exit(1);
  };
  let config: Config;
  try {
    config = loadConfig(withEnvFile(process.env));
  } catch (err) {
    return fail(startFailureMessage(err, { listen: '' }));
  }
  start(config).catch((err: unknown) => fail(startFailureMessage(err, startTarget(config))));
}

main();
