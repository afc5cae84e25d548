// Proves liveness and readiness: /health answers while the process runs, /health/ready only while the
// catalog database answers (503 with Retry-After otherwise, whether it refuses or hangs), and an
// unknown route is a JSON 404.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import postgres, { type Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createErrorHandler } from '../../src/http/error-handler.js';
import { createLogger } from '../../src/log.js';
import { healthRoutes } from '../../src/routes/health.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

interface ErrorJson {
  error: { code: string; message: string };
}

function appFor(catalog: Sql, readyTimeoutMs?: number): Hono {
  const app = new Hono();
  app.onError(createErrorHandler(createLogger('silent')));
  app.route(
    '/',
    healthRoutes(catalog, () => false, readyTimeoutMs),
  );
  return app;
}

async function expectNotReady(res: Response): Promise<void> {
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as ErrorJson;
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe('not_ready');
  expect(body.error.message.length).toBeGreaterThan(0);
}

describe('against a running gateway', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('GET /health answers 200 {"status":"ok"}', async () => {
    const res = await gw.request('/health');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /health/ready answers 200 {"status":"ready"} while the catalog answers', async () => {
    const res = await gw.request('/health/ready');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready' });
  });

  it.each([
    ['POST', '/health'],
    ['DELETE', '/health/ready'],
  ])('%s %s (a known path) answers 405 method_not_allowed with Allow', async (method, path) => {
    const res = await gw.request(path, { method });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(((await res.json()) as ErrorJson).error.code).toBe('method_not_allowed');
  });

  it.each([
    ['GET', '/nope'],
    ['GET', '/v1/internal/userz'],
    ['POST', '/healthz'],
  ])('%s %s answers 404 route_not_found as JSON', async (method, path) => {
    const res = await gw.request(path, { method });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as ErrorJson;
    expect(body.error.code).toBe('route_not_found');
    expect(body.error.message).toContain(path);
  });
});

describe('readiness without a reachable catalog', () => {
  it('answers 503 with Retry-After when the catalog refuses connections', async () => {
    const catalog = postgres('postgres://nobody:x@127.0.0.1:1/none', { connect_timeout: 1, max: 1, onnotice: () => {} });
    try {
      const app = appFor(catalog);
      await expectNotReady(await app.request('/ready'));
      // Liveness does not depend on the catalog.
      const live = await app.request('/');
      expect(live.status).toBe(200);
      expect(await live.json()).toEqual({ status: 'ok' });
    } finally {
      await catalog.end({ timeout: 0 });
    }
  });

  describe('when the catalog accepts connections but never answers', () => {
    let silent: Server;
    const sockets = new Set<Socket>();

    beforeAll(async () => {
      silent = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    });

    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });

    it('answers 503 with Retry-After once the readiness timeout passes', async () => {
      const { port } = silent.address() as AddressInfo;
      const catalog = postgres({ host: '127.0.0.1', port, username: 'nobody', password: 'x', database: 'none', connect_timeout: 30, max: 1 });
      try {
        const started = Date.now();
        await expectNotReady(await appFor(catalog, 200).request('/ready'));
        // Answered by the probe's own timeout, not by the 30 s connect timeout.
        expect(Date.now() - started).toBeLessThan(5_000);
      } finally {
        await catalog.end({ timeout: 0 });
      }
    });
  });
});
