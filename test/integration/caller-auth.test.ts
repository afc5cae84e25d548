// Proves who may call /v1/internal/users under each AUTH_MODE, over HTTP against real gateways sharing one
// database: network trust decided by the socket (X-Forwarded-For only from trusted proxies, right-most
// untrusted hop), and bearer JWTs (HS256 secret or a JWKS served by a local HTTP server) whose tenant
// claim names the tenant, with every way a token can be wrong refused.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallerAuthConfig } from '../../src/http/caller-auth.js';
import { parseCidrList } from '../../src/http/cidr.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { expectError } from '../support/http.js';

interface UserPage {
  records: Array<{ id: string; first_name: string; last_name: string }>;
  total: number;
}

const USERS = '/v1/internal/users';
const UNKNOWN_TENANT = '3d5b8f1e-7a2c-4e9b-8d6f-0a1b2c3d4e5f';
const ISSUER = 'https://issuer.tenantgate.test';
const AUDIENCE = 'tenantgate-internal';

let gw: TestGateway;
let tenantA: string;
let tenantB: string;
const namesA = ['Ada', 'Alan'];
const namesB = ['Barbara'];

beforeAll(async () => {
  gw = await startTestGateway();
  tenantA = (await gw.createTenant()).id;
  tenantB = (await gw.createTenant()).id;
  for (const [tenant, names] of [
    [tenantA, namesA],
    [tenantB, namesB],
  ] as const) {
    for (const first of names) {
      const res = await gw.request(USERS, { method: 'POST', headers: { 'x-tenant-id': tenant }, json: { first_name: first, last_name: 'Test' } });
      if (res.status !== 201) throw new Error(`creating a user answered ${res.status}: ${await res.text()}`);
    }
  }
});
afterAll(async () => {
  await gw?.close();
});

/** A second gateway on the same database (tenants and users shared) with other caller authentication. */
function peer(auth: CallerAuthConfig): Promise<TestGateway> {
  return startTestGateway({ peerOf: gw, auth });
}

async function firstNames(res: Response): Promise<string[]> {
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return (JSON.parse(text) as UserPage).records.map((r) => r.first_name).sort();
}

