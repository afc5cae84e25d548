// Reads the tenant a request names in its x-tenant-id header (a UUID). Whether the caller may act for
// that tenant is the caller-authentication layer's question (src/http/caller-auth.ts), not this one's.
import type { Context, MiddlewareHandler } from 'hono';
import { BadRequest } from '../errors.js';
import type { AppEnv } from './env.js';
import { isUuid } from './params.js';

/** The header's tenant id, lower-cased; undefined when absent and not required. */
export function readTenantHeader(c: Context, required: boolean): string | undefined {
  const header = c.req.header('x-tenant-id');
  if (header === undefined || header === '') {
    if (!required) return undefined;
    throw new BadRequest('missing_tenant_id', 'the x-tenant-id header is required', 'x-tenant-id');
  }
  if (!isUuid(header)) {
    throw new BadRequest('invalid_tenant_id', 'the x-tenant-id header must be a UUID', 'x-tenant-id');
  }
  return header.toLowerCase();
}

/** Sets the tenant from the header alone (no caller authentication): used by the bench baseline. */
export const tenantFromHeader: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.set('tenantId', readTenantHeader(c, true) as string);
  await next();
};
