import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const KEY = '0123456789abcdef'.repeat(4);
const JWT_SECRET = 'a-jwt-secret-that-is-long-enough-0123';
const URL_ENV = { DATABASE_URL: 'postgres://gw:pw@db.example:5432/tenantgate', CREDENTIALS_KEY: KEY, ADMIN_JWT_SECRET: JWT_SECRET };

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig in embedded mode (no DATABASE_URL)', () => {
  it('defaults to 127.0.0.1:8080, the embedded database in .data and the demo seed', () => {
    const config = loadConfig({});
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(8080);
    expect(config.seedDemo).toBe(true);
    expect(config.logLevel).toBe('info');
    expect(config.database).toEqual({ kind: 'embedded', dataDir: '.data', port: 54329 });
    expect(config.credentialsKeyHex).toBeUndefined();
    expect(config.adminJwtSecret).toBeUndefined();
    expect(config.pool).toEqual({
      maxPerTenant: 5,
      maxPools: 100,
      idleTimeoutSeconds: 60,
      connectTimeoutSeconds: 5,
      maxConnectionsTotal: 64,
      sharedPoolMax: 8,
      catalogPoolMax: 3,
      promoteRps: 500,
      dedicatedConnectionRps: 1000,
      dedicatedMaxConnections: 16,
      sharedScopeMode: 'session',
      tenantCacheTtlSeconds: 30,
      queryTimeoutMs: 30_000,
      pipelineDepth: 4,
      sharedPreparedMax: 4000,
    });
    expect(config.queue).toEqual({ timeoutMs: 2000, maxWaiting: 1000, maxWaitingPerTenant: 250 });
  });

  it('reads TENANT_MODEL (rls unless set) and refuses an unknown model, naming the variable', () => {
    expect(loadConfig({}).tenantModel).toBe('rls');
    expect(loadConfig({ TENANT_MODEL: 'schema' }).tenantModel).toBe('schema');
    expect(loadConfig({ TENANT_MODEL: 'database' }).tenantModel).toBe('database');
    const error = configError({ TENANT_MODEL: 'citus' });
    expect(error.message).toContain('TENANT_MODEL');
  });

  it('reads METRICS_TENANT_SERIES: 20 unless set, 0 allowed (every tenant is "other")', () => {
    expect(loadConfig({}).metricsTenantSeries).toBe(20);
    expect(loadConfig({ METRICS_TENANT_SERIES: '0' }).metricsTenantSeries).toBe(0);
    expect(loadConfig({ METRICS_TENANT_SERIES: '1000' }).metricsTenantSeries).toBe(1000);
  });

  it('treats blank variables as unset', () => {
    const config = loadConfig({ DATABASE_URL: '  ', PORT: '', CREDENTIALS_KEY: ' ' });
    expect(config.database.kind).toBe('embedded');
    expect(config.port).toBe(8080);
    expect(config.credentialsKeyHex).toBeUndefined();
  });

  it('reads DATA_DIR, EMBEDDED_PG_PORT, PORT and SEED_DEMO', () => {
    const config = loadConfig({ DATA_DIR: '/tmp/tg', EMBEDDED_PG_PORT: '6000', PORT: '0', SEED_DEMO: 'false' });
    expect(config.database).toEqual({ kind: 'embedded', dataDir: '/tmp/tg', port: 6000 });
    expect(config.port).toBe(0);
    expect(config.seedDemo).toBe(false);
  });
});

describe('budget and queue settings', () => {
  it('reads the budget, queue and promotion variables', () => {
    const config = loadConfig({
      MAX_CONNECTIONS_TOTAL: '90',
      SHARED_POOL_MAX: '12',
      SHARED_POOL_PREPARED_MAX: '500',
      POOL_MAX: '6',
      QUEUE_TIMEOUT: '0.5',
      QUEUE_MAX: '200',
      QUEUE_TENANT_SHARE: '0.1',
      PROMOTE_RPS: '50',
      TENANT_CACHE_TTL: '10',
    });
    expect(config.pool).toMatchObject({
      maxConnectionsTotal: 90,
      sharedPoolMax: 12,
      sharedPreparedMax: 500,
      maxPerTenant: 6,
      promoteRps: 50,
      tenantCacheTtlSeconds: 10,
    });
    expect(config.queue).toEqual({ timeoutMs: 500, maxWaiting: 200, maxWaitingPerTenant: 20 });
  });

  it('explains what MAX_CONNECTIONS_TOTAL must at least cover', () => {
    expect(() => loadConfig({ MAX_CONNECTIONS_TOTAL: '10' })).toThrow(/at least 16: 3 catalog \+ SHARED_POOL_MAX \(8\) \+ POOL_MAX \(5\)/);
  });
});

