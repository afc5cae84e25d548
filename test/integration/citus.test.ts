// Smoke (work in progress): the gateway with its catalog on a Citus coordinator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutCitus, startCitusCluster, type CitusCluster } from '../support/citus-cluster.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const USERS = '/v1/internal/users';
const skip = skipWithoutCitus();
let cluster: CitusCluster;
let gw: TestGateway;

describe.skipIf(skip)('Citus', () => {
  beforeAll(async () => {
    cluster = await startCitusCluster();
    gw = await startTestGateway({ database: cluster.asDatabase() });
  }, 120_000);
  afterAll(async () => {
    await gw?.close();
    await cluster?.destroy();
  });

  it('serves users', async () => {
    const a = await gw.createTenant('a', 'rls');
    const b = await gw.createTenant('b', 'rls');
    const res = await gw.request(USERS, { method: 'POST', headers: { 'x-tenant-id': a.id }, json: { first_name: 'Ann', last_name: 'A' } });
    expect(res.status).toBe(201);
    const list = await gw.request(USERS, { headers: { 'x-tenant-id': a.id } });
    expect(list.status).toBe(200);
    console.log(await list.json());
    const listB = await gw.request(USERS, { headers: { 'x-tenant-id': b.id } });
    console.log(await listB.json());
    const s = await gw.createTenant('s', 'schema');
    const rs = await gw.request(USERS, { method: 'POST', headers: { 'x-tenant-id': s.id }, json: { first_name: 'S', last_name: 'S' } });
    console.log(rs.status, await rs.json());
    console.log(await cluster.coordinator`SELECT * FROM citus_schemas`);
  });
});
