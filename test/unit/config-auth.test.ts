// loadConfig for caller authentication, rate limits, shutdown and the credentials key ring: defaults,
// every invalid value refused with a ConfigError naming its variable, and no secret ever echoed back.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { matches } from '../../src/http/cidr.js';

const KEY1 = '0123456789abcdef'.repeat(4);
const KEY2 = 'fedcba9876543210'.repeat(4);
const ADMIN_SECRET = 'an-admin-secret-that-is-long-enough-42';
const JWT_SECRET = 'a-caller-jwt-secret-long-enough-0123456';
const JWKS_URL = 'https://idp.example/.well-known/jwks.json';
const URL_ENV = { DATABASE_URL: 'postgres://gw:pw@db.example:5432/tenantgate', ADMIN_JWT_SECRET: ADMIN_SECRET };

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

/** The error names `variable`, and neither its message nor its stack repeats any of `secrets`. */
function expectConfigError(env: Record<string, string>, variable: string, secrets: string[] = []): ConfigError {
  const error = configError(env);
  expect(error.variable).toBe(variable);
  expect(error.message).toContain(variable);
  for (const secret of secrets) {
    expect(error.message).not.toContain(secret);
    expect(String(error.stack)).not.toContain(secret);
  }
  return error;
}

describe('AUTH_MODE', () => {
  it('defaults to network trust of loopback only, with no trusted proxies', () => {
    const { auth } = loadConfig({});
    if (auth.mode !== 'network') throw new Error(`expected network mode, got ${auth.mode}`);
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) expect(matches(auth.trustedNetworks, address)).toBe(true);
    for (const address of ['10.0.0.1', '192.168.1.1', '::2', '8.8.8.8']) expect(matches(auth.trustedNetworks, address)).toBe(false);
    expect(auth.trustedProxies).toEqual([]);
  });

  it('reads TRUSTED_NETWORKS and TRUSTED_PROXIES', () => {
    const { auth } = loadConfig({ TRUSTED_NETWORKS: '10.0.0.0/8, fd00::/8', TRUSTED_PROXIES: '127.0.0.1/32' });
    if (auth.mode !== 'network') throw new Error('expected network mode');
    expect(matches(auth.trustedNetworks, '10.200.3.4')).toBe(true);
    expect(matches(auth.trustedNetworks, 'fd12::1')).toBe(true);
    expect(matches(auth.trustedNetworks, '127.0.0.1')).toBe(false);
    expect(matches(auth.trustedProxies, '127.0.0.1')).toBe(true);
    expect(matches(auth.trustedProxies, '127.0.0.2')).toBe(false);
  });

  it.each([
    ['TRUSTED_NETWORKS', '10.0.0.0/33'],
    ['TRUSTED_NETWORKS', 'localhost'],
    ['TRUSTED_NETWORKS', '10.0.0.0/8,::1/129'],
    ['TRUSTED_PROXIES', '999.1.1.1'],
    ['TRUSTED_PROXIES', '10.0.0.0/8/1'],
  ])('%s=%j is refused naming the variable', (variable, value) => {
    expectConfigError({ [variable]: value }, variable);
  });

  it('refuses an unknown AUTH_MODE naming the variable', () => {
    expectConfigError({ AUTH_MODE: 'header' }, 'AUTH_MODE');
  });

  it('jwt with JWT_SECRET defaults to HS256, claim tenant_id, 5 s tolerance and a 5 s JWKS cooldown', () => {
    const { auth } = loadConfig({ AUTH_MODE: 'jwt', JWT_SECRET });
    expect(auth).toEqual({
      mode: 'jwt',
      secret: JWT_SECRET,
      jwksUrl: undefined,
      jwksCooldownMs: 5000,
      algorithms: ['HS256'],
      issuer: undefined,
      audience: undefined,
      tenantClaim: 'tenant_id',
      clockToleranceSeconds: 5,
    });
  });

  it('jwt with JWKS_URL defaults to RS256 and ES256 and reads issuer, audience, claim, tolerance and cooldown', () => {
    const { auth } = loadConfig({
      AUTH_MODE: 'jwt',
      JWKS_URL,
      JWT_ISSUER: 'https://idp.example/',
      JWT_AUDIENCE: 'tenantgate',
      JWT_TENANT_CLAIM: 'tid',
      JWT_CLOCK_TOLERANCE: '0',
      JWKS_COOLDOWN: '0.5',
    });
    expect(auth).toEqual({
      mode: 'jwt',
      secret: undefined,
      jwksUrl: JWKS_URL,
      jwksCooldownMs: 500,
      algorithms: ['RS256', 'ES256'],
      issuer: 'https://idp.example/',
      audience: 'tenantgate',
      tenantClaim: 'tid',
      clockToleranceSeconds: 0,
    });
  });

  it('JWT_ALGORITHMS narrows the allowlist', () => {
    const { auth } = loadConfig({ AUTH_MODE: 'jwt', JWKS_URL, JWT_ALGORITHMS: ' ES256 , EdDSA ' });
    expect(auth.mode === 'jwt' && auth.algorithms).toEqual(['ES256', 'EdDSA']);
  });

  it('jwt without JWT_SECRET or JWKS_URL is refused naming JWT_SECRET', () => {
    const error = expectConfigError({ AUTH_MODE: 'jwt' }, 'JWT_SECRET');
    expect(error.message).toContain('JWKS_URL');
  });

  it('jwt with both JWT_SECRET and JWKS_URL is refused naming JWKS_URL, without the secret', () => {
    expectConfigError({ AUTH_MODE: 'jwt', JWT_SECRET, JWKS_URL }, 'JWKS_URL', [JWT_SECRET]);
  });

  it('a JWT_SECRET under 32 characters is refused without echoing it', () => {
    const short = 'short-caller-secret-31-chars-xx';
    expect(short).toHaveLength(31);
    expectConfigError({ AUTH_MODE: 'jwt', JWT_SECRET: short }, 'JWT_SECRET', [short]);
    expect(loadConfig({ AUTH_MODE: 'jwt', JWT_SECRET: `${short}y` }).auth.mode).toBe('jwt');
  });

  it.each([['ftp://idp.example/jwks'], ['idp.example/jwks'], ['https://idp example/jwks']])('JWKS_URL=%j is refused', (url) => {
    expectConfigError({ AUTH_MODE: 'jwt', JWKS_URL: url }, 'JWKS_URL');
  });

  it.each([
    ['none with a secret', { JWT_SECRET, JWT_ALGORITHMS: 'none' }],
    ['none among others', { JWKS_URL, JWT_ALGORITHMS: 'RS256,none' }],
    ['an HS algorithm with JWKS_URL', { JWKS_URL, JWT_ALGORITHMS: 'RS256,HS256' }],
    ['an asymmetric algorithm with JWT_SECRET', { JWT_SECRET, JWT_ALGORITHMS: 'HS256,RS256' }],
    ['an unknown algorithm', { JWKS_URL, JWT_ALGORITHMS: 'RS1' }],
    ['an empty list', { JWKS_URL, JWT_ALGORITHMS: ' , ' }],
  ])('JWT_ALGORITHMS with %s is refused naming JWT_ALGORITHMS', (_label, env) => {
    expectConfigError({ AUTH_MODE: 'jwt', ...env }, 'JWT_ALGORITHMS', 'JWT_SECRET' in env ? [JWT_SECRET] : []);
  });

  it.each([['-1'], ['301'], ['1.5']])('JWT_CLOCK_TOLERANCE=%j is refused', (value) => {
    expectConfigError({ AUTH_MODE: 'jwt', JWT_SECRET, JWT_CLOCK_TOLERANCE: value }, 'JWT_CLOCK_TOLERANCE');
  });
});

