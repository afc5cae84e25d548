// Applies the tenant's rate limit before any database work: the tenant's own override from the catalog
// (via the directory cache) or the gateway-wide RATE_LIMIT_RPS/BURST. Also answers 404/403 for unknown
// or suspended tenants early, from the same cached look-up.
import type { MiddlewareHandler } from 'hono';
import { TooManyRequests } from '../errors.js';
import type { TenantDirectory } from '../tenants/directory.js';
import type { AppEnv } from './env.js';
import { effectiveLimit, type RateLimit, type RateLimiter } from './rate-limit.js';

export function tenantLimit(directory: TenantDirectory, limiter: RateLimiter, global: RateLimit): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const tenantId = c.get('tenantId');
    const tenant = await directory.require(tenantId);
    const wait = limiter.take(tenantId, effectiveLimit(global, tenant.rateLimit));
    if (wait > 0) {
      throw new TooManyRequests('rate_limited', `tenant ${tenantId} is over its request rate; retry in ${wait} s`, wait);
    }
    await next();
  };
}
