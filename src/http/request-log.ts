// One structured log line per request: request id, tenant, method, matched route, status, latency.
// Never headers or bodies, so tokens and passwords cannot reach the log. The request id comes from
// x-request-id when it looks like one (so a caller's trace continues), else a new UUID; it is echoed
// back in the response.
import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../log.js';
import type { AppEnv } from './env.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export function requestLog(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header('x-request-id');
    const requestId = incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    c.header('x-request-id', requestId);
    await next();
    const status = c.res.status;
    const entry = {
      requestId,
      tenantId: c.get('tenantId'),
      method: c.req.method,
      route: c.req.routePath,
      status,
      ms: Math.round((performance.now() - started) * 10) / 10,
    };
    if (status >= 500) logger.warn(entry, 'request failed');
    else logger.info(entry, 'request');
  };
}
