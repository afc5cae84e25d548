import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
beforeAll(async () => { gw = await startTestGateway(); });
afterAll(async () => { await gw?.close(); });

it('creates a user for a new tenant and lists it', async () => {
  const t = await gw.createTenant();
  const created = await gw.request('/v1/internal/users', { method: 'POST', headers: { 'x-tenant-id': t.id }, json: { first_name: 'A', last_name: 'B' } });
  expect(created.status).toBe(201);
  const list = await gw.request('/v1/internal/users', { headers: { 'x-tenant-id': t.id } });
  expect(((await list.json()) as { total: number }).total).toBe(1);
});
