// The request bodies and list query of the tenant admin routes as zod schemas, for the API document:
// what parseCreateTenant, parseTenantLimits and parseTenantListParams accept
// (test/unit/request-schemas.test.ts holds them equal).
// Not beside the parsers: the CLI loads those, and importing zod costs it ~150 ms at every start.
import { z } from 'zod';
import { textSchema } from '../http/text-schema.js';
import { SERVER_NAME } from '../servers/create-input.js';
import { MAX_TENANT_NAME_LENGTH } from './create-input.js';
import { MAX_LIMIT } from './limits-input.js';
import {
  MAX_TENANT_PAGE,
  MAX_TENANT_PAGE_SIZE,
  MAX_TENANT_SEARCH_LENGTH,
  TENANT_SORT_COLUMNS,
  TENANT_STATUSES,
  type TenantListParameter,
} from './list-input.js';
import { ISOLATION_MODEL_NAMES } from './placement.js';

/** What parseCreateTenant accepts, for the API document (test/unit/request-schemas.test.ts holds them equal). */
export const createTenantSchema = z
  .strictObject({
    name: textSchema(MAX_TENANT_NAME_LENGTH).describe('unique; 1 to 100 characters, not blank'),
    model: z.enum(ISOLATION_MODEL_NAMES).optional().describe("isolation model; the gateway's TENANT_MODEL when left out"),
    server: z
      .string()
      .regex(SERVER_NAME)
      .optional()
      .describe('the server it lives on (GET /v1/admin/servers); when left out, the one with the fewest tenants (main first among equals)'),
  })
  .describe('A new tenant: a catalog row and its own PostgreSQL role (and schema or database) on its server.');

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

/**
 * What parseTenantListParams accepts, for the API document: `satisfies` keeps the names equal to
 * TENANT_LIST_PARAMETERS. search counts code points once trimmed, which the pattern says: any run of
 * white space either side, at most 100 characters between.
 */
export const tenantListQuerySchema = z.object({
  page: z.int().min(1).max(MAX_TENANT_PAGE).default(1),
  page_size: z.int().min(1).max(MAX_TENANT_PAGE_SIZE).default(50),
  search: z
    .string()
    .regex(new RegExp(`^\\s*[\\s\\S]{0,${MAX_TENANT_SEARCH_LENGTH}}\\s*$`, 'u'))
    .optional()
    .describe(`case-insensitive substring of the name (% and _ match themselves); at most ${MAX_TENANT_SEARCH_LENGTH} characters once trimmed`),
  status: z.enum(TENANT_STATUSES).optional().describe('only tenants with this status'),
  sort_column: z.enum(TENANT_SORT_COLUMNS).default('created_at'),
  sort_direction: z.enum(['ascending', 'descending']).default('ascending'),
} satisfies Record<TenantListParameter, z.ZodType>);
