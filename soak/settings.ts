// The gateway's configuration under the soak: a small connection budget (so that the peak is a real
// test of it), a low PROMOTE_RPS (the hot tenants get dedicated pools, the cold ones stay on the shared
// pool), short connect / query / queue timeouts (faults are answered quickly with 503).
export const GATEWAY_SETTINGS = {
  MAX_CONNECTIONS_TOTAL: 16,
  SHARED_POOL_MAX: 4,
  POOL_MAX: 3,
  DEDICATED_MAX_CONNECTIONS: 9,
  PROMOTE_RPS: 40,
  DEDICATED_CONNECTION_RPS: 40,
  CONNECT_TIMEOUT: 2,
  QUERY_TIMEOUT: 5,
  QUEUE_TIMEOUT: 2,
  TENANT_CACHE_TTL: 30,
  POOL_IDLE_TIMEOUT: 60,
  SHUTDOWN_TIMEOUT: 5,
  LOG_LEVEL: 'warn',
  SEED_DEMO: 'false',
} as const;

/** Every connection the gateway holds (catalog pool 2 + change listener 1 + shared + dedicated) fits in this. */
export const CONNECTION_BUDGET = GATEWAY_SETTINGS.MAX_CONNECTIONS_TOTAL;

/** No request may wait longer than QUEUE_TIMEOUT + CONNECT_TIMEOUT + QUERY_TIMEOUT for its answer; plus slack. */
export const CLIENT_TIMEOUT_MS = 20_000;

/** A fault not recovered from within this is a failure. */
export const RECOVERY_LIMIT_MS = 30_000;

/**
 * A tenant change made with plain SQL (no admin API) reaches the gateway only through the change feed; it
 * must arrive well within TENANT_CACHE_TTL (30 s), which would otherwise hide a dead listener.
 */
export const FEED_LIMIT_MS = 10_000;

export function gatewayEnv(databaseUrl: string, credentialsKeyHex: string, adminJwtSecret: string): Record<string, string> {
  const env: Record<string, string> = { DATABASE_URL: databaseUrl, CREDENTIALS_KEY: credentialsKeyHex, ADMIN_JWT_SECRET: adminJwtSecret, HOST: '127.0.0.1' };
  for (const [name, value] of Object.entries(GATEWAY_SETTINGS)) env[name] = String(value);
  return env;
}
