// Proves the OpenAPI document: /openapi.json serves it (OpenAPI 3.1, security as configured), it lists
// every route the app mounts and no other, its examples fit its own schemas, and a run through every
// operation is checked, answer by answer, by the contract every suite's requests go through
// (test/support/contract.ts), which refuses answers the document does not describe.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCidrList } from '../../src/http/cidr.js';
import { buildApiDocument, OPERATIONS } from '../../src/openapi/document.js';
import { createContract, type Exchange } from '../support/contract.js';
import { contractTally } from '../support/contract-log.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

type Json = Record<string, unknown>;

const JWT_AUTH = {
  mode: 'jwt',
  secret: 'x'.repeat(40),
  jwksUrl: undefined,
  jwksCooldownMs: 30_000,
  algorithms: ['HS256'],
  issuer: undefined,
  audience: undefined,
  tenantClaim: 'tenant_id',
  clockToleranceSeconds: 5,
} as const;

describe('the OpenAPI document', () => {
  let gw: TestGateway;
  let served: Json;
  beforeAll(async () => {
    gw = await startTestGateway({ auth: { mode: 'network', trustedNetworks: parseCidrList('127.0.0.0/8,::1/128'), trustedProxies: [] } });
    const res = await gw.request('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    served = (await res.json()) as Json;
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('is served at /openapi.json: OpenAPI 3.1, the document the gateway was built with', () => {
    expect(served.openapi).toBe('3.1.0');
    expect(served).toEqual(JSON.parse(JSON.stringify(buildApiDocument({ authMode: 'network', tenantFrom: 'header' }))));
  });

  it('documents every route the app mounts, and only those', () => {
    const mounted = gw.gateway.app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
    const documented = Object.entries(served.paths as Record<string, Json>).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(mounted.length).toBeGreaterThan(10);
    expect([...new Set(documented)].sort()).toEqual([...new Set(mounted)].sort());
  });

  it('names the security the gateway is configured with', async () => {
    const schemes = (doc: Json) => Object.keys((doc.components as Json).securitySchemes as Json).sort();
    const users = (doc: Json) => ((doc.paths as Record<string, Record<string, Json>>)['/v1/internal/users']?.get ?? {}) as Json;
    expect(schemes(served)).toEqual(['adminJwt', 'tenantHeader']);
    expect(users(served).security).toEqual([{ tenantHeader: [] }]);
    const admin = (served.paths as Record<string, Record<string, Json>>)['/v1/admin/tenants']?.post;
    expect(admin?.security).toEqual([{ adminJwt: [] }]);
    expect((served.paths as Record<string, Record<string, Json>>)['/health']?.get?.security).toEqual([]);

    const jwt = await startTestGateway({ auth: JWT_AUTH, peerOf: gw });
    try {
      const doc = (await (await jwt.request('/openapi.json')).json()) as Json;
      expect(schemes(doc)).toEqual(['adminJwt', 'callerJwt']);
      expect(users(doc).security).toEqual([{ callerJwt: [] }]);
      // The tenant claim names the tenant; x-tenant-id may repeat it.
      expect(users(doc).parameters).toContainEqual(expect.objectContaining({ name: 'x-tenant-id', in: 'header', required: false }));
    } finally {
      await jwt.close();
    }
  });

  it('has examples that fit its own schemas, for every answer and request body', () => {
    const ajv = new Ajv2020({ strict: false });
    addFormatsModule.default(ajv);
    ajv.addSchema(served, 'openapi.json');
    let examples = 0;
    for (const [path, item] of Object.entries(served.paths as Record<string, Record<string, Json>>)) {
      for (const [method, op] of Object.entries(item)) {
        const base = `openapi.json#/paths/${path.replaceAll('/', '~1')}/${method}`;
        const media: [string, Json][] = [];
        const body = (op.requestBody as Json | undefined)?.content as Record<string, Json> | undefined;
        if (body?.['application/json'] !== undefined) media.push([`${base}/requestBody/content/application~1json`, body['application/json']]);
        for (const [status, response] of Object.entries(op.responses as Record<string, Json>)) {
          const json = (response.content as Record<string, Json> | undefined)?.['application/json'];
          if (json !== undefined) media.push([`${base}/responses/${status}/content/application~1json`, json]);
        }
        for (const [pointer, m] of media) {
          const validate = ajv.compile({ $ref: `${pointer}/schema` });
          const values = [
            ...(m.example === undefined ? [] : [m.example]),
            ...Object.values((m.examples ?? {}) as Record<string, { value: unknown }>).map((e) => e.value),
          ];
          for (const value of values) {
            expect(validate(value), `${method} ${path} ${pointer}: ${ajv.errorsText(validate.errors)}`).toBe(true);
            examples++;
          }
        }
      }
    }
    expect(examples).toBeGreaterThan(100);
  });

  it('documents each error code with the status it is answered with', () => {
    for (const item of Object.values(served.paths as Record<string, Record<string, Json>>)) {
      for (const op of Object.values(item)) {
        for (const [status, response] of Object.entries(op.responses as Record<string, Json>)) {
          if (Number(status) < 400) continue;
          const examples = ((response.content as Record<string, Json>)['application/json']?.examples ?? {}) as Record<string, unknown>;
          expect(Object.keys(examples).length, `${op.operationId} ${status}`).toBeGreaterThan(0);
        }
      }
    }
  });

  it('answers every operation as documented: each answer below is checked by the contract', async () => {
    const before = contractTally().count;
    let sent = 0;
    // The status each call must get; a different one fails with the answer's body.
    const call = async (path: string, init?: Parameters<TestGateway['request']>[1]) => {
      sent++;
      const res = await gw.request(path, init);
      const body = await res.clone().text();
      return { status: res.status, expect: (status: number) => expect(res.status, `${init?.method ?? 'GET'} ${path}: ${body.slice(0, 300)}`).toBe(status) };
    };
    const admin = { authorization: `Bearer ${gw.adminToken}` };
    const tenantName = `openapi/${Date.now()}`;
    const tenant = await gw.createTenant(tenantName);
    sent++;
    const asTenant = { 'x-tenant-id': tenant.id };

    (await call('/health')).expect(200);
    (await call('/health/ready')).expect(200);
    (await call('/metrics')).expect(200);
    (await call('/docs')).expect(200);
    (await call('/docs/init.js')).expect(200);
    (await call('/docs/swagger-ui.css')).expect(200);
    (await call('/docs/nothing.js')).expect(404);
    (await call('/v1/internal/users', { method: 'POST', headers: asTenant, json: { first_name: 'Ada', last_name: 'Lovelace' } })).expect(201);
    (await call('/v1/internal/users', { method: 'POST', headers: asTenant, json: { first_name: 'Ada', role: 'x' } })).expect(400);
    (
      await call('/v1/internal/users?page_size=1&sort_column=last_name&sort_direction=ascending&confirmed=false&search=ada&count=exact', { headers: asTenant })
    ).expect(200);
    (await call('/v1/internal/users?page_size=0', { headers: asTenant })).expect(400);
    (await call('/v1/internal/users')).expect(400);
    (await call('/v1/internal/users', { method: 'PUT', headers: asTenant })).expect(405);
    const key = { ...asTenant, 'idempotency-key': 'openapi-create-1' };
    const first = await gw.request('/v1/internal/users', { method: 'POST', headers: key, json: { first_name: 'Grace', last_name: 'Hopper' } });
    sent++;
    expect(first.status).toBe(201);
    const grace = ((await first.json()) as { id: string }).id;
    const replay = await gw.request('/v1/internal/users', { method: 'POST', headers: key, json: { first_name: 'Grace', last_name: 'Hopper' } });
    sent++;
    expect([replay.status, replay.headers.get('idempotency-replayed')]).toEqual([201, 'true']);
    (await call('/v1/internal/users', { method: 'POST', headers: key, json: { first_name: 'Grace', last_name: 'Brewster' } })).expect(422);
    (
      await call('/v1/internal/users', { method: 'POST', headers: { ...asTenant, 'idempotency-key': 'has space' }, json: { first_name: 'A', last_name: 'B' } })
    ).expect(400);
    (await call(`/v1/internal/users/${grace}`, { headers: asTenant })).expect(200);
    (await call('/v1/internal/users/not-a-uuid', { headers: asTenant })).expect(400);
    (await call(`/v1/internal/users/${tenant.id}`, { headers: asTenant })).expect(404);
    (
      await call(`/v1/internal/users/${grace}`, { method: 'PATCH', headers: { ...asTenant, 'idempotency-key': 'openapi-patch-1' }, json: { confirmed: true } })
    ).expect(200);
    (
      await call(`/v1/internal/users/${grace}`, { method: 'PATCH', headers: { ...asTenant, 'idempotency-key': 'openapi-patch-1' }, json: { confirmed: true } })
    ).expect(200);
    (await call(`/v1/internal/users/${grace}`, { method: 'PATCH', headers: asTenant, json: { first_name: 'Amazing Grace', last_name: 'Hopper' } })).expect(200);
    (await call(`/v1/internal/users/${grace}`, { method: 'PATCH', headers: asTenant, json: {} })).expect(400);
    (await call(`/v1/internal/users/${grace}`, { method: 'POST', headers: asTenant })).expect(405);
    (await call(`/v1/internal/users/${grace}`, { method: 'DELETE', headers: asTenant })).expect(204);
    (await call(`/v1/internal/users/${grace}`, { method: 'DELETE', headers: asTenant })).expect(404);
    (await call('/v1/admin/tenants?page=1&page_size=5', { headers: admin })).expect(200);
    (await call('/v1/admin/tenants?search=%20x_%25%20&status=active&sort_column=name&sort_direction=descending', { headers: admin })).expect(200);
    (await call('/v1/admin/tenants?sort_column=db_user', { headers: admin })).expect(400);
    (await call(`/v1/admin/tenants/by-name/${encodeURIComponent(tenantName)}`, { headers: admin })).expect(200);
    (await call('/v1/admin/tenants/by-name/no%20such%20tenant', { headers: admin })).expect(404);
    (await call('/v1/admin/tenants/by-name/x', { method: 'DELETE', headers: admin })).expect(405);
    (await call('/openapi.json', { method: 'POST' })).expect(405);
    (await call('/health', { method: 'HEAD' })).expect(200);
    (await call('/v1/admin/tenants')).expect(401);
    (await call(`/v1/admin/tenants/${tenant.id}`, { headers: admin })).expect(200);
    (await call('/v1/admin/tenants/not-a-uuid', { headers: admin })).expect(400);
    (await call(`/v1/admin/tenants/${tenant.id}`, { method: 'PATCH', headers: admin, json: { rate_limit_rps: 50, rate_limit_burst: 100 } })).expect(200);
    (await call(`/v1/admin/tenants/${tenant.id}`, { method: 'PATCH', headers: admin, json: { rate_limit_rps: null } })).expect(200);
    (await call(`/v1/admin/tenants/${tenant.id}/rotate`, { method: 'POST', headers: admin })).expect(200);
    (await call(`/v1/admin/tenants/${tenant.id}/suspend`, { method: 'POST', headers: admin })).expect(200);
    (await call('/v1/internal/users', { headers: asTenant })).expect(403);
    (await call(`/v1/admin/tenants/${tenant.id}/resume`, { method: 'POST', headers: admin })).expect(200);
    // A move needs a second server (test/integration/tenant-move.test.ts has its 202s and states).
    (await call(`/v1/admin/tenants/${tenant.id}/move`, { method: 'POST', headers: admin, json: { server: 'main' } })).expect(409);
    (await call(`/v1/admin/tenants/${tenant.id}/move`, { method: 'POST', headers: admin, json: { server: 'nowhere' } })).expect(422);
    (await call(`/v1/admin/tenants/${tenant.id}/move`, { headers: admin })).expect(404);
    // Plain PostgreSQL here: main is listed as such (test/integration/citus-cluster.test.ts has a cluster).
    (await call('/v1/admin/cluster', { headers: admin })).expect(200);
    (await call(`/v1/admin/cluster?tenant=${tenant.id}`, { headers: admin })).expect(200);
    (await call('/v1/admin/cluster?tenant=acme', { headers: admin })).expect(400);
    // Isolation and moves between workers are Citus' (test/integration/citus-move.test.ts): refused here.
    (await call(`/v1/admin/tenants/${tenant.id}/move`, { method: 'POST', headers: admin, json: { node: '127.0.0.1:5432' } })).expect(409);
    (await call(`/v1/admin/tenants/${tenant.id}/move`, { method: 'POST', headers: admin, json: { server: 'main', node: '127.0.0.1:5432' } })).expect(400);
    (await call(`/v1/admin/tenants/${tenant.id}/isolate`, { method: 'POST', headers: admin })).expect(409);
    (await call(`/v1/admin/tenants/${tenant.id}/isolate`, { method: 'GET', headers: admin })).expect(405);
    (await call(`/v1/admin/tenants/${tenant.id}`, { method: 'DELETE', headers: admin })).expect(204);
    (await call(`/v1/admin/tenants/${tenant.id}`, { method: 'DELETE', headers: admin })).expect(404);
    (await call(`/v1/admin/cluster?tenant=${tenant.id}`, { headers: admin })).expect(404);
    (await call('/v1/admin/servers', { headers: admin })).expect(200);
    (await call('/v1/admin/servers/main', { headers: admin })).expect(200);
    (await call('/v1/admin/servers/nowhere', { headers: admin })).expect(404);
    (await call('/v1/admin/servers', { method: 'POST', headers: admin, json: { name: 'eu2', url: 'mysql://x@h/db', max_connections: 10 } })).expect(400);
    (await call('/v1/admin/servers/main', { method: 'DELETE', headers: admin })).expect(409);
    (await call('/v1/admin/servers/main', { method: 'PATCH', headers: admin, json: {} })).expect(405);
    (await call('/v1/nothing')).expect(404);

    // Every exchange was checked (none skipped), and together they reached every documented operation.
    const tally = contractTally();
    expect(tally.count - before).toBe(sent);
    const reached = new Set([...tally.answers].map((a) => a.split(' ').slice(0, 2).join(' ')));
    const documented = OPERATIONS.map((op) => `${op.method.toUpperCase()} ${op.path}`);
    expect(documented.filter((op) => !reached.has(op))).toEqual([]);
  });
});

describe('the contract', () => {
  const contract = createContract(buildApiDocument({ authMode: 'network', tenantFrom: 'header' }) as Json);
  const user = {
    id: '5f0c3a52-8d7e-4b8e-9a51-2f4d6c1e7b90',
    first_name: 'Ada',
    last_name: 'Lovelace',
    confirmed: false,
    created_at: '2026-11-24T17:22:53.182100Z',
    updated_at: '2026-11-24T17:22:53.182100Z',
  };
  const created: Exchange = {
    method: 'POST',
    url: '/v1/internal/users',
    requestJson: { first_name: 'Ada', last_name: 'Lovelace' },
    status: 201,
    contentType: 'application/json; charset=utf-8',
    retryAfter: null,
    body: JSON.stringify(user),
  };

  const methodNotAllowed = '{"error":{"code":"method_not_allowed","message":"PUT is not allowed"}}';

  it('accepts an answer the document describes', () => {
    const before = contract.checked.count;
    contract.check(created);
    contract.check({ ...created, headers: { 'idempotency-replayed': 'true' }, requestHeaders: { 'idempotency-key': 'k-1' } });
    contract.check({ ...created, method: 'PUT', status: 405, body: methodNotAllowed, headers: { allow: 'POST, GET, HEAD' } });
    expect(contract.checked.count).toBe(before + 3);
  });

  it.each<[string, Partial<Exchange>, string]>([
    ['an undocumented status', { status: 200 }, 'status 200 is not documented'],
    ['an undocumented field in the answer', { body: JSON.stringify({ ...user, email: 'a@b.c' }) }, 'must NOT have additional properties'],
    ['a missing field', { body: JSON.stringify({ ...user, confirmed: undefined }) }, "must have required property 'confirmed'"],
    ['another media type', { contentType: 'text/plain' }, 'content type text/plain is not documented'],
    ['an undocumented error code', { status: 400, body: '{"error":{"code":"tenant_exists","message":"m"}}' }, 'must be equal to one of the allowed values'],
    ['a 503 without Retry-After', { status: 503, body: '{"error":{"code":"queue_full","message":"m"}}' }, 'Retry-After'],
    ['an undocumented route', { url: '/v1/internal/things' }, 'no operation documents this method and path'],
    ['an undocumented method answered other than 405', { method: 'PUT' }, 'it may only answer 405 method_not_allowed'],
    ['a 405 without Allow', { method: 'PUT', status: 405, body: methodNotAllowed }, 'Allow is documented for 405 but missing'],
    [
      'a 405 whose Allow differs from the document',
      { method: 'PUT', status: 405, body: methodNotAllowed, headers: { allow: 'GET, HEAD, POST, PUT' } },
      'differs from the methods',
    ],
    [
      'a 405 with another code',
      { method: 'PUT', status: 405, body: '{"error":{"code":"route_not_found","message":"m"}}', headers: { allow: 'GET, HEAD, POST' } },
      'not a method_not_allowed error',
    ],
    [
      'a header documented elsewhere on an answer that does not name it',
      { method: 'GET', url: `/v1/internal/users/${user.id}`, status: 200, headers: { 'idempotency-replayed': 'true' } },
      'idempotency-replayed, which the document does not name',
    ],
    ['a documented header with a value it does not allow', { headers: { 'idempotency-replayed': 'yes' } }, 'Idempotency-Replayed: yes does not fit'],
    ['an accepted request header the document refuses', { requestHeaders: { 'idempotency-key': 'a b' } }, "the request's Idempotency-Key: a b was accepted"],
    ['an accepted body the document refuses', { requestJson: { first_name: 'Ada', last_name: 'Lovelace', confirmed: true } }, 'the request body was accepted'],
    [
      'an accepted query parameter it does not list',
      {
        method: 'GET',
        url: '/v1/internal/users?sort=x',
        status: 200,
        body: JSON.stringify({ records: [], page: 1, page_size: 10, total: 0, total_pages: 0, total_exact: true, next_cursor: null }),
      },
      'query parameter sort is not documented',
    ],
  ])('refuses %s', (_name, change, message) => {
    expect(() => contract.check({ ...created, ...change })).toThrow(message);
  });
});
