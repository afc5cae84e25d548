-- A database tenant's own database (d_<hex>), before the tenant-data migrations (sql/tenant/) run in it:
-- who may connect, the tenant's schema (s_<hex>, as under the schema model), and what those migrations
-- and the tables' policies call in public. Runs in the new database, as the server's owner, in one
-- transaction; the tenant's role t_<hex> exists. tenant_id_from_role, tenantgate_check_scope and
-- tenantgate_tenant_row_before_write are copied from the server's catalog database just before
-- (src/isolation/database.ts), so each has one body.

-- Only the tenant's role may connect; nobody but the owner may create anything, not even temporary tables.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
DO $$
DECLARE
  hex text := pg_catalog.substr(pg_catalog.current_database()::text, 3);
  tenant_role text := 't_' || hex;
  tenant_schema text := 's_' || hex;
BEGIN
  IF pg_catalog.current_database()::text !~ '^d_[0-9a-f]{32}$' THEN
    RAISE EXCEPTION 'not a tenant database: %', pg_catalog.current_database() USING ERRCODE = 'invalid_parameter_value';
  END IF;
  EXECUTE pg_catalog.format('REVOKE ALL ON DATABASE %I FROM PUBLIC', pg_catalog.current_database());
  EXECUTE pg_catalog.format('GRANT CONNECT ON DATABASE %I TO %I', pg_catalog.current_database(), tenant_role);
  EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA public TO %I', tenant_role);
  EXECUTE pg_catalog.format('CREATE SCHEMA %I', tenant_schema);
  EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA %I TO %I', tenant_schema, tenant_role);
  -- Tables the tenant-data migrations create now and later (as this same owner) are granted as made.
  EXECUTE pg_catalog.format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE ON TABLES TO %I',
                            tenant_schema, tenant_role);
END
$$;

-- No large objects: they live outside every table and its policy (as sql/005 for the catalog database;
-- revoking needs a superuser, and an owner that is not one is left with a warning).
REVOKE EXECUTE ON FUNCTION lo_create(oid), lo_creat(integer), lo_from_bytea(oid, bytea), lo_import(text), lo_import(text, oid)
  FROM PUBLIC;

-- What sql/tenant/ grants its tables to besides the tenant's role: in the catalog database the shared
-- pool's role; here there is no shared role, so the tenant's own role again.
CREATE TABLE public.gateway_settings (
  key   text PRIMARY KEY,
  value text NOT NULL
);
REVOKE ALL ON public.gateway_settings FROM PUBLIC;
INSERT INTO public.gateway_settings (key, value)
  VALUES ('authenticator_role', 't_' || pg_catalog.substr(pg_catalog.current_database()::text, 3));

-- The tenant-data migrations this database has, each recorded in the transaction that applied it:
-- the database's own ledger, which the catalog's tenants.data_version follows (src/db/tenant-migrations.ts).
CREATE TABLE public.tenant_data_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
REVOKE ALL ON public.tenant_data_migrations FROM PUBLIC;

-- The tenant a session acts for: its role's (only the tenant's role can connect); none for the owner.
-- There is no shared role and no scope setting in a tenant database.
CREATE FUNCTION public.tenantgate_scope() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT public.tenant_id_from_role(current_user) $$;
