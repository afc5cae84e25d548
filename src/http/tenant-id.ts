// Resolves the tenant of a request from the x-tenant-id header (a UUID). Whether the caller may act for
// that tenant is the authentication layer's question, not this one's.
import type { MiddlewareHandler } from 'hono';
import { BadRequest } from '../errors.js';
import type { AppEnv } from './env.js';
import { isUuid } from './params.js';

export const tenantFromHeader: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header('x-tenant-id');
  if (header === undefined || header === '') {
    throw new BadRequest('missing_tenant_id', 'the x-tenant-id header is required', 'x-tenant-id');
  }
  if (!isUuid(header)) {
    throw new BadRequest('invalid_tenant_id', 'the x-tenant-id header must be a UUID', 'x-tenant-id');
  }
  c.set('tenantId', header.toLowerCase());
  await next();
};
