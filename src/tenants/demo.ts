// The zero-configuration demo: on first start, a tenant named "demo" with a few users, created through
// the tenant's own role like any other data; on every start, curl commands to try it.
import type { PoolRegistry } from '../pool/registry.js';
import { createUserStatement } from '../users/queries.js';
import type { TenantCatalog } from './catalog.js';

const DEMO_NAME = 'demo';
const DEMO_USERS = [
  { firstName: 'Ada', lastName: 'Lovelace' },
  { firstName: 'Alan', lastName: 'Turing' },
  { firstName: 'Grace', lastName: 'Hopper' },
];

/** Returns the demo tenant's id, creating and filling the tenant if it does not exist yet. */
export async function ensureDemoTenant(tenants: TenantCatalog, registry: PoolRegistry): Promise<string> {
  const existing = await tenants.findByName(DEMO_NAME);
  if (existing) return existing.id;
  const tenant = await tenants.create(DEMO_NAME);
  for (const user of DEMO_USERS) {
    await registry.query(tenant.id, createUserStatement({ tenantId: tenant.id, checkContext: true }, user));
  }
  return tenant.id;
}

/** `baseDomain`: TENANT_FROM=host's, where the tenant is named by its subdomain rather than its id. */
export function demoInstructions(baseUrl: string, tenantId: string, baseDomain?: string): string {
  // curl still connects to the local address; only the Host it sends names the tenant.
  const names = baseDomain === undefined ? `x-tenant-id: ${tenantId}` : `Host: ${DEMO_NAME}.${baseDomain}`;
  return [
    '',
    `tenantgate is ready at ${baseUrl} — try:`,
    `  curl -s '${baseUrl}/v1/internal/users' -H '${names}'`,
    `  curl -s '${baseUrl}/v1/internal/users?sort_column=first_name&sort_direction=ascending&search=al' -H '${names}'`,
    `  curl -s -X POST '${baseUrl}/v1/internal/users' -H '${names}' -H 'content-type: application/json' -d '{"first_name":"Katherine","last_name":"Johnson"}'`,
    `  TOKEN=$(npm run -s cli -- token admin)`,
    `  curl -s '${baseUrl}/v1/admin/tenants' -H "authorization: Bearer $TOKEN"`,
    '',
  ].join('\n');
}
