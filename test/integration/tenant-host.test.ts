// TENANT_FROM=host over HTTP against real gateways sharing one database: tenants named acme and globex
// each see only their own users through acme.example.com and globex.example.com; unknown subdomains are
// 404, hosts that name no tenant are 400 naming the Host header, an x-tenant-id that disagrees is 400;
// caller authentication still comes first (network and jwt); a rename reaches the cache through the
// change feed, long before TENANT_CACHE_TTL. fetch() cannot set Host, so requests go through node:http.
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCidrList } from '../../src/http/cidr.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { expectError } from '../support/http.js';

const USERS = '/v1/internal/users';
const HOST_MODE = { from: 'host', baseDomain: 'example.com' } as const;
const JWT_SECRET = 'a-caller-jwt-secret-for-host-mode-tests-0123';

interface UserPage {
  records: Array<{ first_name: string }>;
}

let gw: TestGateway;
let acme: string;
let globex: string;

/** One request with this Host (and headers), answered as a fetch Response. */
function viaHost(
  target: TestGateway,
  host: string,
  init: { method?: string; headers?: Record<string, string>; json?: unknown } = {},
  path = USERS,
): Promise<Response> {
  const { port } = new URL(target.url);
  const body = init.json === undefined ? undefined : JSON.stringify(init.json);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: init.method ?? 'GET',
        headers: { host, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') headers.set(name, value);
          resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0, headers }));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends `head` as the request's head, verbatim, and returns status and body. */
function raw(target: TestGateway, head: string): Promise<Response> {
  const { port } = new URL(target.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(`${head}\r\n\r\n`));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [top = '', body = ''] = text.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.\d (\d{3})/.exec(top)?.[1] ?? 0);
      const contentType = /^content-type: *(.+)$/im.exec(top)?.[1]?.trim() ?? 'text/plain';
      resolve(new Response(body, { status, headers: { 'content-type': contentType } }));
    });
  });
}

async function firstNames(res: Response): Promise<string[]> {
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return (JSON.parse(text) as UserPage).records.map((r) => r.first_name).sort();
}

beforeAll(async () => {
  gw = await startTestGateway({ tenant: HOST_MODE });
  acme = (await gw.createTenant('acme')).id;
  globex = (await gw.createTenant('globex')).id;
  for (const [host, names] of [
    ['acme.example.com', ['Ada', 'Alan']],
    ['globex.example.com', ['Grace']],
  ] as const) {
    for (const first of names) {
      const res = await viaHost(gw, host, { method: 'POST', json: { first_name: first, last_name: 'Test' } });
      if (res.status !== 201) throw new Error(`creating a user answered ${res.status}: ${await res.text()}`);
    }
  }
});
afterAll(async () => {
  await gw?.close();
});

