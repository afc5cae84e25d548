// While draining (shutdown began), readiness fails so load balancers move on, and any request still
// arriving on an open connection is refused with 503 and told to close it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectError } from '../support/http.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let tenant: { id: string };

beforeAll(async () => {
  gw = await startTestGateway();
  tenant = await gw.createTenant();
  expect((await gw.request('/v1/internal/users', { headers: { 'x-tenant-id': tenant.id } })).status).toBe(200);
  gw.gateway.startDraining();
});

afterAll(async () => {
  await gw?.close();
});

it('answers /health/ready with 503 shutting_down, while /health stays 200', async () => {
  await expectError(await gw.request('/health/ready'), 503, 'shutting_down');
  expect((await gw.request('/health')).status).toBe(200);
});

it('refuses tenant requests with 503 shutting_down, Retry-After and Connection: close', async () => {
  const res = await gw.request('/v1/internal/users', { headers: { 'x-tenant-id': tenant.id } });
  expect(res.headers.get('retry-after')).toBe('1');
  expect(res.headers.get('connection')).toBe('close');
  await expectError(res, 503, 'shutting_down');
});
