// The query of GET /v1/admin/cluster: at most one `tenant`, a tenant id. Shared by the route and the
// CLI's `cluster status --tenant`.
import { BadRequest } from '../errors.js';
import { isUuid } from '../http/params.js';

export const CLUSTER_PARAMETERS = ['tenant'] as const;

export function parseClusterQuery(query: Record<string, readonly string[]>): { tenant?: string } {
  for (const [name, values] of Object.entries(query)) {
    if (!(CLUSTER_PARAMETERS as readonly string[]).includes(name)) {
      throw new BadRequest('unknown_parameter', `unknown query parameter ${JSON.stringify(name)}; allowed: ${CLUSTER_PARAMETERS.join(', ')}`, name);
    }
    if (values.length > 1) throw new BadRequest('duplicate_parameter', `${name} must be given at most once`, name);
  }
  const tenant = query.tenant?.[0];
  if (tenant === undefined) return {};
  if (!isUuid(tenant)) throw new BadRequest('invalid_parameter', 'tenant must be a tenant id (a UUID)', 'tenant');
  return { tenant: tenant.toLowerCase() };
}