describe('RATE_LIMIT_RPS and RATE_LIMIT_BURST', () => {
  it('default to no limit', () => {
    expect(loadConfig({}).rateLimit).toEqual({ rps: 0, burst: 1 });
  });

  it('burst defaults to twice the rate', () => {
    expect(loadConfig({ RATE_LIMIT_RPS: '10' }).rateLimit).toEqual({ rps: 10, burst: 20 });
  });

  it('reads an explicit burst', () => {
    expect(loadConfig({ RATE_LIMIT_RPS: '10', RATE_LIMIT_BURST: '5' }).rateLimit).toEqual({ rps: 10, burst: 5 });
    expect(loadConfig({ RATE_LIMIT_RPS: ' 3 ', RATE_LIMIT_BURST: '1' }).rateLimit).toEqual({ rps: 3, burst: 1 });
  });

  it.each([
    ['RATE_LIMIT_RPS', '-1'],
    ['RATE_LIMIT_RPS', '1.5'],
    ['RATE_LIMIT_RPS', 'ten'],
    ['RATE_LIMIT_RPS', '1e3'],
    ['RATE_LIMIT_RPS', '1000001'],
    ['RATE_LIMIT_BURST', '0'],
    ['RATE_LIMIT_BURST', '-5'],
    ['RATE_LIMIT_BURST', '2.5'],
  ])('%s=%j is refused naming the variable', (variable, value) => {
    expectConfigError({ RATE_LIMIT_RPS: '10', [variable]: value }, variable);
  });
});

