// A tenant's PostgreSQL role is named after its id (t_<uuid without dashes>), so the database can
// derive the tenant from current_user without reading any table (see tenant_id_from_role in sql/).
export function roleNameFor(tenantId: string): string {
  return `t_${tenantId.replaceAll('-', '').toLowerCase()}`;
}
