// The one place errors become HTTP responses: {"error":{"code","message"}}, with Retry-After on 503.
// Anything that is not an AppError is a bug: logged, and answered 500 without details.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { translateDbError } from '../db/errors.js';
import { AppError, MethodNotAllowed, Unavailable } from '../errors.js';
import { errorFacts, type Logger } from '../log.js';
import type { AppEnv } from './env.js';

export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

export function createErrorHandler(logger: Logger) {
  return (err: unknown, c: Context): Response => {
    const known = translateDbError(err);
    if (known) {
      answered(c, known.code);
      if (known.retryAfterSeconds !== undefined) c.header('Retry-After', String(known.retryAfterSeconds));
      if (known instanceof MethodNotAllowed) c.header('Allow', known.allow.join(', '));
      if (known instanceof Unavailable) {
        logger.warn({ err: errorFacts(err), path: c.req.path }, 'request failed: dependency unavailable');
      }
      return c.json(errorBody(known.code, known.message), known.status as ContentfulStatusCode);
    }
    if (err instanceof HTTPException && err.status < 500) {
      answered(c, 'bad_request');
      return c.json(errorBody('bad_request', err.message || 'bad request'), err.status as ContentfulStatusCode);
    }
    logger.error({ err: errorFacts(err), path: c.req.path }, 'unhandled error');
    answered(c, 'internal_error');
    return c.json(errorBody('internal_error', 'internal error'), 500);
  };
}

export function notFoundHandler(c: Context): Response {
  answered(c, 'route_not_found');
  return c.json(errorBody('route_not_found', `no route for ${c.req.method} ${c.req.path}`), 404);
}

export { AppError };

/**
 * Notes the answer's code for the request envelope (metrics). The handlers also serve apps without the
 * gateway's variables (tests mount them alone); setting a variable on those is harmless.
 */
function answered(c: Context, code: string): void {
  (c as Context<AppEnv>).set('errorCode', code);
}