describe('TENANT_FROM=host, network mode', () => {
  it('each subdomain sees only its own tenant', async () => {
    expect(await firstNames(await viaHost(gw, 'acme.example.com'))).toEqual(['Ada', 'Alan']);
    expect(await firstNames(await viaHost(gw, 'globex.example.com'))).toEqual(['Grace']);
  });

  it('writes land in the tenant the host names, as its id confirms through a header-mode gateway', async () => {
    const peer = await startTestGateway({ peerOf: gw });
    try {
      expect(await firstNames(await peer.request(USERS, { headers: { 'x-tenant-id': acme } }))).toEqual(['Ada', 'Alan']);
      expect(await firstNames(await peer.request(USERS, { headers: { 'x-tenant-id': globex } }))).toEqual(['Grace']);
    } finally {
      await peer.close();
    }
  });

  it('takes a port, any case and a fully qualified name', async () => {
    for (const host of ['acme.example.com:8080', 'ACME.Example.Com', 'acme.example.com.']) {
      expect(await firstNames(await viaHost(gw, host))).toEqual(['Ada', 'Alan']);
    }
  });

  it('an unknown subdomain is 404 tenant_not_found, like an unknown id', async () => {
    await expectError(await viaHost(gw, 'initech.example.com'), 404, 'tenant_not_found');
    await expectError(await viaHost(gw, 'initech.example.com', { method: 'POST', json: { first_name: 'X', last_name: 'Y' } }), 404, 'tenant_not_found');
  });

  it.each([
    ['the base domain', 'example.com'],
    ['two labels', 'a.acme.example.com'],
    ['another domain', 'acme.example.org'],
    ['the listening address', '127.0.0.1'],
    ['an IPv6 literal', '[::1]:8080'],
    ['a label that is no DNS label', 'acme_corp.example.com'],
  ])('%s (%s) is 400 invalid_host naming the Host header', async (_label, host) => {
    await expectError(await viaHost(gw, host), 400, 'invalid_host', 'Host header');
  });

  it('x-tenant-id alone no longer names the tenant: the Host still decides, and must be valid', async () => {
    await expectError(await viaHost(gw, `127.0.0.1`, { headers: { 'x-tenant-id': acme } }), 400, 'invalid_host', 'Host header');
  });

  it('an x-tenant-id that agrees with the host is served; one that disagrees is 400, never one of them picked', async () => {
    expect(await firstNames(await viaHost(gw, 'acme.example.com', { headers: { 'x-tenant-id': acme } }))).toEqual(['Ada', 'Alan']);
    await expectError(await viaHost(gw, 'acme.example.com', { headers: { 'x-tenant-id': globex } }), 400, 'conflicting_tenant_id', 'x-tenant-id');
    await expectError(
      await viaHost(gw, 'acme.example.com', { method: 'POST', headers: { 'x-tenant-id': globex }, json: { first_name: 'Mallory', last_name: 'M' } }),
      400,
      'conflicting_tenant_id',
    );
    await expectError(await viaHost(gw, 'acme.example.com', { headers: { 'x-tenant-id': 'acme' } }), 400, 'invalid_tenant_id', 'x-tenant-id');
    expect(await firstNames(await viaHost(gw, 'globex.example.com'))).toEqual(['Grace']);
  });

  it('an HTTP/1.0 request without Host is 400 missing_host', async () => {
    await expectError(await raw(gw, `GET ${USERS} HTTP/1.0`), 400, 'missing_host', 'Host header');
  });

  it('a request target in absolute form naming another host than Host is refused', async () => {
    await expectError(
      await raw(gw, `GET http://globex.example.com${USERS} HTTP/1.1\r\nHost: acme.example.com\r\nConnection: close`),
      400,
      'invalid_host',
      'Host header',
    );
  });

  it('a caller outside TRUSTED_NETWORKS is refused before the host is read: no look-up, no 404 to learn names from', async () => {
    const isolated = await startTestGateway({
      peerOf: gw,
      tenant: HOST_MODE,
      auth: { mode: 'network', trustedNetworks: parseCidrList('10.0.0.0/8'), trustedProxies: [] },
    });
    try {
      for (const host of ['acme.example.com', 'initech.example.com', 'example.com']) {
        await expectError(await viaHost(isolated, host), 403, 'untrusted_network');
      }
    } finally {
      await isolated.close();
    }
  });

  /** The status `host` answers once it stops answering `from`, polled for up to 3 s. */
  async function statusAfter(host: string, from: number): Promise<number> {
    const deadline = Date.now() + 3000;
    let status = from;
    while (Date.now() < deadline && (status = (await viaHost(gw, host)).status) === from) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return status;
  }

  // Both within 3 s, while the name cache's TTL is 30 s and its memory of unknown names 5 s.
  it('a rename reaches the cache through the change feed: the old name is 404 and the new one serves', async () => {
    const hooli = (await gw.createTenant('hooli')).id;
    expect(await firstNames(await viaHost(gw, 'hooli.example.com'))).toEqual([]);
    await gw.db.admin`UPDATE tenants SET name = 'piedpiper' WHERE id = ${hooli}`;
    expect(await statusAfter('hooli.example.com', 200)).toBe(404);
    expect(await firstNames(await viaHost(gw, 'piedpiper.example.com'))).toEqual([]);
  });

  it('a name just found unknown serves as soon as a tenant of that name is created', async () => {
    await expectError(await viaHost(gw, 'vandelay.example.com'), 404, 'tenant_not_found');
    await gw.createTenant('vandelay');
    expect(await statusAfter('vandelay.example.com', 404)).toBe(200);
  });

  it('a deleted tenant is 404 by its name', async () => {
    const { id } = await gw.createTenant('umbrella');
    expect(await firstNames(await viaHost(gw, 'umbrella.example.com'))).toEqual([]);
    const res = await gw.request(`/v1/admin/tenants/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${gw.adminToken}` } });
    expect(res.status).toBe(204);
    expect(await statusAfter('umbrella.example.com', 200)).toBe(404);
  });
});

describe('TENANT_FROM=host, jwt mode', () => {
  let jwt: TestGateway;
  const sign = (claims: Record<string, unknown>): Promise<string> =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode(JWT_SECRET));

  beforeAll(async () => {
    jwt = await startTestGateway({
      peerOf: gw,
      tenant: HOST_MODE,
      auth: {
        mode: 'jwt',
        secret: JWT_SECRET,
        jwksUrl: undefined,
        jwksCooldownMs: 5000,
        algorithms: ['HS256'],
        issuer: undefined,
        audience: undefined,
        tenantClaim: 'tenant_id',
        clockToleranceSeconds: 5,
      },
    });
  });
  afterAll(async () => {
    await jwt?.close();
  });

  it("serves a token whose claim is the host's tenant", async () => {
    const token = await sign({ tenant_id: acme });
    expect(await firstNames(await viaHost(jwt, 'acme.example.com', { headers: { authorization: `Bearer ${token}` } }))).toEqual(['Ada', 'Alan']);
  });

  it("refuses a host naming another tenant than the token's claim with 403 tenant_mismatch", async () => {
    const token = await sign({ tenant_id: acme });
    await expectError(await viaHost(jwt, 'globex.example.com', { headers: { authorization: `Bearer ${token}` } }), 403, 'tenant_mismatch', 'Host header');
    await expectError(
      await viaHost(jwt, 'globex.example.com', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        json: { first_name: 'Mallory', last_name: 'M' },
      }),
      403,
      'tenant_mismatch',
    );
  });

  it('without a valid token, the host gets the caller nothing: 401 before any look-up', async () => {
    const res = await viaHost(jwt, 'acme.example.com');
    await expectError(res, 401, 'unauthorized');
    await expectError(await viaHost(jwt, 'initech.example.com', { headers: { authorization: 'Bearer a.b.c' } }), 401, 'unauthorized');
  });
});
