// The request bodies of the tenant admin routes as zod schemas, for the API document: what
// parseCreateTenant and parseTenantLimits accept (test/unit/request-schemas.test.ts holds them equal).
// Not beside the parsers: the CLI loads those, and importing zod costs it ~150 ms at every start.
import { z } from 'zod';
import { textSchema } from '../http/text-schema.js';
import { MAX_TENANT_NAME_LENGTH } from './create-input.js';
import { MAX_LIMIT } from './limits-input.js';
import { ISOLATION_MODEL_NAMES } from './placement.js';

/** What parseCreateTenant accepts, for the API document (test/unit/request-schemas.test.ts holds them equal). */
export const createTenantSchema = z
  .strictObject({
    name: textSchema(MAX_TENANT_NAME_LENGTH).describe('unique; 1 to 100 characters, not blank'),
    model: z.enum(ISOLATION_MODEL_NAMES).optional().describe("isolation model; the gateway's TENANT_MODEL when left out"),
  })
  .describe('A new tenant: a catalog row and its own PostgreSQL role, created in one transaction.');

const limit = (min: number) => z.int().min(min).max(MAX_LIMIT);

/** What parseTenantLimits accepts, for the API document (test/unit/request-schemas.test.ts holds them equal). */
export const tenantLimitsSchema = z
  .union([
    z.strictObject({
      rate_limit_rps: limit(0).describe('requests per second; 0 means unlimited'),
      rate_limit_burst: limit(1).nullable().optional().describe('bucket size; rps × 2 when null or left out'),
    }),
    z.strictObject({
      rate_limit_rps: z.null().describe('null clears the override: the gateway-wide RATE_LIMIT_RPS applies'),
      rate_limit_burst: z.null().optional(),
    }),
  ])
  .describe("The tenant's own rate limit, or null to clear it.");