describe('SHUTDOWN_TIMEOUT', () => {
  it('defaults to 10 seconds and accepts decimals and 0', () => {
    expect(loadConfig({}).shutdownTimeoutSeconds).toBe(10);
    expect(loadConfig({ SHUTDOWN_TIMEOUT: '2.5' }).shutdownTimeoutSeconds).toBe(2.5);
    expect(loadConfig({ SHUTDOWN_TIMEOUT: '0' }).shutdownTimeoutSeconds).toBe(0);
    expect(loadConfig({ SHUTDOWN_TIMEOUT: '3600' }).shutdownTimeoutSeconds).toBe(3600);
  });

  it.each([['-1'], ['3601'], ['ten'], ['1,5']])('SHUTDOWN_TIMEOUT=%j is refused', (value) => {
    expectConfigError({ SHUTDOWN_TIMEOUT: value }, 'SHUTDOWN_TIMEOUT');
  });
});

describe('CREDENTIALS_KEYS', () => {
  it('a valid key ring takes the place of CREDENTIALS_KEY with DATABASE_URL', () => {
    const spec = `k2:${KEY2},k1:${KEY1}`;
    const config = loadConfig({ ...URL_ENV, CREDENTIALS_KEYS: spec });
    expect(config.credentialsKeys).toBe(spec);
    expect(config.credentialsKeyHex).toBeUndefined();
  });

  it('without either key, DATABASE_URL is refused naming CREDENTIALS_KEY', () => {
    expectConfigError({ ...URL_ENV }, 'CREDENTIALS_KEY');
  });

  it('a duplicate key id is refused without echoing any key', () => {
    const error = expectConfigError({ ...URL_ENV, CREDENTIALS_KEYS: `k1:${KEY2},k1:${KEY1}` }, 'CREDENTIALS_KEYS', [KEY1, KEY2, ADMIN_SECRET]);
    expect(error.message).toContain('k1');
  });

  it.each([
    ['bad hex', () => `k2:${'g'.repeat(64)},k1:${KEY1}`],
    ['a short key', () => `k2:${KEY2.slice(0, 63)},k1:${KEY1}`],
    ['a long key', () => `k2:${KEY2}0,k1:${KEY1}`],
    ['a missing id', () => `${KEY2}`],
    ['a wrong separator', () => `k2=${KEY2}`],
    ['an extra field', () => `k2:${KEY2}:x`],
    ['an invalid id', () => `k 2:${KEY2}`],
    ['no keys at all', () => ' , '],
  ])('a key ring with %s is refused without echoing any key', (_label, spec) => {
    expectConfigError({ ...URL_ENV, CREDENTIALS_KEYS: spec() }, 'CREDENTIALS_KEYS', [KEY1, KEY2, KEY2.slice(0, 63), 'g'.repeat(64), ADMIN_SECRET]);
  });

  it('both CREDENTIALS_KEY and CREDENTIALS_KEYS are refused, naming CREDENTIALS_KEYS, without echoing a key', () => {
    const error = expectConfigError({ ...URL_ENV, CREDENTIALS_KEY: KEY1, CREDENTIALS_KEYS: `k2:${KEY2}` }, 'CREDENTIALS_KEYS', [KEY1, KEY2]);
    expect(error.message).toMatch(/CREDENTIALS_KEY\b/);
  });
});

