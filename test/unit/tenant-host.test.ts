// TENANT_FROM=host without a database: reading the tenant name from a Host header (exactly one label
// before the base domain, anything else a 400 naming the Host header), resolving it through a name
// look-up (cached names without a promise), and refusing an x-tenant-id or a request target that
// disagrees with the host.
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { AppError, BadRequest, NotFound } from '../../src/errors.js';
import { createErrorHandler } from '../../src/http/error-handler.js';
import type { AppEnv } from '../../src/http/env.js';
import { hostTenantResolver, isDnsName, tenantNameFromHost, type TenantNameLookup } from '../../src/http/tenant-host.js';
import { createLogger } from '../../src/log.js';

const BASE = 'example.com';
const ACME = '0b6a3f6e-6a5c-4d4e-9c1b-1f2e3d4c5b6a';
const GLOBEX = '7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f';

function refusal(host: string | undefined): BadRequest {
  try {
    tenantNameFromHost(host, BASE);
  } catch (err) {
    expect(err).toBeInstanceOf(BadRequest);
    return err as BadRequest;
  }
  throw new Error(`${JSON.stringify(host)} was accepted`);
}

describe('tenantNameFromHost', () => {
  it.each([
    ['acme.example.com', 'acme'],
    ['acme.example.com:8080', 'acme'],
    ['acme.example.com:1', 'acme'],
    ['ACME.Example.COM', 'acme'],
    ['acme.example.com.', 'acme'],
    ['acme.example.com.:443', 'acme'],
    [' acme.example.com ', 'acme'],
    ['a.example.com', 'a'],
    ['0.example.com', '0'],
    ['acme-corp.example.com', 'acme-corp'],
    ['xn--bcher-kva.example.com', 'xn--bcher-kva'],
    [`${'a'.repeat(63)}.example.com`, 'a'.repeat(63)],
  ])('%j names %j', (host, name) => {
    expect(tenantNameFromHost(host, BASE)).toBe(name);
  });

  it.each([[undefined], [''], ['  ']])('a missing Host (%j) is 400 missing_host naming the Host header', (host) => {
    const err = refusal(host);
    expect(err.code).toBe('missing_host');
    expect(err.field).toBe('host');
    expect(err.message).toContain('Host header');
  });

  it.each([
    ['the base domain itself', 'example.com'],
    ['the base domain with a port', 'example.com:8080'],
    ['the base domain fully qualified', 'example.com.'],
    ['two labels before it', 'a.b.example.com'],
    ['another domain', 'acme.example.org'],
    ['a domain that merely ends like it', 'acme.notexample.com'],
    ['a suffix glued on without a dot', 'acmeexample.com'],
    ['the base domain as a prefix', 'acme.example.com.evil.test'],
    ['an empty label', '.example.com'],
    ['an IPv4 address', '127.0.0.1:8080'],
    ['an IPv6 literal', '[::1]:8080'],
    ['a label with an underscore', 'acme_corp.example.com'],
    ['a label starting with a hyphen', '-acme.example.com'],
    ['a label ending with a hyphen', 'acme-.example.com'],
    ['a label of 64 characters', `${'a'.repeat(64)}.example.com`],
    ['user info', 'user@acme.example.com'],
    ['two ports', 'acme.example.com:80:80'],
    ['a port that is not a number', 'acme.example.com:http'],
    ['an empty port', 'acme.example.com:'],
    ['a six-digit port', 'acme.example.com:123456'],
    ['a space inside', 'acme .example.com'],
    ['a path', 'acme.example.com/x'],
    ['non-ASCII', 'äcme.example.com'],
    ['a percent escape', 'acme%2e.example.com'],
    ['two trailing dots', 'acme.example.com..'],
  ])('%s (%j) is 400 invalid_host naming the Host header', (_label, host) => {
    const err = refusal(host);
    expect(err.code).toBe('invalid_host');
    expect(err.status).toBe(400);
    expect(err.field).toBe('host');
    expect(err.message).toContain('Host header');
    // Whatever the client sent is not repeated back (the base domain in the hint aside).
    if (!`<tenant>.${BASE}`.includes(host)) expect(err.message).not.toContain(host);
  });

  it('works under a deeper base domain and a single-label one', () => {
    expect(tenantNameFromHost('acme.tenants.example.co.uk', 'tenants.example.co.uk')).toBe('acme');
    expect(() => tenantNameFromHost('acme.example.co.uk', 'tenants.example.co.uk')).toThrow(BadRequest);
    expect(tenantNameFromHost('acme.localhost:8080', 'localhost')).toBe('acme');
    expect(() => tenantNameFromHost('localhost:8080', 'localhost')).toThrow(BadRequest);
  });
});

