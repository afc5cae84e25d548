-- The shared pool stops switching roles. Its login (the role sql/002 created as the "authenticator")
-- becomes one powerless shared role: a member of no tenant role, with rights on `users` only through a
-- policy that reads the session setting `tenantgate.tenant_id`. Why:
-- - PostgreSQL re-plans a cached RLS-dependent statement whenever the current role differs from the
--   one it was planned for (plancache.c: dependsOnRLS, rewriteRoleId): one role per tenant on a
--   shared connection planned every request. One role keeps the plan of a prepared statement.
-- - A backend's role-membership cache can miss a grant made while it was being rebuilt, so a switch to
--   a role granted moments ago could be refused on some pooled connections (seen on 15 and 18).
-- Dedicated pools keep logging in as the tenant's own role under the role-based policy; each policy
-- applies only TO its roles.
--
-- Fail closed: every statement of ours also carries `tenant_id = $n` for the tenant it serves, and reads
-- check `tenantgate_check_scope($n)`, which raises TG001 unless the session's scope is that tenant.
-- A missing setting matches no row (NULL); a stale one (left by the previous request) matches no row
-- of the requested tenant and raises; a write takes its tenant from the scope (trigger) and is checked
-- against it again (WITH CHECK).

ALTER POLICY users_tenant_isolation ON users TO tenantgate_tenant;

DO $do$
DECLARE
  shared text := tenantgate_authenticator();
  tenant record;
BEGIN
  FOR tenant IN SELECT db_user FROM tenants LOOP
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = tenant.db_user) THEN
      EXECUTE format('REVOKE %I FROM %I', tenant.db_user, shared);
    END IF;
  END LOOP;
  EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', shared);
  EXECUTE format('GRANT SELECT, INSERT, UPDATE ON users TO %I', shared);
  -- Inline SQL in the policy (not a function call) so the planner can use it as an index condition.
  EXECUTE format($p$
    CREATE POLICY users_shared_scope ON users TO %I
      USING (tenant_id = NULLIF(current_setting('tenantgate.tenant_id', true), '')::uuid)
      WITH CHECK (tenant_id = NULLIF(current_setting('tenantgate.tenant_id', true), '')::uuid)$p$, shared);
  -- The tenant the current session acts for: a tenant role stands for itself (its setting is ignored,
  -- so a tenant logged in directly cannot claim another tenant); the shared role for its setting;
  -- anything else (owner, monitoring) for no tenant. The shared role's name is spliced in here, once,
  -- so the check costs no catalog read.
  EXECUTE format($f$
    CREATE FUNCTION tenantgate_scope() RETURNS uuid
      LANGUAGE sql STABLE PARALLEL SAFE
      AS $b$ SELECT CASE WHEN current_user = %L::name
                         THEN NULLIF(current_setting('tenantgate.tenant_id', true), '')::uuid
                         ELSE tenant_id_from_role(current_user) END $b$ $f$, shared);
END
$do$;

-- The statement guard: true when the session acts for `tenant`, else an error (SQLSTATE TG001). With
-- only a parameter as argument the planner evaluates it once per execution (a one-time filter).
CREATE FUNCTION tenantgate_check_scope(tenant uuid) RETURNS boolean
  LANGUAGE plpgsql STABLE PARALLEL SAFE
  AS $$
BEGIN
  IF tenant IS NULL OR tenant IS DISTINCT FROM tenantgate_scope() THEN
    RAISE EXCEPTION 'the session''s tenant scope does not match the statement''s tenant'
      USING ERRCODE = 'TG001';
  END IF;
  RETURN true;
END
$$;

-- Inserts take the tenant from the scope; a statement that names another tenant (a stale scope) is
-- refused rather than re-targeted. Owner-level roles (seeding) still give the tenant explicitly.
CREATE OR REPLACE FUNCTION users_before_write() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
DECLARE
  caller uuid := tenantgate_scope();
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF caller IS NOT NULL THEN
      IF NEW.tenant_id IS NOT NULL AND NEW.tenant_id <> caller THEN
        RAISE EXCEPTION 'the session''s tenant scope does not match the row''s tenant' USING ERRCODE = 'TG001';
      END IF;
      NEW.tenant_id := caller;
      NEW.created_at := now();
      NEW.updated_at := NEW.created_at;
    END IF;
  ELSE
    IF NEW.tenant_id IS DISTINCT FROM OLD.tenant_id THEN
      RAISE EXCEPTION 'a user cannot move to another tenant' USING ERRCODE = 'insufficient_privilege';
    END IF;
    NEW.created_at := OLD.created_at;
    NEW.updated_at := now();
  END IF;
  RETURN NEW;
END
$$;

-- New tenant roles are no longer granted to the shared role.
CREATE OR REPLACE FUNCTION tenantgate_create_role(role_name text, verifier text) RETURNS void
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF role_name !~ '^t_[0-9a-f]{32}$' THEN
    RAISE EXCEPTION 'not a tenant role name: %', role_name USING ERRCODE = 'invalid_parameter_value';
  END IF;
  EXECUTE format('CREATE ROLE %I LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L',
                 role_name, verifier);
  IF current_setting('server_version_num')::int >= 160000 THEN
    EXECUTE format('GRANT tenantgate_tenant TO %I WITH INHERIT TRUE, SET FALSE', role_name);
  ELSE
    EXECUTE format('GRANT tenantgate_tenant TO %I', role_name);
  END IF;
END
$$;
DROP FUNCTION tenantgate_grant_to_authenticator(text);

-- Keyset pagination seeks (sort column, id) from a cursor: the id in each sort index makes that one
-- index range, at any depth. The primary key (tenant_id, id) already serves the id order.
CREATE INDEX users_tenant_created_at_id ON users (tenant_id, created_at, id);
CREATE INDEX users_tenant_updated_at_id ON users (tenant_id, updated_at, id);
CREATE INDEX users_tenant_first_name_id ON users (tenant_id, first_name, id);
CREATE INDEX users_tenant_last_name_id ON users (tenant_id, last_name, id);
DROP INDEX users_tenant_created_at;
DROP INDEX users_tenant_updated_at;
DROP INDEX users_tenant_first_name;
DROP INDEX users_tenant_last_name;
