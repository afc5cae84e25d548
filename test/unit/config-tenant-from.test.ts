// loadConfig for TENANT_FROM and TENANT_BASE_DOMAIN: the default is what each AUTH_MODE always did,
// host mode needs a lower-case base domain, and every pairing that would weaken or confuse caller
// authentication is refused with a ConfigError naming its variable.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const JWT_SECRET = 'a-caller-jwt-secret-long-enough-0123456';

function expectConfigError(env: Record<string, string>, variable: string): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message).toContain(variable);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('TENANT_FROM defaults', () => {
  it('is the x-tenant-id header in network mode, as before', () => {
    expect(loadConfig({}).tenant).toEqual({ from: 'header' });
    expect(loadConfig({ AUTH_MODE: 'network', TENANT_FROM: ' ' }).tenant).toEqual({ from: 'header' });
  });

  it("is the token's claim in jwt mode, as before", () => {
    expect(loadConfig({ AUTH_MODE: 'jwt', JWT_SECRET }).tenant).toEqual({ from: 'jwt' });
  });

  it('accepts the defaults spelled out', () => {
    expect(loadConfig({ TENANT_FROM: 'header' }).tenant).toEqual({ from: 'header' });
    expect(loadConfig({ AUTH_MODE: 'jwt', JWT_SECRET, TENANT_FROM: 'jwt' }).tenant).toEqual({ from: 'jwt' });
  });
});

describe('TENANT_FROM=host', () => {
  it('reads TENANT_BASE_DOMAIN, in network and in jwt mode', () => {
    expect(loadConfig({ TENANT_FROM: 'host', TENANT_BASE_DOMAIN: 'example.com' }).tenant).toEqual({ from: 'host', baseDomain: 'example.com' });
    expect(loadConfig({ AUTH_MODE: 'jwt', JWT_SECRET, TENANT_FROM: 'host', TENANT_BASE_DOMAIN: ' tenants.example.co.uk ' }).tenant).toEqual({
      from: 'host',
      baseDomain: 'tenants.example.co.uk',
    });
  });

  it('takes a single-label base domain, for local development (acme.localhost)', () => {
    expect(loadConfig({ TENANT_FROM: 'host', TENANT_BASE_DOMAIN: 'localhost' }).tenant).toEqual({ from: 'host', baseDomain: 'localhost' });
  });

  it('is frozen with the rest of the configuration', () => {
    expect(Object.isFrozen(loadConfig({ TENANT_FROM: 'host', TENANT_BASE_DOMAIN: 'example.com' }).tenant)).toBe(true);
  });

  it('without TENANT_BASE_DOMAIN is refused naming it', () => {
    const error = expectConfigError({ TENANT_FROM: 'host' }, 'TENANT_BASE_DOMAIN');
    expect(error.message).toContain('TENANT_FROM=host');
  });

  it.each([
    ['upper case', 'Example.com'],
    ['a trailing dot', 'example.com.'],
    ['a leading dot', '.example.com'],
    ['an empty label', 'example..com'],
    ['a port', 'example.com:443'],
    ['a scheme', 'https://example.com'],
    ['a path', 'example.com/x'],
    ['a wildcard', '*.example.com'],
    ['an underscore', 'my_domain.com'],
    ['a label starting with a hyphen', '-example.com'],
    ['a label ending with a hyphen', 'example-.com'],
    ['a label of 64 characters', `${'a'.repeat(64)}.com`],
    ['254 characters', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`],
    ['a space', 'example .com'],
    ['non-ASCII', 'exämple.com'],
  ])('a TENANT_BASE_DOMAIN with %s is refused naming it', (_label, domain) => {
    expectConfigError({ TENANT_FROM: 'host', TENANT_BASE_DOMAIN: domain }, 'TENANT_BASE_DOMAIN');
  });

  it('accepts a base domain of 253 characters and labels of 63', () => {
    const domain = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    expect(domain).toHaveLength(253);
    expect(loadConfig({ TENANT_FROM: 'host', TENANT_BASE_DOMAIN: domain }).tenant).toEqual({ from: 'host', baseDomain: domain });
  });
});

describe('TENANT_FROM refusals', () => {
  it('refuses an unknown value naming TENANT_FROM and the choices', () => {
    const error = expectConfigError({ TENANT_FROM: 'subdomain' }, 'TENANT_FROM');
    expect(error.message).toContain('header, jwt, host');
    expectConfigError({ TENANT_FROM: 'HOST', TENANT_BASE_DOMAIN: 'example.com' }, 'TENANT_FROM');
  });

  it('refuses jwt in network mode: there is no token to read a claim from', () => {
    const error = expectConfigError({ TENANT_FROM: 'jwt' }, 'TENANT_FROM');
    expect(error.message).toContain('AUTH_MODE=jwt');
  });

  it('refuses header in jwt mode: it would let any token holder pick any tenant', () => {
    const error = expectConfigError({ AUTH_MODE: 'jwt', JWT_SECRET, TENANT_FROM: 'header' }, 'TENANT_FROM');
    expect(error.message).toContain('AUTH_MODE=network');
  });

  it('refuses TENANT_BASE_DOMAIN without TENANT_FROM=host, so a deployment never looks like host mode when it is not', () => {
    expectConfigError({ TENANT_BASE_DOMAIN: 'example.com' }, 'TENANT_BASE_DOMAIN');
    expectConfigError({ TENANT_FROM: 'header', TENANT_BASE_DOMAIN: 'example.com' }, 'TENANT_BASE_DOMAIN');
    expectConfigError({ AUTH_MODE: 'jwt', JWT_SECRET, TENANT_BASE_DOMAIN: 'example.com' }, 'TENANT_BASE_DOMAIN');
  });
});
