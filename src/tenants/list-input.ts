// Validates the admin tenant list's query: page, page_size, search (a case-insensitive "contains" on the
// name, % and _ literal), status, sort_column and sort_direction. The same names and rules as the users
// list (src/users/list-params.ts), so a client learns one vocabulary. Shared by the HTTP route and the
// CLI (whose flags are these names with dashes).
import { BadRequest } from '../errors.js';
import { parsePositiveInteger } from '../http/params.js';
import type { TenantStatus } from './catalog.js';

export const TENANT_SORT_COLUMNS = ['name', 'created_at', 'updated_at', 'status', 'id'] as const;
export type TenantSortColumn = (typeof TENANT_SORT_COLUMNS)[number];
/** The query parameters, in the order the document lists them. */
export const TENANT_LIST_PARAMETERS = ['page', 'page_size', 'search', 'status', 'sort_column', 'sort_direction'] as const;
export type TenantListParameter = (typeof TENANT_LIST_PARAMETERS)[number];
export const TENANT_STATUSES = ['active', 'suspended'] as const satisfies readonly TenantStatus[];
export const MAX_TENANT_SEARCH_LENGTH = 100;
export const MAX_TENANT_PAGE = 1_000_000;
export const MAX_TENANT_PAGE_SIZE = 1000;
const LIKE_SPECIALS = /[\\%_]/g;

export interface TenantListParams {
  readonly page: number;
  readonly pageSize: number;
  /** For ILIKE: the trimmed term with \ % _ escaped, wrapped in %. */
  readonly searchPattern?: string;
  readonly status?: TenantStatus;
  readonly sortColumn: TenantSortColumn;
  readonly sortDirection: 'asc' | 'desc';
}

/** `query`: each parameter's values, as Hono's c.req.queries() gives them. */
export function parseTenantListParams(query: Record<string, readonly string[]>): TenantListParams {
  const one: Partial<Record<TenantListParameter, string>> = {};
  for (const [name, values] of Object.entries(query)) {
    if (!(TENANT_LIST_PARAMETERS as readonly string[]).includes(name)) {
      throw new BadRequest('unknown_parameter', `unknown query parameter ${JSON.stringify(name)}; allowed: ${TENANT_LIST_PARAMETERS.join(', ')}`, name);
    }
    if (values.length > 1) throw new BadRequest('duplicate_parameter', `${name} must be given at most once`, name);
    one[name as TenantListParameter] = values[0];
  }
  const search = one.search?.trim();
  if (search !== undefined && [...search].length > MAX_TENANT_SEARCH_LENGTH) {
    throw invalid('search', `search must be at most ${MAX_TENANT_SEARCH_LENGTH} characters`);
  }
  if (one.status !== undefined && !(TENANT_STATUSES as readonly string[]).includes(one.status)) {
    throw invalid('status', `status must be one of ${TENANT_STATUSES.join(', ')}`);
  }
  if (one.sort_column !== undefined && !(TENANT_SORT_COLUMNS as readonly string[]).includes(one.sort_column)) {
    throw invalid('sort_column', `sort_column must be one of ${TENANT_SORT_COLUMNS.join(', ')}`);
  }
  if (one.sort_direction !== undefined && one.sort_direction !== 'ascending' && one.sort_direction !== 'descending') {
    throw invalid('sort_direction', 'sort_direction must be ascending or descending');
  }
  return {
    page: one.page === undefined ? 1 : parsePositiveInteger('page', one.page, MAX_TENANT_PAGE),
    pageSize: one.page_size === undefined ? 50 : parsePositiveInteger('page_size', one.page_size, MAX_TENANT_PAGE_SIZE),
    ...(search ? { searchPattern: `%${search.replace(LIKE_SPECIALS, '\\$&')}%` } : {}),
    ...(one.status !== undefined ? { status: one.status as TenantStatus } : {}),
    sortColumn: (one.sort_column ?? 'created_at') as TenantSortColumn,
    sortDirection: one.sort_direction === 'descending' ? 'desc' : 'asc',
  };
}

function invalid(field: string, message: string): BadRequest {
  return new BadRequest('invalid_parameter', message, field);
}