describe('isDnsName', () => {
  it.each(['example.com', 'localhost', 'a-b.c0.example', '1.2.3.4'])('%j is one', (name) => {
    expect(isDnsName(name)).toBe(true);
  });
  it.each(['', 'Example.com', 'example.com.', 'a..b', '_x.com', 'x-.com', '*.example.com', 'example.com:80'])('%j is not', (name) => {
    expect(isDnsName(name)).toBe(false);
  });
});

/** A look-up that knows acme and globex; counts its slow look-ups; `cached` names answer without a promise. */
function lookup(cached: ReadonlySet<string> = new Set()): TenantNameLookup & { reads: number } {
  const known = new Map([
    ['acme', ACME],
    ['globex', GLOBEX],
  ]);
  const names = {
    reads: 0,
    peekIdOf: (name: string) => (cached.has(name) ? known.get(name) : undefined),
    async idOf(name: string) {
      names.reads++;
      const id = known.get(name);
      if (id === undefined) throw new NotFound('tenant_not_found', `no tenant named "${name}"`);
      return id;
    },
  };
  return names;
}

/** A tiny app that answers the tenant id the resolver finds, and errors as the gateway does. */
function app(names: TenantNameLookup): Hono<AppEnv> {
  const resolve = hostTenantResolver(BASE, names);
  const hono = new Hono<AppEnv>();
  hono.onError(createErrorHandler(createLogger('silent')));
  hono.get('/t', async (c) => c.json({ tenant: await resolve(c), sync: typeof resolve(c) === 'string' }));
  return hono;
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  return { status: res.status, ...body.error };
}

describe('hostTenantResolver', () => {
  it('resolves the name to its id, without a promise when the name is cached', async () => {
    const slow = await app(lookup()).request('http://acme.example.com/t', { headers: { host: 'acme.example.com' } });
    expect(await slow.json()).toEqual({ tenant: ACME, sync: false });
    const fast = await app(lookup(new Set(['globex']))).request('http://globex.example.com:8080/t', { headers: { host: 'globex.example.com:8080' } });
    expect(await fast.json()).toEqual({ tenant: GLOBEX, sync: true });
  });

  it('an unknown name is the 404 tenant_not_found an unknown id gives', async () => {
    const res = await app(lookup()).request('http://initech.example.com/t', { headers: { host: 'initech.example.com' } });
    expect(await errorOf(res)).toMatchObject({ status: 404, code: 'tenant_not_found' });
  });

  it('a bad host is refused before any look-up', async () => {
    const names = lookup();
    const res = await app(names).request('http://a.b.example.com/t', { headers: { host: 'a.b.example.com' } });
    expect(await errorOf(res)).toMatchObject({ status: 400, code: 'invalid_host' });
    expect(names.reads).toBe(0);
  });

  it('an x-tenant-id that agrees is accepted, in any case', async () => {
    for (const id of [ACME, ACME.toUpperCase()]) {
      const res = await app(lookup()).request('http://acme.example.com/t', { headers: { host: 'acme.example.com', 'x-tenant-id': id } });
      expect(await res.json()).toEqual({ tenant: ACME, sync: false });
    }
  });

  it('an x-tenant-id that disagrees is 400 conflicting_tenant_id, cached or not: never one of them picked', async () => {
    for (const cached of [new Set<string>(), new Set(['acme'])]) {
      const res = await app(lookup(cached)).request('http://acme.example.com/t', { headers: { host: 'acme.example.com', 'x-tenant-id': GLOBEX } });
      const err = await errorOf(res);
      expect(err).toMatchObject({ status: 400, code: 'conflicting_tenant_id' });
      expect(err.message).toContain('x-tenant-id');
      expect(err.message).toContain('Host header');
    }
  });

  it('a malformed x-tenant-id is still 400 invalid_tenant_id', async () => {
    const res = await app(lookup()).request('http://acme.example.com/t', { headers: { host: 'acme.example.com', 'x-tenant-id': 'acme' } });
    expect(await errorOf(res)).toMatchObject({ status: 400, code: 'invalid_tenant_id' });
  });

  it('a request target naming another host than the Host header is refused', async () => {
    const res = await app(lookup()).request('http://globex.example.com/t', { headers: { host: 'acme.example.com' } });
    const err = await errorOf(res);
    expect(err).toMatchObject({ status: 400, code: 'invalid_host' });
    expect(err.message).toContain('Host header');
  });

  it('errors are AppErrors, so the gateway answers them in its own shape', () => {
    expect(refusal('example.com')).toBeInstanceOf(AppError);
  });
});