describe('AUTH_MODE=network', () => {
  let isolated: TestGateway;
  let proxied: TestGateway;
  beforeAll(async () => {
    isolated = await peer({ mode: 'network', trustedNetworks: parseCidrList('10.0.0.0/8'), trustedProxies: [] });
    proxied = await peer({ mode: 'network', trustedNetworks: parseCidrList('10.0.0.0/8'), trustedProxies: parseCidrList('127.0.0.1/32') });
  });
  afterAll(async () => {
    await isolated?.close();
    await proxied?.close();
  });

  it('the default trust (loopback) serves a local caller its tenant data', async () => {
    expect(await firstNames(await gw.request(USERS, { headers: { 'x-tenant-id': tenantA } }))).toEqual([...namesA].sort());
  });

  it('with the default trust, a missing or malformed x-tenant-id is still 400', async () => {
    await expectError(await gw.request(USERS), 400, 'missing_tenant_id', 'x-tenant-id');
    await expectError(await gw.request(USERS, { headers: { 'x-tenant-id': 'not-a-uuid' } }), 400, 'invalid_tenant_id', 'x-tenant-id');
  });

  it('a gateway whose TRUSTED_NETWORKS excludes loopback refuses a loopback caller with 403 untrusted_network', async () => {
    await expectError(await isolated.request(USERS, { headers: { 'x-tenant-id': tenantA } }), 403, 'untrusted_network');
    await expectError(
      await isolated.request(USERS, { method: 'POST', headers: { 'x-tenant-id': tenantA }, json: { first_name: 'X', last_name: 'Y' } }),
      403,
      'untrusted_network',
    );
  });

  it.each([
    [{ 'x-internal-request': 'true' }],
    [{ 'x-forwarded-for': '10.1.2.3' }],
    [{ 'x-real-ip': '10.1.2.3' }],
    [{ forwarded: 'for=10.1.2.3' }],
    [{ 'x-internal-request': 'true', 'x-forwarded-for': '10.1.2.3', 'x-real-ip': '10.1.2.3', forwarded: 'for=10.1.2.3' }],
  ])('no header grants trust when the socket is not a trusted proxy: %j → 403', async (headers) => {
    const res = await isolated.request(USERS, { headers: { 'x-tenant-id': tenantA, ...headers } });
    await expectError(res, 403, 'untrusted_network');
  });

  it('behind a trusted proxy, X-Forwarded-For naming a trusted network is served', async () => {
    const res = await proxied.request(USERS, { headers: { 'x-tenant-id': tenantA, 'x-forwarded-for': '10.1.2.3' } });
    expect(await firstNames(res)).toEqual([...namesA].sort());
  });

  it('behind a trusted proxy, trusted proxy hops on the right are skipped', async () => {
    const res = await proxied.request(USERS, { headers: { 'x-tenant-id': tenantA, 'x-forwarded-for': '10.1.2.3, 127.0.0.1' } });
    expect(await firstNames(res)).toEqual([...namesA].sort());
  });

  it('behind a trusted proxy, X-Forwarded-For naming an untrusted address is refused', async () => {
    const res = await proxied.request(USERS, { headers: { 'x-tenant-id': tenantA, 'x-forwarded-for': '192.168.1.1' } });
    await expectError(res, 403, 'untrusted_network');
  });

  it('a trusted address spoofed further left does not help: the right-most untrusted hop decides', async () => {
    const res = await proxied.request(USERS, { headers: { 'x-tenant-id': tenantA, 'x-forwarded-for': '10.1.2.3, 192.168.1.1' } });
    await expectError(res, 403, 'untrusted_network');
  });

  it.each(['garbage', '10.1.2.3, not-an-ip', '10.1.2.3 192.168.1.1', '', '10.1.2.3,,'])(
    'behind a trusted proxy, an unparsable X-Forwarded-For %j is refused',
    async (xff) => {
      const res = await proxied.request(USERS, { headers: { 'x-tenant-id': tenantA, 'x-forwarded-for': xff } });
      await expectError(res, 403, 'untrusted_network');
    },
  );

  it('a trusted proxy without X-Forwarded-For is judged by its own address', async () => {
    await expectError(await proxied.request(USERS, { headers: { 'x-tenant-id': tenantA } }), 403, 'untrusted_network');
  });

  it('a trusted caller behind the proxy still needs a well-formed x-tenant-id', async () => {
    await expectError(await proxied.request(USERS, { headers: { 'x-forwarded-for': '10.1.2.3' } }), 400, 'missing_tenant_id');
    await expectError(await proxied.request(USERS, { headers: { 'x-forwarded-for': '10.1.2.3', 'x-tenant-id': 'nope' } }), 400, 'invalid_tenant_id');
  });
});

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

interface SignOptions {
  alg?: string;
  kid?: string;
  key?: CryptoKey | Uint8Array;
  exp?: number | null;
  nbf?: number;
  iss?: string | null;
  aud?: string | null;
}

