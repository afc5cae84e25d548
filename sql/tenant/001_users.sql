-- A schema tenant's users table: the shared table's columns, keys and indexes (sql/001, sql/004), in
-- the tenant's own schema. Runs with search_path = the tenant's schema, pg_temp: table names are
-- unqualified, functions qualified. The tenant_id column stays, so that every statement is the same
-- text under both models and the policy can hold each row to the session's scope.
CREATE TABLE users (
  tenant_id  uuid NOT NULL,
  id         uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
  first_name text NOT NULL CHECK (pg_catalog.char_length(first_name) BETWEEN 1 AND 50),
  last_name  text NOT NULL CHECK (pg_catalog.char_length(last_name) BETWEEN 1 AND 50),
  confirmed  boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
  updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX users_tenant_created_at_id ON users (tenant_id, created_at, id);
CREATE INDEX users_tenant_updated_at_id ON users (tenant_id, updated_at, id);
CREATE INDEX users_tenant_first_name_id ON users (tenant_id, first_name, id);
CREATE INDEX users_tenant_last_name_id ON users (tenant_id, last_name, id);

-- Not forced: the owner (migrations, backfills) reads every row; the tenant's role and the shared role
-- see the rows of the tenant the session acts for.
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_scope ON users
  USING (tenant_id = public.tenantgate_scope())
  WITH CHECK (tenant_id = public.tenantgate_scope());

CREATE TRIGGER users_before_write BEFORE INSERT OR UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION public.tenantgate_tenant_row_before_write();