describe('loadConfig with DATABASE_URL', () => {
  it('uses the URL and both secrets, without seeding a demo by default', () => {
    const config = loadConfig(URL_ENV);
    expect(config.database).toEqual({ kind: 'url', url: URL_ENV.DATABASE_URL });
    expect(config.credentialsKeyHex).toBe(KEY);
    expect(config.adminJwtSecret).toBe(JWT_SECRET);
    expect(config.seedDemo).toBe(false);
  });

  it('accepts the postgresql:// scheme', () => {
    const url = 'postgresql://gw@localhost/catalog';
    expect(loadConfig({ ...URL_ENV, DATABASE_URL: url }).database).toEqual({ kind: 'url', url });
  });

  it('requires CREDENTIALS_KEY', () => {
    const { CREDENTIALS_KEY: _omitted, ...env } = URL_ENV;
    const error = configError(env);
    expect(error.variable).toBe('CREDENTIALS_KEY');
    expect(error.message).toContain('CREDENTIALS_KEY');
  });

  it('requires ADMIN_JWT_SECRET', () => {
    const { ADMIN_JWT_SECRET: _omitted, ...env } = URL_ENV;
    const error = configError(env);
    expect(error.variable).toBe('ADMIN_JWT_SECRET');
    expect(error.message).toContain('ADMIN_JWT_SECRET');
  });
});

