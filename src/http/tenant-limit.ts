// Applies the tenant's rate limit before any database work: the tenant's own override from the catalog
// (via the directory cache) or the gateway-wide RATE_LIMIT_RPS/BURST. Also answers 404/403 for unknown
// or suspended tenants early, from the same cached look-up.
import type { MiddlewareHandler } from 'hono';
import { TooManyRequests } from '../errors.js';
import type { TenantDirectory, TenantEntry } from '../tenants/directory.js';
import type { AppEnv } from './env.js';
import { effectiveLimit, type RateLimit, type RateLimiter } from './rate-limit.js';

export function tenantLimit(directory: TenantDirectory, limiter: RateLimiter, global: RateLimit): MiddlewareHandler<AppEnv> {
  const admit = (tenant: TenantEntry): void => {
    const wait = limiter.take(tenant.id, effectiveLimit(global, tenant.rateLimit));
    if (wait > 0) {
      throw new TooManyRequests('rate_limited', `tenant ${tenant.id} is over its request rate; retry in ${wait} s`, wait);
    }
  };
  return (c, next) => {
    const tenantId = c.get('tenantId');
    // A cached active tenant (nearly every request) is admitted without awaiting a look-up.
    const cached = directory.peek(tenantId);
    if (cached !== undefined) {
      admit(cached);
      return next();
    }
    return directory.require(tenantId).then((tenant) => {
      admit(tenant);
      return next();
    });
  };
}