describe('AUTH_MODE=jwt with an HS256 secret', () => {
  const secret = randomBytes(32).toString('base64url');
  const secretKey = new TextEncoder().encode(secret);
  let jwt: TestGateway;
  let tid: TestGateway;

  const hsConfig = (tenantClaim: string): CallerAuthConfig => ({
    mode: 'jwt',
    secret,
    jwksUrl: undefined,
    jwksCooldownMs: 0,
    algorithms: ['HS256'],
    issuer: ISSUER,
    audience: AUDIENCE,
    tenantClaim,
    clockToleranceSeconds: 0,
  });

  beforeAll(async () => {
    jwt = await peer(hsConfig('tenant_id'));
    tid = await peer(hsConfig('tid'));
  });
  afterAll(async () => {
    await jwt?.close();
    await tid?.close();
  });

  function sign(claims: Record<string, unknown>, options: SignOptions = {}): Promise<string> {
    const token = new SignJWT(claims).setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' }).setIssuedAt();
    if (options.exp !== null) token.setExpirationTime(options.exp ?? nowSeconds() + 300);
    if (options.nbf !== undefined) token.setNotBefore(options.nbf);
    if (options.iss !== null) token.setIssuer(options.iss ?? ISSUER);
    if (options.aud !== null) token.setAudience(options.aud ?? AUDIENCE);
    return token.sign(options.key ?? secretKey);
  }

  function call(
    token: string | undefined,
    headers: Record<string, string> = {},
    via: TestGateway = jwt,
    init: { method?: string; json?: unknown } = {},
  ): Promise<Response> {
    return via.request(USERS, { ...init, headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...headers } });
  }

  async function expectInvalidToken(token: string): Promise<void> {
    const res = await call(token, { 'x-tenant-id': tenantA });
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    await expectError(res, 401, 'unauthorized');
  }

  it('with JWT_MAX_AGE, a token issued too long ago, or without iat, is refused; a fresh one is served', async () => {
    const aged = await peer({ ...(hsConfig('tenant_id') as Extract<CallerAuthConfig, { mode: 'jwt' }>), maxAgeSeconds: 600 });
    try {
      const signAt = (iat: number | undefined): Promise<string> => {
        const token = new SignJWT({ tenant_id: tenantA })
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
          .setExpirationTime(1e12)
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE);
        if (iat !== undefined) token.setIssuedAt(iat);
        return token.sign(secretKey);
      };
      const old = await aged.request(USERS, { headers: { authorization: `Bearer ${await signAt(nowSeconds() - 3600)}` } });
      await expectError(old, 401, 'unauthorized');
      const noIat = await aged.request(USERS, { headers: { authorization: `Bearer ${await signAt(undefined)}` } });
      await expectError(noIat, 401, 'unauthorized');
      // Without JWT_MAX_AGE the same far-future token without iat is accepted: the setting is what refuses it.
      expect((await jwt.request(USERS, { headers: { authorization: `Bearer ${await signAt(undefined)}` } })).status).toBe(200);
      expect(await firstNames(await aged.request(USERS, { headers: { authorization: `Bearer ${await signAt(nowSeconds() - 10)}` } }))).toEqual(
        [...namesA].sort(),
      );
    } finally {
      await aged.close();
    }
  });

  it("a valid token with a tenant_id claim and no header is served that tenant's data", async () => {
    expect(await firstNames(await call(await sign({ tenant_id: tenantA })))).toEqual([...namesA].sort());
  });

  it('a header equal to the claim is served (case-insensitively)', async () => {
    const token = await sign({ tenant_id: tenantA });
    expect(await firstNames(await call(token, { 'x-tenant-id': tenantA }))).toEqual([...namesA].sort());
    expect(await firstNames(await call(token, { 'x-tenant-id': tenantA.toUpperCase() }))).toEqual([...namesA].sort());
  });

  it('a header differing from the claim is refused with 403 tenant_mismatch', async () => {
    await expectError(await call(await sign({ tenant_id: tenantA }), { 'x-tenant-id': tenantB }), 403, 'tenant_mismatch');
  });

  it("a token for tenant A cannot read or write tenant B's rows whatever header it sends", async () => {
    const token = await sign({ tenant_id: tenantA });
    for (const header of [{}, { 'x-tenant-id': tenantA }] as Record<string, string>[]) {
      const names = await firstNames(await call(token, header));
      expect(names).toEqual([...namesA].sort());
      expect(names).not.toContain(namesB[0]);
    }
    await expectError(await call(token, { 'x-tenant-id': tenantB }), 403, 'tenant_mismatch');
    await expectError(await call(token, { 'x-tenant-id': tenantB.toUpperCase() }), 403, 'tenant_mismatch');
    await expectError(await call(token, { 'x-tenant-id': 'not-a-uuid' }), 400, 'invalid_tenant_id');

    const before = await gw.adminOf(tenantB)`SELECT 1 FROM ${gw.usersOf(tenantB)} WHERE tenant_id = ${tenantB}`;
    await expectError(
      await call(token, { 'x-tenant-id': tenantB }, jwt, { method: 'POST', json: { first_name: 'Mallory', last_name: 'M' } }),
      403,
      'tenant_mismatch',
    );
    expect(await gw.adminOf(tenantB)`SELECT 1 FROM ${gw.usersOf(tenantB)} WHERE tenant_id = ${tenantB}`).toHaveLength(before.length);
  });

  it("a POST with A's token and no header stores the row under tenant A", async () => {
    const res = await call(await sign({ tenant_id: tenantA }), {}, jwt, { method: 'POST', json: { first_name: 'Tokened', last_name: 'Writer' } });
    expect(res.status, await res.clone().text()).toBe(201);
    const { id } = (await res.json()) as { id: string };
    expect(await gw.adminOf(tenantA)`SELECT tenant_id::text FROM ${gw.usersOf(tenantA)} WHERE id = ${id}`).toEqual([{ tenant_id: tenantA }]);
    await gw.adminOf(tenantA)`DELETE FROM ${gw.usersOf(tenantA)} WHERE id = ${id}`;
  });

  it('a missing token gets 401 with WWW-Authenticate: Bearer', async () => {
    for (const headers of [
      { 'x-tenant-id': tenantA },
      {},
      { authorization: 'Basic dXNlcjpwYXNz', 'x-tenant-id': tenantA },
      { authorization: 'Bearer', 'x-tenant-id': tenantA },
    ]) {
      const res = await jwt.request(USERS, { headers });
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
      await expectError(res, 401, 'unauthorized');
    }
  });

  it('an expired token gets 401', async () => {
    await expectInvalidToken(await sign({ tenant_id: tenantA }, { exp: nowSeconds() - 60 }));
  });

  it('a token whose nbf is in the future gets 401', async () => {
    await expectInvalidToken(await sign({ tenant_id: tenantA }, { nbf: nowSeconds() + 600 }));
  });

  it('a token without exp gets 401', async () => {
    await expectInvalidToken(await sign({ tenant_id: tenantA }, { exp: null }));
  });

  it('an unsigned token (alg none) gets 401', async () => {
    const claims = { tenant_id: tenantA, iss: ISSUER, aud: AUDIENCE, exp: nowSeconds() + 300 };
    await expectInvalidToken(`${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.`);
    // The same, with a signature copied from a genuine token.
    const genuine = (await sign({ tenant_id: tenantA })).split('.')[2] ?? '';
    await expectInvalidToken(`${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.${genuine}`);
  });

  it('an HS512 token signed with the right secret gets 401 when only HS256 is allowed', async () => {
    await expectInvalidToken(await sign({ tenant_id: tenantA }, { alg: 'HS512' }));
  });

  it('a token signed with another secret gets 401', async () => {
    await expectInvalidToken(await sign({ tenant_id: tenantA }, { key: new TextEncoder().encode(randomBytes(32).toString('base64url')) }));
  });

  it('a tampered payload gets 401', async () => {
    const [header, , signature] = (await sign({ tenant_id: tenantA })).split('.');
    const forged = base64url({ tenant_id: tenantB, iss: ISSUER, aud: AUDIENCE, exp: nowSeconds() + 300 });
    await expectInvalidToken(`${header}.${forged}.${signature}`);
  });

  it('a wrong or missing issuer gets 401', async () => {
    await expectInvalidToken(await sign({ tenant_id: tenantA }, { iss: 'https://evil.test' }));
    await expectInvalidToken(await sign({ tenant_id: tenantA }, { iss: null }));
  });

  it('a wrong or missing audience gets 401', async () => {
    await expectInvalidToken(await sign({ tenant_id: tenantA }, { aud: 'someone-else' }));
    await expectInvalidToken(await sign({ tenant_id: tenantA }, { aud: null }));
  });

  it.each([
    ['missing', {}],
    ['not a UUID', { tenant_id: 'acme' }],
    ['a number', { tenant_id: 42 }],
    ['an array', { tenant_id: [UNKNOWN_TENANT] }],
    ['empty', { tenant_id: '' }],
  ])('a tenant claim that is %s gets 403 invalid_tenant_claim', async (_label, claims) => {
    await expectError(await call(await sign(claims), { 'x-tenant-id': tenantA }), 403, 'invalid_tenant_claim', 'tenant_id');
    await expectError(await call(await sign(claims)), 403, 'invalid_tenant_claim');
  });

  it('a token for an unknown tenant gets 404 tenant_not_found', async () => {
    await expectError(await call(await sign({ tenant_id: UNKNOWN_TENANT })), 404, 'tenant_not_found');
  });

  it('the tenant claim name is configurable (tid)', async () => {
    expect(await firstNames(await call(await sign({ tid: tenantB }), {}, tid))).toEqual([...namesB].sort());
    // On that gateway, tenant_id is just another claim.
    await expectError(await call(await sign({ tenant_id: tenantB }), {}, tid), 403, 'invalid_tenant_claim', 'tid');
    await expectError(await call(await sign({ tid: tenantB }), { 'x-tenant-id': tenantA }, tid), 403, 'tenant_mismatch');
  });
});

