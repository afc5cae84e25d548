// Reads and validates every environment variable once, at start-up. Nothing else in the gateway reads
// process.env: modules receive the frozen Config (or the part of it they need) as an argument.

export type DatabaseConfig =
  | { readonly kind: 'url'; readonly url: string }
  | { readonly kind: 'embedded'; readonly dataDir: string; readonly port: number };

export interface PoolConfig {
  /** Connections one tenant's pool may open. */
  readonly maxPerTenant: number;
  /** Tenant pools kept open at once; the least recently used is closed beyond this. */
  readonly maxPools: number;
  /** Seconds a pool (and each of its connections) may sit idle before it is closed. */
  readonly idleTimeoutSeconds: number;
  /** Seconds to wait for a new PostgreSQL connection before giving up with 503. */
  readonly connectTimeoutSeconds: number;
}

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly database: DatabaseConfig;
  /** 32-byte AES key; absent only in embedded mode, where it is generated once and kept in the data dir. */
  readonly credentialsKeyHex: string | undefined;
  /** HS256 secret for admin tokens; absent only in embedded mode (generated like the key). */
  readonly adminJwtSecret: string | undefined;
  readonly pool: PoolConfig;
  readonly bodyLimitBytes: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Create a demo tenant with a few users when the catalog is empty (default: on in embedded mode). */
  readonly seedDemo: boolean;
}

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function loadConfig(env: Env = process.env): Config {
  const database = readDatabase(env);
  const embedded = database.kind === 'embedded';
  const credentialsKeyHex = optional(env, 'CREDENTIALS_KEY');
  if (credentialsKeyHex !== undefined && !/^[0-9a-fA-F]{64}$/.test(credentialsKeyHex)) {
    throw new ConfigError('CREDENTIALS_KEY', 'must be 64 hexadecimal characters (a 32-byte AES-256 key)');
  }
  const adminJwtSecret = optional(env, 'ADMIN_JWT_SECRET');
  if (adminJwtSecret !== undefined && adminJwtSecret.length < 32) {
    throw new ConfigError('ADMIN_JWT_SECRET', 'must be at least 32 characters');
  }
  if (!embedded && credentialsKeyHex === undefined) {
    throw new ConfigError('CREDENTIALS_KEY', 'is required when DATABASE_URL is set');
  }
  if (!embedded && adminJwtSecret === undefined) {
    throw new ConfigError('ADMIN_JWT_SECRET', 'is required when DATABASE_URL is set');
  }
  const config: Config = {
    host: optional(env, 'HOST') ?? '127.0.0.1',
    port: integer(env, 'PORT', 8080, 0, 65535),
    database,
    credentialsKeyHex,
    adminJwtSecret,
    pool: {
      maxPerTenant: integer(env, 'POOL_MAX', 10, 1, 1000),
      maxPools: integer(env, 'MAX_POOLS', 100, 1, 1_000_000),
      idleTimeoutSeconds: integer(env, 'POOL_IDLE_TIMEOUT', 60, 1, 86_400),
      connectTimeoutSeconds: integer(env, 'CONNECT_TIMEOUT', 5, 1, 600),
    },
    bodyLimitBytes: integer(env, 'BODY_LIMIT', 16_384, 256, 10_485_760),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    seedDemo: boolean(env, 'SEED_DEMO', embedded),
  };
  return deepFreeze(config);
}

function readDatabase(env: Env): DatabaseConfig {
  const url = optional(env, 'DATABASE_URL');
  if (url === undefined) {
    return {
      kind: 'embedded',
      dataDir: optional(env, 'DATA_DIR') ?? '.data',
      port: integer(env, 'EMBEDDED_PG_PORT', 54329, 1024, 65535),
    };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('DATABASE_URL', 'is not a valid URL (expected postgres://user:password@host:port/database)');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', 'must start with postgres:// or postgresql://');
  }
  if (parsed.pathname.length <= 1) {
    throw new ConfigError('DATABASE_URL', 'must name a database (…/database)');
  }
  return { kind: 'url', url };
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d{1,10}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max} (got "${raw}")`);
  }
  return Number(raw);
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = optional(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(name, 'must be true or false');
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}`);
  }
  return raw as T;
}

function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value)) {
    if (typeof inner === 'object' && inner !== null) deepFreeze(inner);
  }
  return Object.freeze(value);
}
