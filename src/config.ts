// Reads and validates every environment variable once, at start-up. Nothing else in the gateway reads
// process.env: modules receive the frozen Config (or the part of it they need) as an argument.
import { ISOLATION_MODEL_NAMES, type IsolationModelName } from './tenants/placement.js';
import { CidrError, parseCidrList, type Cidr } from './http/cidr.js';
import type { CallerAuthConfig } from './http/caller-auth.js';
import { isDnsName, type TenantSource } from './http/tenant-host.js';
import { parseKeyRing } from './crypto/key-ring.js';
import { PREPARED_PER_CONNECTION } from './pool/shared-pool.js';

export type DatabaseConfig = { readonly kind: 'url'; readonly url: string } | { readonly kind: 'embedded'; readonly dataDir: string; readonly port: number };

export interface PoolConfig {
  /** Connections one tenant's pool may open. */
  readonly maxPerTenant: number;
  /** Tenant pools kept open at once; the least recently used is closed beyond this. */
  readonly maxPools: number;
  /** Seconds a pool (and each of its connections) may sit idle before it is closed. */
  readonly idleTimeoutSeconds: number;
  /** Seconds to wait for a new PostgreSQL connection before giving up with 503. */
  readonly connectTimeoutSeconds: number;
  /** Every connection the gateway opens (catalog, shared pool, dedicated pools) fits in this budget. */
  readonly maxConnectionsTotal: number;
  /** Connections of the shared pool (one scoped role, once the "authenticator") for tenants without a dedicated pool. */
  readonly sharedPoolMax: number;
  /** Connections of the catalog pool (admin operations, tenant look-ups), counted in the budget. */
  readonly catalogPoolMax: number;
  /** A tenant whose request rate reaches this many per second gets a dedicated pool. */
  readonly promoteRps: number;
  /** Requests per second one dedicated connection is sized to carry. */
  readonly dedicatedConnectionRps: number;
  /** Connections all dedicated pools may hold together. */
  readonly dedicatedMaxConnections: number;
  /** How the shared pool scopes a statement: a session setting, or SET LOCAL in a transaction (Citus). */
  readonly sharedScopeMode: 'session' | 'transaction';
  /** How long a tenant's role and status are cached before the catalog is read again. */
  readonly tenantCacheTtlSeconds: number;
  /** A tenant statement still unanswered after this gets 503 (PostgreSQL also cancels it). */
  readonly queryTimeoutMs: number;
  /** Statements in flight per connection (pipelined); 1 turns pipelining off. */
  readonly pipelineDepth: number;
  /** Prepared statements a shared-pool connection keeps (schema tenants prepare their own). */
  readonly sharedPreparedMax: number;
}

export interface QueueConfig {
  /** Milliseconds a request may wait for a connection before it gets 503. */
  readonly timeoutMs: number;
  /** Requests waiting at once, over all pools. */
  readonly maxWaiting: number;
  /** Requests one tenant may have waiting at once. */
  readonly maxWaitingPerTenant: number;
}

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly database: DatabaseConfig;
  /** 32-byte AES key; absent only in embedded mode, where it is generated once and kept in the data dir. */
  readonly credentialsKeyHex: string | undefined;
  /** Key ring `id:hex,…`, newest first (master-key rotation); takes the place of CREDENTIALS_KEY. */
  readonly credentialsKeys: string | undefined;
  /** HS256 secret for admin tokens; absent only in embedded mode (generated like the key). */
  readonly adminJwtSecret: string | undefined;
  readonly pool: PoolConfig;
  readonly queue: QueueConfig;
  readonly auth: CallerAuthConfig;
  /** How a request names its tenant (TENANT_FROM): x-tenant-id, the token's claim, or the Host's subdomain. */
  readonly tenant: TenantSource;
  /** Who may read /metrics and /health/ready (socket address; X-Forwarded-For behind trusted proxies). */
  readonly monitoringNetworks: readonly Cidr[];
  /** Tenants with per-tenant metric series of their own (the busiest); the rest share tenant="other". */
  readonly metricsTenantSeries: number;
  /** Milliseconds a client has to send a request's headers and body (answered 408 after). */
  readonly requestTimeoutMs: number;
  readonly rateLimit: RateLimitConfig;
  /** Seconds in-flight requests get to finish after SIGTERM/SIGINT before connections are cut. */
  readonly shutdownTimeoutSeconds: number;
  readonly bodyLimitBytes: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Create a demo tenant with a few users when the catalog is empty (default: on in embedded mode). */
  readonly seedDemo: boolean;
  /** The isolation model of tenants created without one (TENANT_MODEL): rls unless set. */
  readonly tenantModel: IsolationModelName;
  /** How long the first answer to an Idempotency-Key is kept and replayed (seconds). */
  readonly idempotencyTtlSeconds: number;
}

