// 405 for a known path asked with a method it does not serve, with the Allow header (RFC 9110 §15.5.6),
// instead of Hono's 404: a client that sent PUT for PATCH learns which methods exist. Registered after
// a path's own routes, so it only sees the methods they left unmatched.
import type { Handler } from 'hono';
import { MethodNotAllowed } from '../errors.js';

/** A handler answering 405 with `methods` (HEAD added where GET is: Hono serves HEAD with GET's route). */
export function onlyMethods(...methods: readonly string[]): Handler {
  const allow = methods.includes('GET') && !methods.includes('HEAD') ? [...methods, 'HEAD'] : [...methods];
  return (c) => {
    throw new MethodNotAllowed(allow, c.req.path, c.req.method);
  };
}
