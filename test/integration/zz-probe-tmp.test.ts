import { connect } from 'node:net';
import { it } from 'vitest';
import { startTestGateway } from '../support/gateway.js';

function rawExchange(port: number, payload: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', (e) => console.log('err', e.message));
    socket.end(payload);
  });
}
it('probe', async () => {
  const gw = await startTestGateway({ logDestination: { write: (l: string) => console.log('LOG', l.trim()) }, logLevel: 'debug' });
  const t = (await gw.createTenant()).id;
  const port = Number(new URL(gw.url).port);
  const u = (s: string) => Buffer.from(s, 'utf8');
  for (const p of [
    Buffer.concat([u(`GET /v1/internal/users HTTP/1.1\r\nhost: x\r\nx-tenant-id: `), u('ü'.repeat(36)), u('\r\nconnection: close\r\n\r\n')]),
    Buffer.concat([u(`GET /v1/internal/users HTTP/1.1\r\nhost: x\r\nx-tenant-id: `), Buffer.from([0xe9, 0xe9]), u('\r\nconnection: close\r\n\r\n')]),
    Buffer.concat([u(`GET /v1/internal/users HTTP/1.1\r\nhost: x\r\nx-tenant-id: ${t}\r\nx-request-id: `), u('req-ü'), u('\r\nconnection: close\r\n\r\n')]),
    Buffer.concat([u(`GET /v1/internal/users HTTP/1.1\r\nhost: x\r\nx-foo: `), u('ü'), u(`\r\nx-tenant-id: ${t}\r\nconnection: close\r\n\r\n`)]),
  ]) {
    console.log(JSON.stringify((await rawExchange(port, p)).slice(0, 300)));
  }
  await gw.close();
});