export interface RateLimitConfig {
  /** Requests per second each tenant may make; 0 turns the limit off (per-tenant overrides still apply). */
  readonly rps: number;
  readonly burst: number;
}

export interface ConfigProblem {
  readonly variable: string;
  readonly message: string;
}

/** Every invalid variable at once (in the order read), so a deployment is fixed in one round. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  /** The first invalid variable. */
  readonly variable: string;
  constructor(variable: string, message: string);
  constructor(problems: readonly ConfigProblem[]);
  constructor(first: string | readonly ConfigProblem[], message = '') {
    const problems = typeof first === 'string' ? [{ variable: first, message }] : first;
    super(problems.map((p) => `${p.variable}: ${p.message}`).join('; '));
    this.name = 'ConfigError';
    this.problems = problems;
    this.variable = problems[0]?.variable ?? '';
  }
}

/** The environment being read, and the problems found so far (each reader adds its own and goes on). */
interface Source {
  readonly values: Env;
  readonly problems: ConfigProblem[];
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function loadConfig(values: Env = process.env): Config {
  const env: Source = { values, problems: [] };
  const database = attempt(env, () => readDatabase(env));
  const embedded = database?.kind !== 'url';
  let credentialsKeyHex = optional(env, 'CREDENTIALS_KEY');
  if (credentialsKeyHex !== undefined && !/^[0-9a-fA-F]{64}$/.test(credentialsKeyHex)) {
    credentialsKeyHex = problem(env, 'CREDENTIALS_KEY', 'must be 64 hexadecimal characters (a 32-byte AES-256 key)', undefined);
  }
  const credentialsKeys = attempt(env, () => readKeyRing(env, credentialsKeyHex));
  const adminJwtSecret = optional(env, 'ADMIN_JWT_SECRET');
  if (adminJwtSecret !== undefined && adminJwtSecret.length < 32) {
    problem(env, 'ADMIN_JWT_SECRET', 'must be at least 32 characters', undefined);
  }
  if (!embedded && optional(env, 'CREDENTIALS_KEY') === undefined && optional(env, 'CREDENTIALS_KEYS') === undefined) {
    problem(env, 'CREDENTIALS_KEY', 'is required when DATABASE_URL is set (or CREDENTIALS_KEYS, a key ring)', undefined);
  }
  if (!embedded && adminJwtSecret === undefined) {
    problem(env, 'ADMIN_JWT_SECRET', 'is required when DATABASE_URL is set', undefined);
  }
  const pool = attempt(env, () => readPool(env));
  const auth = attempt(env, () => readAuth(env));
  const queueMax = integer(env, 'QUEUE_MAX', 1000, 1, 1_000_000);
  const queueTimeoutMs = Math.round(seconds(env, 'QUEUE_TIMEOUT', 2, 0.01, 600) * 1000);
  const queueShare = fraction(env, 'QUEUE_TENANT_SHARE', 0.25);
  // Both depend on the auth mode: not read when it is itself invalid (they would report its fallout).
  const tenant = auth && attempt(env, () => readTenantSource(env, auth));
  const monitoringNetworks = auth && attempt(env, () => readMonitoringNetworks(env, auth));
  const rest = {
    host: optional(env, 'HOST') ?? '127.0.0.1',
    port: integer(env, 'PORT', 8080, 0, 65535),
    metricsTenantSeries: integer(env, 'METRICS_TENANT_SERIES', 20, 0, 1000),
    rateLimit: readRateLimit(env),
    shutdownTimeoutSeconds: seconds(env, 'SHUTDOWN_TIMEOUT', 10, 0, 3600),
    bodyLimitBytes: integer(env, 'BODY_LIMIT', 16_384, 256, 10_485_760),
    requestTimeoutMs: Math.round(seconds(env, 'REQUEST_TIMEOUT', 30, 0.1, 3600) * 1000),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    seedDemo: boolean(env, 'SEED_DEMO', embedded),
    tenantModel: oneOf(env, 'TENANT_MODEL', ISOLATION_MODEL_NAMES, 'rls'),
    idempotencyTtlSeconds: integer(env, 'IDEMPOTENCY_TTL_SECONDS', 86_400, 1, 2_592_000),
  };
  if (env.problems.length > 0 || !database || !pool || !auth || !tenant || !monitoringNetworks) throw new ConfigError(env.problems);
  const config: Config = {
    ...rest,
    database,
    credentialsKeyHex,
    credentialsKeys,
    adminJwtSecret,
    pool,
    queue: { timeoutMs: queueTimeoutMs, maxWaiting: queueMax, maxWaitingPerTenant: Math.max(1, Math.floor(queueMax * queueShare)) },
    auth,
    tenant,
    monitoringNetworks,
  };
  return deepFreeze(config);
}

function readKeyRing(env: Source, credentialsKeyHex: string | undefined): string | undefined {
  const credentialsKeys = optional(env, 'CREDENTIALS_KEYS');
  if (credentialsKeys === undefined) return undefined;
  if (credentialsKeyHex !== undefined) throw new ConfigError('CREDENTIALS_KEYS', 'set either CREDENTIALS_KEYS or CREDENTIALS_KEY, not both');
  try {
    parseKeyRing(credentialsKeys);
  } catch (err) {
    throw new ConfigError('CREDENTIALS_KEYS', err instanceof Error ? err.message.replace(/^CREDENTIALS_KEYS /, '') : 'is not valid');
  }
  return credentialsKeys;
}

/**
 * Runs a reader whose checks depend on each other (the first failure ends it), recording its problem
 * and going on with the next reader; undefined when it failed.
 */
function attempt<T>(env: Source, read: () => T): T | undefined {
  const before = env.problems.length;
  try {
    const value = read();
    return env.problems.length === before ? value : undefined;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    env.problems.push(...err.problems);
    return undefined;
  }
}

/** Records a problem and returns the fallback, so reading goes on (loadConfig throws at the end). */
function problem<T>(env: Source, variable: string, message: string, fallback: T): T {
  env.problems.push({ variable, message });
  return fallback;
}

const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

function readAuth(env: Source): CallerAuthConfig {
  const mode = oneOf(env, 'AUTH_MODE', ['network', 'jwt'] as const, 'network');
  if (mode === 'network') {
    return {
      mode,
      trustedNetworks: cidrs(env, 'TRUSTED_NETWORKS', '127.0.0.0/8,::1/128'),
      trustedProxies: cidrs(env, 'TRUSTED_PROXIES', ''),
    };
  }
  const secret = optional(env, 'JWT_SECRET');
  const jwksUrl = optional(env, 'JWKS_URL');
  if (secret === undefined && jwksUrl === undefined) {
    throw new ConfigError('JWT_SECRET', 'AUTH_MODE=jwt needs JWT_SECRET (HS256) or JWKS_URL (RS256/ES256)');
  }
  if (secret !== undefined && jwksUrl !== undefined) {
    throw new ConfigError('JWKS_URL', 'set either JWT_SECRET or JWKS_URL, not both');
  }
  if (secret !== undefined && secret.length < 32) throw new ConfigError('JWT_SECRET', 'must be at least 32 characters');
  // One secret for both would let any caller token holder mint admin tokens, and the reverse.
  if (secret !== undefined && secret === optional(env, 'ADMIN_JWT_SECRET')) {
    throw new ConfigError('JWT_SECRET', 'must differ from ADMIN_JWT_SECRET');
  }
  if (jwksUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(jwksUrl)) throw new ConfigError('JWKS_URL', 'must be an http(s) URL');
  const algorithms = (optional(env, 'JWT_ALGORITHMS') ?? (secret !== undefined ? 'HS256' : 'RS256,ES256'))
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  for (const alg of algorithms) {
    if (!JWT_ALGORITHMS.includes(alg)) throw new ConfigError('JWT_ALGORITHMS', `${JSON.stringify(alg)} is not one of ${JWT_ALGORITHMS.join(', ')}`);
    if (alg.startsWith('HS') !== (secret !== undefined)) {
      throw new ConfigError('JWT_ALGORITHMS', `${alg} needs ${alg.startsWith('HS') ? 'JWT_SECRET' : 'JWKS_URL'}`);
    }
  }
  if (algorithms.length === 0) throw new ConfigError('JWT_ALGORITHMS', 'must name at least one algorithm');
  return {
    mode,
    secret,
    jwksUrl,
    jwksCooldownMs: Math.round(seconds(env, 'JWKS_COOLDOWN', 5, 0, 3600) * 1000),
    algorithms,
    issuer: optional(env, 'JWT_ISSUER'),
    audience: optional(env, 'JWT_AUDIENCE'),
    tenantClaim: optional(env, 'JWT_TENANT_CLAIM') ?? 'tenant_id',
    clockToleranceSeconds: integer(env, 'JWT_CLOCK_TOLERANCE', 5, 0, 300),
    maxAgeSeconds: optional(env, 'JWT_MAX_AGE') === undefined ? undefined : integer(env, 'JWT_MAX_AGE', 0, 1, 31_536_000),
  };
}

/**
 * The default is what each AUTH_MODE always did: x-tenant-id in network mode, the token's claim in jwt
 * mode. `header` with jwt is refused rather than read as "the header wins": that would let any token
 * holder pick any tenant, and the claim mode already accepts an x-tenant-id that repeats the claim.
 */
function readTenantSource(env: Source, auth: CallerAuthConfig): TenantSource {
  const from = oneOf(env, 'TENANT_FROM', ['header', 'jwt', 'host'] as const, auth.mode === 'jwt' ? 'jwt' : 'header');
  const baseDomain = optional(env, 'TENANT_BASE_DOMAIN');
  if (from !== 'host') {
    // Set but unused would look like host mode to whoever reads the deployment, while it is not.
    if (baseDomain !== undefined) throw new ConfigError('TENANT_BASE_DOMAIN', 'is only used with TENANT_FROM=host');
    if (from === 'jwt' && auth.mode !== 'jwt') {
      throw new ConfigError('TENANT_FROM', "jwt needs AUTH_MODE=jwt (the tenant comes from a verified token's claim)");
    }
    if (from === 'header' && auth.mode === 'jwt') {
      throw new ConfigError(
        'TENANT_FROM',
        "header needs AUTH_MODE=network: with AUTH_MODE=jwt the token's claim names the tenant (TENANT_FROM=jwt, where x-tenant-id may repeat it) or the Host does (TENANT_FROM=host)",
      );
    }
    return { from };
  }
  if (baseDomain === undefined) {
    throw new ConfigError('TENANT_BASE_DOMAIN', 'is required when TENANT_FROM=host (the domain tenants are subdomains of, e.g. example.com)');
  }
  if (!isDnsName(baseDomain)) {
    throw new ConfigError('TENANT_BASE_DOMAIN', 'must be a lower-case DNS name such as example.com (no scheme, port, wildcard or trailing dot)');
  }
  return { from, baseDomain };
}

/** Default: loopback, plus TRUSTED_NETWORKS in network mode (the callers already trusted with data). */
function readMonitoringNetworks(env: Source, auth: CallerAuthConfig): readonly Cidr[] {
  const loopback = parseCidrList('127.0.0.0/8,::1/128');
  if (optional(env, 'METRICS_NETWORKS') !== undefined) return cidrs(env, 'METRICS_NETWORKS', '');
  return auth.mode === 'network' ? [...loopback, ...auth.trustedNetworks] : loopback;
}

function readRateLimit(env: Source): RateLimitConfig {
  const rps = integer(env, 'RATE_LIMIT_RPS', 0, 0, 1_000_000);
  const burst = integer(env, 'RATE_LIMIT_BURST', Math.max(1, rps * 2), 1, 10_000_000);
  if (rps > 0 && burst < 1) throw new ConfigError('RATE_LIMIT_BURST', 'must be at least 1');
  return { rps, burst };
}

function cidrs(env: Source, name: string, fallback: string): ReturnType<typeof parseCidrList> {
  try {
    return parseCidrList(optional(env, name) ?? fallback);
  } catch (err) {
    if (err instanceof CidrError) throw new ConfigError(name, `${err.message}; expected a comma-separated list like 10.0.0.0/8,::1/128`);
    throw err;
  }
}

// Catalog connections are few and fixed; they count against the budget like every other connection.
const CATALOG_POOL_MAX = 3;

function readPool(env: Source): PoolConfig {
  const before = env.problems.length;
  const pool: PoolConfig = {
    maxPerTenant: integer(env, 'POOL_MAX', 5, 1, 1000),
    maxPools: integer(env, 'MAX_POOLS', 100, 1, 1_000_000),
    idleTimeoutSeconds: integer(env, 'POOL_IDLE_TIMEOUT', 60, 1, 86_400),
    connectTimeoutSeconds: integer(env, 'CONNECT_TIMEOUT', 5, 1, 600),
    maxConnectionsTotal: integer(env, 'MAX_CONNECTIONS_TOTAL', 64, 1, 100_000),
    sharedPoolMax: integer(env, 'SHARED_POOL_MAX', 8, 1, 1000),
    catalogPoolMax: CATALOG_POOL_MAX,
    promoteRps: integer(env, 'PROMOTE_RPS', 500, 1, 1_000_000),
    dedicatedConnectionRps: integer(env, 'DEDICATED_CONNECTION_RPS', 1000, 1, 1_000_000),
    dedicatedMaxConnections: integer(env, 'DEDICATED_MAX_CONNECTIONS', 16, 1, 100_000),
    sharedScopeMode: oneOf(env, 'SHARED_SCOPE_MODE', ['session', 'transaction'] as const, 'session'),
    tenantCacheTtlSeconds: integer(env, 'TENANT_CACHE_TTL', 30, 1, 86_400),
    queryTimeoutMs: Math.round(seconds(env, 'QUERY_TIMEOUT', 30, 0.1, 3600) * 1000),
    pipelineDepth: integer(env, 'PIPELINE_DEPTH', 4, 1, 64),
    sharedPreparedMax: integer(env, 'SHARED_POOL_PREPARED_MAX', PREPARED_PER_CONNECTION, 10, 1_000_000),
  };
  const needed = pool.catalogPoolMax + pool.sharedPoolMax + pool.maxPerTenant;
  // Checked with the values given only: a fallback standing in for an invalid one would mislead.
  if (env.problems.length === before && pool.maxConnectionsTotal < needed) {
    throw new ConfigError(
      'MAX_CONNECTIONS_TOTAL',
      `must be at least ${needed}: ${pool.catalogPoolMax} catalog + SHARED_POOL_MAX (${pool.sharedPoolMax}) + POOL_MAX (${pool.maxPerTenant}) for one dedicated pool`,
    );
  }
  return pool;
}

function readDatabase(env: Source): DatabaseConfig {
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

function optional(env: Source, name: string): string | undefined {
  const value = env.values[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function integer(env: Source, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d{1,10}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    return problem(env, name, `must be an integer from ${min} to ${max} (got "${raw}")`, fallback);
  }
  return Number(raw);
}

function seconds(env: Source, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d{1,6}(\.\d{1,3})?$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    return problem(env, name, `must be a number of seconds from ${min} to ${max}, e.g. 2 or 0.5 (got "${raw}")`, fallback);
  }
  return Number(raw);
}

function fraction(env: Source, name: string, fallback: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (!/^(0(\.\d{1,4})?|1(\.0{1,4})?)$/.test(raw) || Number(raw) <= 0) {
    return problem(env, name, `must be a fraction greater than 0 and at most 1, e.g. 0.25 (got "${raw}")`, fallback);
  }
  return Number(raw);
}

function boolean(env: Source, name: string, fallback: boolean): boolean {
  const raw = optional(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  return problem(env, name, 'must be true or false', fallback);
}

function oneOf<T extends string>(env: Source, name: string, allowed: readonly T[], fallback: T): T {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    return problem(env, name, `must be one of ${allowed.join(', ')}`, fallback);
  }
  return raw as T;
}

function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value)) {
    if (typeof inner === 'object' && inner !== null) deepFreeze(inner);
  }
  return Object.freeze(value);
}
