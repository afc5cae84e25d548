-- The schema model: a tenant's tables live in its own schema (s_<tenant id hex>), created from the
-- tenant-data migrations in sql/tenant/ (applied by src/db/tenant-migrations.ts, at creation and by
-- `npm run migrate`). The catalog keeps, per tenant, the version its schema is at and the last failure.
--
-- Isolation, as for the row model, by PostgreSQL:
-- - the tenant's own role (a dedicated pool's login) has USAGE on its schema only, and through the base
--   role tenantgate_schema_tenant CONNECT on this database and USAGE on public (for the scope
--   functions; no table there grants it anything); it is no member of tenantgate_tenant (the shared
--   tables' role) and can CREATE nowhere;
-- - the shared role reaches every tenant schema, but each tenant table carries the same policy as the
--   shared `users`: rows of the tenant the session's scope names, and no rows without a scope;
-- - statements name tables unqualified and run under search_path = the tenant's schema, then pg_temp
--   (searched last, so a temporary table can never shadow ours); functions are schema-qualified.

ALTER TABLE tenants DROP CONSTRAINT tenants_model_check;
ALTER TABLE tenants
  ADD CONSTRAINT tenants_model_check CHECK (model IN ('rls', 'schema')),
  -- Schema names are derived from the tenant's id, never chosen by a caller.
  ADD CONSTRAINT tenants_data_name_model CHECK (
    (model = 'rls' AND data_name IS NULL) OR (model = 'schema' AND data_name ~ '^s_[0-9a-f]{32}$')),
  -- The last tenant-data migration applied to the tenant's schema (null under the row model, whose
  -- tables are the catalog's), and why the next one failed, if it did.
  ADD COLUMN data_version integer,
  ADD COLUMN data_failure text;

-- The scope functions run under a tenant schema's search_path too, which leaves out public: every name
-- in their bodies is qualified now (a SQL function's body is parsed under the caller's search_path).
DO $do$
BEGIN
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION tenantgate_scope() RETURNS uuid
      LANGUAGE sql STABLE PARALLEL SAFE
      AS $b$ SELECT CASE WHEN current_user = %L::name
                         THEN NULLIF(pg_catalog.current_setting('tenantgate.tenant_id', true), '')::uuid
                         ELSE public.tenant_id_from_role(current_user) END $b$ $f$, tenantgate_authenticator());
END
$do$;

CREATE OR REPLACE FUNCTION tenantgate_check_scope(tenant uuid) RETURNS boolean
  LANGUAGE plpgsql STABLE PARALLEL SAFE
  AS $$
BEGIN
  IF tenant IS NULL OR tenant IS DISTINCT FROM public.tenantgate_scope() THEN
    RAISE EXCEPTION 'the session''s tenant scope does not match the statement''s tenant'
      USING ERRCODE = 'TG001';
  END IF;
  RETURN true;
END
$$;

-- Inserts into a tenant schema's tables: the same rules as users_before_write (sql/008), with every
-- name qualified, because it runs under the tenant's search_path.
DO $do$
BEGIN
  EXECUTE format($f$
    CREATE FUNCTION tenantgate_tenant_row_before_write() RETURNS trigger
      LANGUAGE plpgsql
      AS $b$
    DECLARE
      caller uuid := public.tenantgate_scope();
    BEGIN
      IF TG_OP = 'INSERT' THEN
        IF caller IS NULL AND current_user = %L::name THEN
          RAISE EXCEPTION 'the session has no tenant scope' USING ERRCODE = 'TG001';
        END IF;
        IF caller IS NOT NULL THEN
          IF NEW.tenant_id IS NOT NULL AND NEW.tenant_id OPERATOR(pg_catalog.<>) caller THEN
            RAISE EXCEPTION 'the session''s tenant scope does not match the row''s tenant' USING ERRCODE = 'TG001';
          END IF;
          NEW.tenant_id := caller;
          NEW.created_at := pg_catalog.now();
          NEW.updated_at := NEW.created_at;
        END IF;
      ELSE
        IF NEW.tenant_id IS DISTINCT FROM OLD.tenant_id THEN
          RAISE EXCEPTION 'a user cannot move to another tenant' USING ERRCODE = 'insufficient_privilege';
        END IF;
        NEW.created_at := OLD.created_at;
        NEW.updated_at := pg_catalog.now();
      END IF;
      RETURN NEW;
    END
    $b$ $f$, tenantgate_authenticator());
END
$do$;

-- The base role of schema tenants. Its grants are on shared objects (the database, schema public),
-- made once here: granting them per tenant would update one ACL from every concurrent creation
-- ("tuple concurrently updated"). Server-wide, like tenantgate_tenant (sql/001).
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tenantgate_schema_tenant') THEN
    CREATE ROLE tenantgate_schema_tenant NOLOGIN NOINHERIT;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;
GRANT USAGE ON SCHEMA public TO tenantgate_schema_tenant;
DO $$
BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO tenantgate_schema_tenant', current_database());
END
$$;

-- Creates a schema tenant's role and its empty schema, in the catalog transaction that records the
-- tenant (the caller then applies the tenant-data migrations inside it). Names and verifier arrive as
-- parameters and are quoted here by format(%I, %L).
CREATE FUNCTION tenantgate_create_schema_tenant(role_name text, verifier text, schema_name text) RETURNS void
  LANGUAGE plpgsql
  AS $$
DECLARE
  shared text := tenantgate_authenticator();
BEGIN
  IF role_name !~ '^t_[0-9a-f]{32}$' THEN
    RAISE EXCEPTION 'not a tenant role name: %', role_name USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF schema_name !~ '^s_[0-9a-f]{32}$' OR substr(schema_name, 3) <> substr(role_name, 3) THEN
    RAISE EXCEPTION 'not the schema of %: %', role_name, schema_name USING ERRCODE = 'invalid_parameter_value';
  END IF;
  EXECUTE format('CREATE ROLE %I LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L',
                 role_name, verifier);
  IF current_setting('server_version_num')::int >= 160000 THEN
    EXECUTE format('GRANT tenantgate_schema_tenant TO %I WITH INHERIT TRUE, SET FALSE', role_name);
  ELSE
    EXECUTE format('GRANT tenantgate_schema_tenant TO %I', role_name);
  END IF;
  EXECUTE format('CREATE SCHEMA %I', schema_name);
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I, %I', schema_name, role_name, shared);
  -- Tables the tenant-data migrations create now and later (as this same owner) are granted as made.
  EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE ON TABLES TO %I, %I',
                 schema_name, role_name, shared);
END
$$;

-- Removes a schema tenant: its sessions, its schema with everything in it, its grants, its role.
CREATE FUNCTION tenantgate_drop_schema_tenant(role_name text, schema_name text) RETURNS void
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF role_name !~ '^t_[0-9a-f]{32}$' OR schema_name !~ '^s_[0-9a-f]{32}$' THEN
    RAISE EXCEPTION 'not a schema tenant: %, %', role_name, schema_name USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = role_name;
  EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', schema_name);
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = role_name) THEN
    EXECUTE format('DROP OWNED BY %I', role_name);
    EXECUTE format('DROP ROLE %I', role_name);
  END IF;
END
$$;

REVOKE EXECUTE ON FUNCTION tenantgate_create_schema_tenant(text, text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION tenantgate_drop_schema_tenant(text, text) FROM PUBLIC;
