// Liveness (the process answers) and readiness (the catalog database answers).
import { Hono } from 'hono';
import type { Sql } from 'postgres';
import { Unavailable } from '../errors.js';
import { onlyMethods } from '../http/methods.js';

export function healthRoutes(catalog: Sql, draining: () => boolean = () => false, readyTimeoutMs = 2000): Hono {
  const app = new Hono();
  app.get('/', (c) => c.json({ status: 'ok' }));
  app.get('/ready', async (c) => {
    // A load balancer must stop sending traffic before the instance stops answering it.
    if (draining()) throw new Unavailable('shutting_down', 'this instance is shutting down', 5);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('readiness probe timed out')), readyTimeoutMs);
    });
    try {
      await Promise.race([catalog`SELECT 1`, timeout]);
    } catch {
      throw new Unavailable('not_ready', 'the catalog database is unreachable', 5);
    } finally {
      clearTimeout(timer);
    }
    return c.json({ status: 'ready' });
  });
  app.all('/', onlyMethods('GET'));
  app.all('/ready', onlyMethods('GET'));
  return app;
}