describe('loadConfig rejects invalid values with a ConfigError naming the variable', () => {
  const cases: [string, Record<string, string>][] = [
    ['PORT', { PORT: 'abc' }],
    ['PORT', { PORT: '70000' }],
    ['PORT', { PORT: '-1' }],
    ['POOL_MAX', { POOL_MAX: '0' }],
    ['MAX_CONNECTIONS_TOTAL', { MAX_CONNECTIONS_TOTAL: '10' }],
    ['MAX_CONNECTIONS_TOTAL', { MAX_CONNECTIONS_TOTAL: '20', SHARED_POOL_MAX: '10', POOL_MAX: '8' }],
    ['SHARED_POOL_MAX', { SHARED_POOL_MAX: '0' }],
    ['SHARED_POOL_PREPARED_MAX', { SHARED_POOL_PREPARED_MAX: '5' }],
    ['QUEUE_TIMEOUT', { QUEUE_TIMEOUT: 'soon' }],
    ['QUEUE_TIMEOUT', { QUEUE_TIMEOUT: '0' }],
    ['QUEUE_MAX', { QUEUE_MAX: '0' }],
    ['QUEUE_TENANT_SHARE', { QUEUE_TENANT_SHARE: '1.5' }],
    ['QUEUE_TENANT_SHARE', { QUEUE_TENANT_SHARE: '0' }],
    ['PROMOTE_RPS', { PROMOTE_RPS: '-1' }],
    ['METRICS_TENANT_SERIES', { METRICS_TENANT_SERIES: '1001' }],
    ['METRICS_TENANT_SERIES', { METRICS_TENANT_SERIES: 'ten' }],
    ['CREDENTIALS_KEY', { CREDENTIALS_KEY: KEY.slice(0, 63) }],
    ['CREDENTIALS_KEY', { CREDENTIALS_KEY: `${KEY.slice(0, 63)}g` }],
    ['ADMIN_JWT_SECRET', { ADMIN_JWT_SECRET: 'x'.repeat(31) }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['SEED_DEMO', { SEED_DEMO: 'maybe' }],
    ['DATABASE_URL', { ...URL_ENV, DATABASE_URL: 'not a url' }],
    ['DATABASE_URL', { ...URL_ENV, DATABASE_URL: 'mysql://root:pw@localhost:3306/app' }],
    ['DATABASE_URL', { ...URL_ENV, DATABASE_URL: 'postgres://gw:pw@localhost:5432' }],
    ['DATABASE_URL', { ...URL_ENV, DATABASE_URL: 'postgres://gw:pw@localhost:5432/' }],
  ];

  it.each(cases)('%s in %j', (variable, env) => {
    const error = configError(env);
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(variable);
  });
});

describe('ConfigError messages never contain a secret value', () => {
  it('for a malformed CREDENTIALS_KEY', () => {
    for (const key of [KEY.slice(0, 63), `${KEY.slice(0, 63)}z`, `${KEY}00`]) {
      const error = configError({ ...URL_ENV, CREDENTIALS_KEY: key });
      expect(error.variable).toBe('CREDENTIALS_KEY');
      expect(error.message).not.toContain(key);
      expect(error.message).not.toContain(KEY.slice(0, 16));
    }
  });

  it('for a short ADMIN_JWT_SECRET', () => {
    const secret = 'short-secret-hunter2';
    const error = configError({ ...URL_ENV, ADMIN_JWT_SECRET: secret });
    expect(error.variable).toBe('ADMIN_JWT_SECRET');
    expect(error.message).not.toContain(secret);
  });

  it('for a DATABASE_URL carrying a password', () => {
    for (const url of ['mysql://root:hunter2@localhost/app', 'postgres://gw:hunter2@localhost', 'postgres://gw:hunter2@[bad']) {
      const error = configError({ ...URL_ENV, DATABASE_URL: url });
      expect(error.variable).toBe('DATABASE_URL');
      expect(error.message).not.toContain('hunter2');
    }
  });
});

describe('the loaded config', () => {
  it('is frozen, nested objects included', () => {
    for (const config of [loadConfig({}), loadConfig(URL_ENV)]) {
      expect(Object.isFrozen(config)).toBe(true);
      expect(Object.isFrozen(config.database)).toBe(true);
      expect(Object.isFrozen(config.pool)).toBe(true);
      expect(() => {
        (config as { port: number }).port = 1;
      }).toThrow(TypeError);
      expect(() => {
        (config.pool as { maxPerTenant: number }).maxPerTenant = 1;
      }).toThrow(TypeError);
      expect(config.pool.maxPerTenant).toBe(5);
    }
  });
});

describe('every invalid variable at once', () => {
  it('reports each bad variable in one error, in the order read, so a deployment is fixed in one round', () => {
    const error = configError({
      ...URL_ENV,
      CREDENTIALS_KEY: 'short',
      PORT: 'eighty',
      POOL_MAX: '0',
      QUEUE_TIMEOUT: 'soon',
      LOG_LEVEL: 'loud',
      TENANT_MODEL: 'citus',
    });
    expect(error.problems.map((p) => p.variable)).toEqual(['CREDENTIALS_KEY', 'POOL_MAX', 'QUEUE_TIMEOUT', 'PORT', 'LOG_LEVEL', 'TENANT_MODEL']);
    expect(error.variable).toBe('CREDENTIALS_KEY');
    for (const variable of ['CREDENTIALS_KEY', 'PORT', 'POOL_MAX', 'QUEUE_TIMEOUT', 'LOG_LEVEL', 'TENANT_MODEL']) expect(error.message).toContain(variable);
    expect(error.message).not.toContain('short');
  });

  it('an invalid value does not also report the checks that would depend on it', () => {
    // POOL_MAX falls back to 5 while invalid: the budget check must not blame MAX_CONNECTIONS_TOTAL for it.
    expect(configError({ POOL_MAX: 'many', MAX_CONNECTIONS_TOTAL: '20' }).problems).toEqual([
      { variable: 'POOL_MAX', message: expect.stringContaining('integer') },
    ]);
    // An invalid AUTH_MODE hides TENANT_FROM's checks, which are about the mode.
    expect(configError({ AUTH_MODE: 'header', TENANT_FROM: 'jwt' }).problems.map((p) => p.variable)).toEqual(['AUTH_MODE']);
  });

  it('reports problems from the database, auth and pool readers together', () => {
    const error = configError({ DATABASE_URL: 'mysql://x/y', AUTH_MODE: 'jwt', SHARED_POOL_MAX: '0' });
    expect(error.problems.map((p) => p.variable)).toEqual(['DATABASE_URL', 'SHARED_POOL_MAX', 'JWT_SECRET']);
  });
});
