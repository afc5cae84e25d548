-- Core schema: the tenant catalog, the users table under forced row-level security, and the base role
-- every tenant role inherits its (only) privileges from.

-- The base role is cluster-wide; create it once. Tenant roles get their rights through it alone.
-- Databases migrating at the same time on one server race for it: losing the race is fine.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tenantgate_tenant') THEN
    CREATE ROLE tenantgate_tenant NOLOGIN NOINHERIT;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;

-- Tenant roles may use our schema but create nothing: no tables in public, no temporary tables.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO tenantgate_tenant;
DO $$
BEGIN
  EXECUTE format('REVOKE CREATE, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END
$$;

CREATE TABLE tenants (
  id                    uuid PRIMARY KEY,
  name                  text NOT NULL UNIQUE CHECK (char_length(name) BETWEEN 1 AND 100),
  db_user               text NOT NULL UNIQUE,
  db_password_encrypted text NOT NULL,
  status                text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);
-- No grant at all to tenant roles: they cannot see the catalog, let alone any password.
REVOKE ALL ON tenants FROM PUBLIC;

-- The tenant a role stands for, read from the role name itself (t_<uuid hex>). No table look-up, so
-- the RLS predicate below costs nothing as tenants grow, and it works unchanged on Citus, which
-- rejects policies with subqueries. The regex keeps non-tenant roles (the owner, monitoring) at NULL,
-- which matches no row, instead of a cast error.
CREATE FUNCTION tenant_id_from_role(role name) RETURNS uuid
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT CASE WHEN role::text ~ '^t_[0-9a-f]{32}$' THEN substr(role::text, 3)::uuid END $$;

CREATE TABLE users (
  tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id         uuid NOT NULL DEFAULT gen_random_uuid(),
  first_name text NOT NULL CHECK (char_length(first_name) BETWEEN 1 AND 50),
  last_name  text NOT NULL CHECK (char_length(last_name) BETWEEN 1 AND 50),
  confirmed  boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- The tenant leads every key and index: RLS narrows by tenant_id first, and Citus (later) needs the
  -- distribution column in primary keys.
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX users_tenant_created_at ON users (tenant_id, created_at);
CREATE INDEX users_tenant_updated_at ON users (tenant_id, updated_at);
CREATE INDEX users_tenant_first_name ON users (tenant_id, first_name);
CREATE INDEX users_tenant_last_name ON users (tenant_id, last_name);

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
-- Forced, so that even the table owner is held to the policy (only superusers bypass it).
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_tenant_isolation ON users
  USING (tenant_id = tenant_id_from_role(current_user))
  WITH CHECK (tenant_id = tenant_id_from_role(current_user));

-- A tenant never chooses its tenant_id: inserts take it from the role, and no update may move a row.
-- Other roles (the owner seeding data) must give one explicitly.
CREATE FUNCTION users_before_write() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
DECLARE
  caller uuid := tenant_id_from_role(current_user);
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF caller IS NOT NULL THEN
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
CREATE TRIGGER users_before_write BEFORE INSERT OR UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION users_before_write();

GRANT SELECT, INSERT, UPDATE ON users TO tenantgate_tenant;

-- Role management for the gateway's admin connection. Utility statements take no bind parameters,
-- so the role name and password verifier arrive as parameters here and are quoted by format(%I, %L)
-- on the server: nothing is spliced into SQL text on the client. The password is a SCRAM verifier,
-- so the plaintext never reaches PostgreSQL or its logs.
CREATE FUNCTION tenantgate_create_role(role_name text, verifier text) RETURNS void
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF role_name !~ '^t_[0-9a-f]{32}$' THEN
    RAISE EXCEPTION 'not a tenant role name: %', role_name USING ERRCODE = 'invalid_parameter_value';
  END IF;
  EXECUTE format('CREATE ROLE %I LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L',
                 role_name, verifier);
  -- From PostgreSQL 16 a membership can be inherited without allowing SET ROLE to the base role.
  IF current_setting('server_version_num')::int >= 160000 THEN
    EXECUTE format('GRANT tenantgate_tenant TO %I WITH INHERIT TRUE, SET FALSE', role_name);
  ELSE
    EXECUTE format('GRANT tenantgate_tenant TO %I', role_name);
  END IF;
END
$$;

CREATE FUNCTION tenantgate_set_role_password(role_name text, verifier text) RETURNS void
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF role_name !~ '^t_[0-9a-f]{32}$' THEN
    RAISE EXCEPTION 'not a tenant role name: %', role_name USING ERRCODE = 'invalid_parameter_value';
  END IF;
  EXECUTE format('ALTER ROLE %I PASSWORD %L', role_name, verifier);
END
$$;

-- Drops a tenant role after ending its sessions; the role owns nothing and holds no direct grants.
CREATE FUNCTION tenantgate_drop_role(role_name text) RETURNS void
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF role_name !~ '^t_[0-9a-f]{32}$' THEN
    RAISE EXCEPTION 'not a tenant role name: %', role_name USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = role_name;
  EXECUTE format('DROP ROLE IF EXISTS %I', role_name);
END
$$;

REVOKE EXECUTE ON FUNCTION tenantgate_create_role(text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION tenantgate_set_role_password(text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION tenantgate_drop_role(text) FROM PUBLIC;
