-- DELETE /v1/internal/users/{id}: the row model's users may be deleted by the tenant's role (dedicated
-- pools) and by the shared role. The existing policies are FOR ALL, so a delete reaches only the rows of
-- the tenant the session acts for, exactly like a read. (Schema tenants: sql/tenant/002.)
GRANT DELETE ON users TO tenantgate_tenant;
DO $$
BEGIN
  EXECUTE format('GRANT DELETE ON users TO %I', tenantgate_authenticator());
END
$$;
