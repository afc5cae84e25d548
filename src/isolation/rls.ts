// The row model: every tenant's rows in shared tables, kept apart by row-level security (sql/001,
// sql/004). A tenant is a login role, a member of the base role `tenantgate_tenant`; the shared pool's
// one role is scoped to a tenant by the session setting `tenantgate.tenant_id`, which its policy reads.
import { quoteLiteral } from '../db/quote.js';
import { SHARED_TABLES } from '../db/tenant-tables.js';
import type { IsolationModel } from './model.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The shared role's scope setting, common to every model that keeps its tables in one database. */
export function tenantScopeSetting(tenantId: string, local: boolean): string {
  // A second lock: the id comes from the catalog, never from the request's own text.
  if (!UUID.test(tenantId)) throw new RangeError('a tenant scope must be a tenant id (lower-case UUID)');
  return `SET${local ? ' LOCAL' : ''} tenantgate.tenant_id = ${quoteLiteral(tenantId)}`;
}

export const rlsModel: IsolationModel = {
  name: 'rls',
  // A role each: large enough to amortise round trips, small enough to keep one transaction modest.
  bulkChunk: 1000,
  sharedScope: tenantScopeSetting,
  tables: () => SHARED_TABLES,
  dataNameFor: () => null,
  async provision(tx, logins) {
    // The role's name and verifier are parameters; the function quotes the name with format('%I').
    await tx`SELECT tenantgate_create_role(r, v)
             FROM unnest(${logins.map((l) => l.role)}::text[], ${logins.map((l) => l.verifier)}::text[]) AS x(r, v)`;
    return null;
  },
  async deprovision(tx, role) {
    await tx`SELECT tenantgate_drop_role(${role})`;
  },
};
