-- The database model: a tenant's tables in a database of its own (d_<tenant id hex>) on its server,
-- inside it in schema s_<hex> as under the schema model, so every statement text is the schema model's.
-- The database, its role and its contents are made outside the catalog transaction (CREATE DATABASE
-- cannot run in one): src/isolation/database.ts, with sql/database/ for the database's own bootstrap.
-- Here only the catalog learns the model's name and the shape of its data name.
--
-- Isolation, by PostgreSQL: only the tenant's role may CONNECT to its database (taken from PUBLIC);
-- the role is a member of no base role, so it may connect to no catalog database (sql/006) and to no
-- other tenant's database; it creates nothing anywhere.
ALTER TABLE tenants DROP CONSTRAINT tenants_model_check, DROP CONSTRAINT tenants_data_name_model;
ALTER TABLE tenants
  ADD CONSTRAINT tenants_model_check CHECK (model IN ('rls', 'schema', 'database')),
  -- Schema and database names are derived from the tenant's id, never chosen by a caller.
  ADD CONSTRAINT tenants_data_name_model CHECK (
    (model = 'rls' AND data_name IS NULL)
    OR (model = 'schema' AND data_name ~ '^s_[0-9a-f]{32}$')
    OR (model = 'database' AND data_name ~ '^d_[0-9a-f]{32}$'));

-- A database tenant's role: a tenant role as the row model makes it (tenantgate_create_role: name
-- checked, login, SCRAM verifier as a parameter), less its base role, so it is a member of nothing and
-- reaches no catalog database; its rights are granted inside its own database (sql/database/,
-- sql/tenant/). In one transaction with the creation, so the membership is never seen.
CREATE FUNCTION tenantgate_create_database_tenant_role(role_name text, verifier text) RETURNS void
  LANGUAGE plpgsql
  AS $$
BEGIN
  PERFORM tenantgate_create_role(role_name, verifier);
  EXECUTE format('REVOKE tenantgate_tenant FROM %I', role_name);
END
$$;
REVOKE EXECUTE ON FUNCTION tenantgate_create_database_tenant_role(text, text) FROM PUBLIC;
