// Runs the tenant guards (caller authentication, tenant look-up and rate limit) as one middleware.
// Each guard either throws or calls next(), so plain nesting does what hono's every() does, without
// composing a middleware chain, and wrapping each guard in another async function, on every request.
import type { MiddlewareHandler, Next } from 'hono';
import type { AppEnv } from './env.js';

export function chainGuards(guards: readonly MiddlewareHandler<AppEnv>[]): MiddlewareHandler<AppEnv> {
  return guards.reduceRight<MiddlewareHandler<AppEnv>>(
    (inner, guard) => (c, next) => guard(c, (() => inner(c, next)) as Next),
    (_c, next) => next(),
  );
}
