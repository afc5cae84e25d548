// A client that hangs up in the middle of its request body is its own outcome (499, counted as such,
// logged at info), never a database outage: no 503 in the metrics, no "dependency unavailable" warning.
import { connect } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from '../support/database.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let tenantId: string;
const lines: string[] = [];

beforeAll(async () => {
  gw = await startTestGateway({ logDestination: { write: (line: string) => void lines.push(line) }, logLevel: 'info' });
  tenantId = (await gw.createTenant()).id;
});

afterAll(async () => {
  await gw?.close();
});

/** Sends the headers and part of a JSON body, then resets the connection. */
async function abortMidBody(): Promise<void> {
  const { port } = new URL(gw.url);
  const socket = connect({ host: '127.0.0.1', port: Number(port) });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(
    `POST /v1/internal/users HTTP/1.1\r\nHost: 127.0.0.1\r\nx-tenant-id: ${tenantId}\r\n` +
      'content-type: application/json\r\ncontent-length: 200\r\n\r\n{"first_name":"Hal',
  );
  await new Promise((r) => setTimeout(r, 50));
  socket.resetAndDestroy();
}

async function metric(status: string): Promise<number> {
  const text = await (await gw.request('/metrics')).text();
  const line = text.split('\n').find((l) => l.startsWith('tenantgate_http_requests_total{') && l.includes('method="POST"') && l.includes(`status="${status}"`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

it('five bodies cut off mid-way: counted as 499, no 503, no database warning, nothing written', async () => {
  const before503 = await metric('503');
  for (let i = 0; i < 5; i++) await abortMidBody();
  await waitFor(async () => (await metric('499')) >= 5, 5_000, 'the aborted requests to be counted');
  expect(await metric('503')).toBe(before503);
  const logged = lines.map((l) => JSON.parse(l) as { level: number; msg: string; status?: number });
  expect(logged.filter((l) => l.msg.includes('dependency unavailable'))).toEqual([]);
  expect(logged.filter((l) => l.level >= 40)).toEqual([]);
  expect(logged.filter((l) => l.status === 499).length).toBeGreaterThanOrEqual(5);
  const [row] = await gw.db.admin`SELECT count(*)::int AS n FROM users WHERE tenant_id = ${tenantId}`;
  expect(row?.n).toBe(0);
});
