-- Citus: in a database where the citus extension is installed (a coordinator, src/citus/), the tenant
-- tables are distributed by tenant_id and colocated, so that every tenant statement, which names its
-- tenant (`tenant_id = $n`), is a router query to one shard. Elsewhere this migration does nothing.
--
-- `tenants` (with servers, tenant_events, gateway_settings and the move tables) stays a plain table on
-- the coordinator, off the workers: it holds the sealed passwords and feeds the change feed through
-- its triggers, and no tenant statement reads it (the gateway resolves tenants from its own cache), so
-- a reference table would copy secrets to every worker and buy nothing. A distributed table cannot
-- reference a coordinator-local one, so the two foreign keys go; an AFTER DELETE trigger on `tenants`
-- keeps their ON DELETE CASCADE (a tenant's rows leave with it), as one router DELETE per table.
DO $do$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
    RETURN;
  END IF;
  -- One connection per worker for the DDL below: Citus will not create a function after a parallel
  -- operation in the same transaction.
  SET LOCAL citus.multi_shard_modify_mode = 'sequential';
  CREATE FUNCTION public.tenants_delete_rows() RETURNS trigger
    LANGUAGE plpgsql
    AS $b$
  BEGIN
    DELETE FROM public.users WHERE tenant_id = OLD.id;
    DELETE FROM public.idempotency_keys WHERE tenant_id = OLD.id;
    RETURN OLD;
  END
  $b$;
  CREATE TRIGGER tenants_delete_rows AFTER DELETE ON public.tenants
    FOR EACH ROW EXECUTE FUNCTION public.tenants_delete_rows();

  -- Citus refuses to distribute a table with triggers unless told; ours (users_before_write) is a row
  -- trigger that touches only its own row, which Citus runs on the shard: safe.
  SET LOCAL citus.enable_unsafe_triggers = on;
  ALTER TABLE public.users DROP CONSTRAINT IF EXISTS users_tenant_id_fkey;
  ALTER TABLE public.idempotency_keys DROP CONSTRAINT IF EXISTS idempotency_keys_tenant_id_fkey;
  PERFORM create_distributed_table('public.users', 'tenant_id');
  PERFORM create_distributed_table('public.idempotency_keys', 'tenant_id', colocate_with => 'public.users');

  -- The shared role's scope reaches the workers only as SET LOCAL with this setting (../shared/citus:
  -- a session SET stays on the coordinator, and the workers then see no scope: no rows).
  EXECUTE format('ALTER ROLE %I IN DATABASE %I SET citus.propagate_set_commands = %L',
                 public.tenantgate_authenticator(), current_database(), 'local');
  -- Schema tenants: each new schema (only tenant schemas are created here) is one colocation group on
  -- one node, and its tables' row triggers run on that node.
  EXECUTE format('ALTER DATABASE %I SET citus.enable_schema_based_sharding = on', current_database());
  EXECUTE format('ALTER DATABASE %I SET citus.enable_unsafe_triggers = on', current_database());
END
$do$;
