// The one middleware every request passes through first: it names the request (x-request-id), turns
// requests away while the instance shuts down, and once the answer is known records it, timed once,
// in the metrics and the request log. One layer instead of three: each Hono middleware costs an async
// frame, a promise and a microtask hop per request.
import type { HttpBindings } from '@hono/node-server';
import type { Context, MiddlewareHandler } from 'hono';
import { Unavailable } from '../errors.js';
import type { AppEnv } from './env.js';
import type { GatewayMetrics } from './metrics.js';
import { requestIdFor, type RequestLog } from './request-log.js';

export interface EnvelopeDeps {
  readonly metrics: Pick<GatewayMetrics, 'observeRequest'>;
  readonly log: RequestLog;
  /** True once shutdown began. */
  readonly draining: () => boolean;
  /** The app's error handler, for the answer given while draining. */
  readonly onError: (err: unknown, c: Context) => Response;
}

export function requestEnvelope(deps: EnvelopeDeps): MiddlewareHandler<AppEnv> {
  const { metrics, log, draining, onError } = deps;
  return async (c, next) => {
    const started = performance.now();
    const requestId = requestIdFor(c.req.header('x-request-id'));
    setEveryResponseHeader(c, 'x-request-id', requestId);
    if (draining() && !c.req.path.startsWith('/health')) {
      // Requests still arriving on kept-alive connections during shutdown: refuse, and close the socket.
      c.header('Connection', 'close');
      c.res = onError(new Unavailable('shutting_down', 'this instance is shutting down; retry on another', 1), c);
    } else {
      await next();
      // A request that was in flight when shutdown began must not keep its connection alive after it.
      if (draining()) c.res.headers.set('Connection', 'close');
    }
    const ms = performance.now() - started;
    const { method } = c.req;
    const status = c.res.status;
    const route = c.req.routePath;
    const tenantId = c.get('tenantId') as string | undefined;
    metrics.observeRequest(method, route, status, ms / 1000, tenantId, status >= 400 ? c.get('errorCode') : undefined);
    if (log.wants(status)) {
      log.write({ requestId, tenantId, method, route, status, ms: Math.round(ms * 10) / 10 });
    }
  };
}

/**
 * Sets a header that every answer to this request carries, errors included. On Node it goes on the
 * ServerResponse itself: through c.header() every response would carry a WHATWG Headers object, and
 * @hono/node-server writes a response whose headers are a plain object much more cheaply.
 */
function setEveryResponseHeader(c: Context, name: string, value: string): void {
  const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
  if (outgoing !== undefined && typeof outgoing.setHeader === 'function') outgoing.setHeader(name, value);
  else c.header(name, value);
}
