-- The shared pool's authenticator: a login role with no rights of its own (NOINHERIT, no grants) that is
-- a member of every tenant role, so it can `SET LOCAL ROLE` to a tenant for one statement and be
-- nothing otherwise. Roles are cluster-wide, so its name is derived from the database: two catalog
-- databases on one server never share an authenticator.

CREATE TABLE gateway_settings (
  key   text PRIMARY KEY,
  value text NOT NULL
);
REVOKE ALL ON gateway_settings FROM PUBLIC;

CREATE FUNCTION tenantgate_authenticator() RETURNS text
  LANGUAGE sql STABLE
  AS $$ SELECT value FROM gateway_settings WHERE key = 'authenticator_role' $$;

-- Membership that lets the authenticator switch to a role but never inherit its rights.
CREATE FUNCTION tenantgate_grant_to_authenticator(role_name text) RETURNS void
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF current_setting('server_version_num')::int >= 160000 THEN
    EXECUTE format('GRANT %I TO %I WITH INHERIT FALSE, SET TRUE', role_name, tenantgate_authenticator());
  ELSE
    EXECUTE format('GRANT %I TO %I', role_name, tenantgate_authenticator());
  END IF;
END
$$;

DO $$
DECLARE
  auth text := 'tenantgate_auth_' || substr(md5(current_database()), 1, 12);
  tenant record;
BEGIN
  BEGIN
    EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS', auth);
  EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
  END;
  INSERT INTO gateway_settings (key, value) VALUES ('authenticator_role', auth);
  FOR tenant IN SELECT db_user FROM tenants LOOP
    PERFORM tenantgate_grant_to_authenticator(tenant.db_user);
  END LOOP;
END
$$;

-- Tenant roles created from now on are granted to the authenticator in the same transaction.
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
  PERFORM tenantgate_grant_to_authenticator(role_name);
END
$$;

CREATE FUNCTION tenantgate_set_authenticator_password(verifier text) RETURNS void
  LANGUAGE plpgsql
  AS $$
BEGIN
  EXECUTE format('ALTER ROLE %I LOGIN PASSWORD %L', tenantgate_authenticator(), verifier);
END
$$;

REVOKE EXECUTE ON FUNCTION tenantgate_grant_to_authenticator(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION tenantgate_set_authenticator_password(text) FROM PUBLIC;
