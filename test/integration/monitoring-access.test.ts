// /metrics and /health/ready answer only METRICS_NETWORKS; liveness stays open to anyone.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let open: TestGateway;
let closed: TestGateway;

beforeAll(async () => {
  open = await startTestGateway();
  // The tests call from 127.0.0.1, which this list leaves out.
  closed = await startTestGateway({ peerOf: open, monitoringNetworks: '10.0.0.0/8' });
});

afterAll(async () => {
  await closed?.close();
  await open?.close();
});

it.each(['/metrics', '/health/ready'])('%s refuses an address outside METRICS_NETWORKS with 403 untrusted_network', async (path) => {
  const res = await closed.request(path);
  expect(res.status).toBe(403);
  expect(await res.json()).toMatchObject({ error: { code: 'untrusted_network', message: expect.stringContaining('METRICS_NETWORKS') } });
});

it.each(['/metrics', '/health/ready'])('%s answers an address inside METRICS_NETWORKS', async (path) => {
  const res = await open.request(path);
  expect(res.status).toBe(200);
  await res.arrayBuffer();
});

it('liveness (/health) answers everyone', async () => {
  expect((await closed.request('/health')).status).toBe(200);
});
