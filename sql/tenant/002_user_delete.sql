-- DELETE /v1/internal/users/{id} for a schema tenant: its own role and the shared role may delete its
-- users; the table's policy (FOR ALL) still holds the shared role to the session's scope. Runs under
-- search_path = the tenant's schema, pg_temp: current_schema() is the tenant's schema, whose name
-- carries the role's (s_<hex> / t_<hex>); names outside it are qualified.
DO $$
DECLARE
  tenant_role text := 't_' || pg_catalog.substr(pg_catalog.current_schema()::text, 3);
  shared text := (SELECT value FROM public.gateway_settings WHERE key = 'authenticator_role');
BEGIN
  EXECUTE pg_catalog.format('GRANT DELETE ON users TO %I, %I', tenant_role, shared);
END
$$;