describe('no ConfigError ever contains a secret value', () => {
  it.each([
    ['a short ADMIN_JWT_SECRET', { ADMIN_JWT_SECRET: 'admin-secret-too-short' }, 'admin-secret-too-short'],
    ['a malformed CREDENTIALS_KEY', { CREDENTIALS_KEY: `${KEY1.slice(0, 60)}zzzz` }, `${KEY1.slice(0, 60)}zzzz`],
    ['a short JWT_SECRET', { AUTH_MODE: 'jwt', JWT_SECRET: 'caller-secret-too-short' }, 'caller-secret-too-short'],
    ['JWT_SECRET beside an invalid JWKS_URL', { AUTH_MODE: 'jwt', JWT_SECRET, JWKS_URL: 'nope' }, JWT_SECRET],
    ['a JWKS_URL with credentials that is not http(s)', { AUTH_MODE: 'jwt', JWKS_URL: 'ftp://user:jwks-pass-9@idp/jwks' }, 'jwks-pass-9'],
    ['a DATABASE_URL with a password and a bad scheme', { DATABASE_URL: 'mysql://gw:db-pass-7@h/db' }, 'db-pass-7'],
  ])('for %s', (_label, env, secret) => {
    const error = configError(env);
    expect(error.message).not.toContain(secret);
    expect(String(error.stack)).not.toContain(secret);
    expect(JSON.stringify(error)).not.toContain(secret);
  });
});

describe('METRICS_NETWORKS', () => {
  it('defaults to loopback plus TRUSTED_NETWORKS in network mode', () => {
    const { monitoringNetworks } = loadConfig({ TRUSTED_NETWORKS: '10.0.0.0/8' });
    for (const address of ['127.0.0.1', '::1', '10.1.2.3']) expect(matches(monitoringNetworks, address)).toBe(true);
    expect(matches(monitoringNetworks, '192.168.1.1')).toBe(false);
  });

  it('defaults to loopback only in jwt mode', () => {
    const { monitoringNetworks } = loadConfig({ AUTH_MODE: 'jwt', JWT_SECRET });
    expect(matches(monitoringNetworks, '127.0.0.1')).toBe(true);
    expect(matches(monitoringNetworks, '10.1.2.3')).toBe(false);
  });

  it('when set, is exactly the list given', () => {
    const { monitoringNetworks } = loadConfig({ TRUSTED_NETWORKS: '10.0.0.0/8', METRICS_NETWORKS: '192.168.0.0/16' });
    expect(matches(monitoringNetworks, '192.168.4.5')).toBe(true);
    expect(matches(monitoringNetworks, '127.0.0.1')).toBe(false);
    expect(matches(monitoringNetworks, '10.1.2.3')).toBe(false);
  });

  it('refuses a malformed list, naming the variable', () => {
    expectConfigError({ METRICS_NETWORKS: '10.0.0.0/33' }, 'METRICS_NETWORKS');
  });
});

describe('JWT_MAX_AGE and secret separation', () => {
  it('reads JWT_MAX_AGE in seconds, unset by default', () => {
    const unset = loadConfig({ AUTH_MODE: 'jwt', JWT_SECRET }).auth;
    expect(unset.mode === 'jwt' && unset.maxAgeSeconds).toBeUndefined();
    const set = loadConfig({ AUTH_MODE: 'jwt', JWT_SECRET, JWT_MAX_AGE: '3600' }).auth;
    expect(set.mode === 'jwt' && set.maxAgeSeconds).toBe(3600);
    expectConfigError({ AUTH_MODE: 'jwt', JWT_SECRET, JWT_MAX_AGE: '0' }, 'JWT_MAX_AGE');
    expectConfigError({ AUTH_MODE: 'jwt', JWT_SECRET, JWT_MAX_AGE: 'an hour' }, 'JWT_MAX_AGE');
  });

  it('refuses a JWT_SECRET equal to ADMIN_JWT_SECRET, without echoing it', () => {
    expectConfigError({ ...URL_ENV, CREDENTIALS_KEY: KEY1, AUTH_MODE: 'jwt', JWT_SECRET: ADMIN_SECRET }, 'JWT_SECRET', [ADMIN_SECRET]);
  });
});

describe('REQUEST_TIMEOUT', () => {
  it('defaults to 30 s, takes decimals, refuses nonsense', () => {
    expect(loadConfig({}).requestTimeoutMs).toBe(30_000);
    expect(loadConfig({ REQUEST_TIMEOUT: '2.5' }).requestTimeoutMs).toBe(2_500);
    expectConfigError({ REQUEST_TIMEOUT: '0' }, 'REQUEST_TIMEOUT');
    expectConfigError({ REQUEST_TIMEOUT: 'soon' }, 'REQUEST_TIMEOUT');
  });
});