describe('AUTH_MODE=jwt with a JWKS', () => {
  interface KeyPair {
    readonly kid: string;
    readonly alg: 'RS256' | 'ES256';
    readonly privateKey: CryptoKey;
    readonly publicKey: CryptoKey;
    readonly jwk: JWK;
  }

  const servers: Server[] = [];
  let served: JWK[] = [];
  let hits = 0;
  let jwksUrl: string;
  let rsa: KeyPair;
  let ec: KeyPair;
  let jwksGw: TestGateway;

  async function keyPair(alg: 'RS256' | 'ES256', kid: string): Promise<KeyPair> {
    const { privateKey, publicKey } = await generateKeyPair(alg);
    return { kid, alg, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
  }

  /** Serves `body()` as the key set on 127.0.0.1, counting requests. */
  async function startJwksServer(body: () => { status: number; text: string }): Promise<string> {
    const server = createServer((_req, res) => {
      hits++;
      const { status, text } = body();
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(text);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  function stop(server: Server): Promise<void> {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  const jwksConfig = (url: string): CallerAuthConfig => ({
    mode: 'jwt',
    secret: undefined,
    jwksUrl: url,
    jwksCooldownMs: 0,
    algorithms: ['RS256', 'ES256'],
    issuer: undefined,
    audience: undefined,
    tenantClaim: 'tenant_id',
    clockToleranceSeconds: 0,
  });

  function sign(pair: Pick<KeyPair, 'alg' | 'kid' | 'privateKey'>, tenantId: string): Promise<string> {
    return new SignJWT({ tenant_id: tenantId })
      .setProtectedHeader({ alg: pair.alg, kid: pair.kid, typ: 'JWT' })
      .setIssuedAt()
      .setExpirationTime(nowSeconds() + 300)
      .sign(pair.privateKey);
  }

  function call(via: TestGateway, token: string): Promise<Response> {
    return via.request(USERS, { headers: { authorization: `Bearer ${token}` } });
  }

  beforeAll(async () => {
    rsa = await keyPair('RS256', 'rsa-1');
    ec = await keyPair('ES256', 'ec-1');
    served = [rsa.jwk, ec.jwk];
    jwksUrl = await startJwksServer(() => ({ status: 200, text: JSON.stringify({ keys: served }) }));
    jwksGw = await peer(jwksConfig(jwksUrl));
  });
  afterAll(async () => {
    await jwksGw?.close();
    await Promise.all(servers.filter((s) => s.listening).map(stop));
  });

  it('RS256 and ES256 tokens from keys in the set are served', async () => {
    expect(await firstNames(await call(jwksGw, await sign(rsa, tenantA)))).toEqual([...namesA].sort());
    expect(await firstNames(await call(jwksGw, await sign(ec, tenantB)))).toEqual([...namesB].sort());
  });

  it('a token signed by a key that is not in the set gets 401', async () => {
    const rogue = await keyPair('RS256', 'rogue');
    await expectError(await call(jwksGw, await sign(rogue, tenantA)), 401, 'unauthorized');
    // A key that claims a published kid but is not the published key.
    const impostor = await keyPair('RS256', rsa.kid);
    await expectError(await call(jwksGw, await sign(impostor, tenantA)), 401, 'unauthorized');
  });

  it('a key added to the set after it was fetched is picked up by refetching on its unknown kid', async () => {
    expect(await firstNames(await call(jwksGw, await sign(rsa, tenantA)))).toEqual([...namesA].sort());
    const rotated = await keyPair('RS256', 'rsa-2');
    const hitsBefore = hits;
    await expectError(await call(jwksGw, await sign(rotated, tenantA)), 401, 'unauthorized');
    expect(hits).toBe(hitsBefore + 1);

    served = [rotated.jwk, ...served];
    expect(await firstNames(await call(jwksGw, await sign(rotated, tenantA)))).toEqual([...namesA].sort());
    expect(hits).toBe(hitsBefore + 2);
    // Known kids are served from the cached set: no fetch per request.
    expect(await firstNames(await call(jwksGw, await sign(rsa, tenantA)))).toEqual([...namesA].sort());
    expect(await firstNames(await call(jwksGw, await sign(rotated, tenantA)))).toEqual([...namesA].sort());
    expect(hits).toBe(hitsBefore + 2);
  });

  it('an HS256 token forged with the RSA public key as its secret gets 401 (algorithm confusion)', async () => {
    const claims = { tenant_id: tenantA, exp: nowSeconds() + 300 };
    for (const secret of [await exportSPKI(rsa.publicKey), JSON.stringify(rsa.jwk)]) {
      const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: rsa.kid, typ: 'JWT' }).sign(new TextEncoder().encode(secret));
      await expectError(await call(jwksGw, forged), 401, 'unauthorized');
    }
  });

  it('with its JWKS server down and no cached key set, a gateway answers 503 jwks_unavailable with Retry-After', async () => {
    const downUrl = await startJwksServer(() => ({ status: 200, text: JSON.stringify({ keys: [rsa.jwk] }) }));
    await stop(servers[servers.length - 1] as Server);
    const cold = await peer(jwksConfig(downUrl));
    try {
      const res = await call(cold, await sign(rsa, tenantA));
      await expectError(res, 503, 'jwks_unavailable');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    } finally {
      await cold.close();
    }
  });

  it('with its JWKS server answering 500 and no cached key set, a gateway answers 503 jwks_unavailable, not 401', async () => {
    const failingUrl = await startJwksServer(() => ({ status: 500, text: '{"error":"down"}' }));
    const cold = await peer(jwksConfig(failingUrl));
    try {
      const res = await call(cold, await sign(rsa, tenantA));
      await expectError(res, 503, 'jwks_unavailable');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    } finally {
      await cold.close();
    }
  });

  it('a gateway that already holds the key set keeps verifying known keys while the JWKS server is down', async () => {
    let up = true;
    const flakyUrl = await startJwksServer(() => (up ? { status: 200, text: JSON.stringify({ keys: [rsa.jwk] }) } : { status: 500, text: '' }));
    const server = servers[servers.length - 1] as Server;
    const warm = await peer(jwksConfig(flakyUrl));
    try {
      expect(await firstNames(await call(warm, await sign(rsa, tenantA)))).toEqual([...namesA].sort());
      up = false;
      await stop(server);
      expect(await firstNames(await call(warm, await sign(rsa, tenantA)))).toEqual([...namesA].sort());
    } finally {
      await warm.close();
    }
  });
});
