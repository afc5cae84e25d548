// REQUEST_TIMEOUT bounds how long a client may take to send its request: a body that trickles in is cut
// with 408 and the connection closed, instead of holding it for Node's default 300 s.
import { connect } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let tenantId: string;

beforeAll(async () => {
  gw = await startTestGateway({ requestTimeoutMs: 800 });
  tenantId = (await gw.createTenant()).id;
});

afterAll(async () => {
  await gw?.close();
});

/** Opens a connection, sends `first`, then a byte every 200 ms; resolves with what came back and when it closed. */
async function trickle(first: string): Promise<{ received: string; closedAfterMs: number }> {
  const { port } = new URL(gw.url);
  const socket = connect({ host: '127.0.0.1', port: Number(port) });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
  const started = Date.now();
  socket.write(first);
  // Never idle long enough for an idle timeout, never complete.
  const drip = setInterval(() => socket.writable && socket.write(' '), 200);
  const at = await Promise.race([closed, new Promise<number>((resolve) => setTimeout(() => resolve(-1), 6_000))]);
  clearInterval(drip);
  socket.destroy();
  return { received, closedAfterMs: at < 0 ? Number.POSITIVE_INFINITY : at - started };
}

it('headers still incomplete after REQUEST_TIMEOUT are answered 408 and the connection closed', async () => {
  const { received, closedAfterMs } = await trickle(`GET /v1/internal/users HTTP/1.1\r\nHost: 127.0.0.1\r\nx-tenant-id: ${tenantId}\r\nx-slow:`);
  expect(closedAfterMs).toBeLessThan(3_000);
  expect(received).toMatch(/^HTTP\/1\.1 408/);
});

it('a body still incomplete after REQUEST_TIMEOUT has its connection closed, and nothing is written', async () => {
  const { closedAfterMs } = await trickle(
    `POST /v1/internal/users HTTP/1.1\r\nHost: 127.0.0.1\r\nx-tenant-id: ${tenantId}\r\n` +
      'content-type: application/json\r\ncontent-length: 100\r\n\r\n{"first_name":',
  );
  // The request was already being handled, so Node cannot answer 408: it closes the connection.
  expect(closedAfterMs).toBeLessThan(3_000);
  const [row] = await gw.db.admin`SELECT count(*)::int AS n FROM users WHERE tenant_id = ${tenantId}`;
  expect(row?.n).toBe(0);
});

it('a request that arrives in time is unaffected', async () => {
  expect((await gw.request('/v1/internal/users', { headers: { 'x-tenant-id': tenantId } })).status).toBe(200);
});
