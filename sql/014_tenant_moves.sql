-- Online moves of a tenant between servers (src/move/): on the server a tenant leaves, its writes are
-- captured while its data is copied, then fenced. Every server runs every migration, so this exists on
-- both ends of any move; only the source of a move uses the tables.
--
-- - tenantgate_moves: one row per tenant leaving this server. It is the lock of a move (one at a time)
--   and the fence: writers of the tenant take it FOR SHARE in the capture trigger, so the fence (an
--   UPDATE to 'fenced') waits for every writer in flight and every later writer sees it and raises TG002.
-- - tenantgate_move_changes: the primary keys of the tenant's rows written since the capture began,
--   consumed by the mover, which re-reads each row's current state and applies it to the target.
-- - Capture triggers are created per moving tenant only. On shared tables (row model) their WHEN clause
--   names the tenant, so other tenants' writes never call the function (one comparison per row).

CREATE TABLE tenantgate_moves (
  tenant_id  uuid PRIMARY KEY,
  state      text NOT NULL CHECK (state IN ('copying', 'fenced')),
  started_at timestamptz NOT NULL DEFAULT now(),
  fenced_at  timestamptz
);
REVOKE ALL ON tenantgate_moves FROM PUBLIC;

CREATE TABLE tenantgate_move_changes (
  seq        bigserial PRIMARY KEY,
  tenant_id  uuid NOT NULL,
  table_name text NOT NULL,
  -- The row's key within the tenant (its primary key without tenant_id), as a JSON scalar.
  key        jsonb NOT NULL
);
CREATE INDEX tenantgate_move_changes_tenant_seq ON tenantgate_move_changes (tenant_id, table_name, seq);
REVOKE ALL ON tenantgate_move_changes FROM PUBLIC;

-- Runs as its owner (SECURITY DEFINER): the tenant's role and the shared role write rows, and neither
-- may read or write the move tables. A trigger function cannot be called directly.
CREATE FUNCTION tenantgate_move_capture() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  tenant uuid := TG_ARGV[0]::uuid;
  key_column text := TG_ARGV[1];
  moving text;
  old_key jsonb;
  new_key jsonb;
BEGIN
  -- The mover's own writes (removing the old copy once fenced): its session (inside this function
  -- current_user is the owner) naming this tenant. Another role may set the setting, not be the owner.
  IF session_user = current_user AND current_setting('tenantgate.move_tenant', true) = TG_ARGV[0] THEN
    RETURN NULL;
  END IF;
  -- Held until the writer's transaction ends: the fence's UPDATE waits for it, and a writer that comes
  -- after the fence reads the fenced row (READ COMMITTED re-reads a row updated under its lock).
  SELECT state INTO moving FROM public.tenantgate_moves WHERE tenant_id = tenant FOR SHARE;
  IF moving = 'fenced' THEN
    RAISE EXCEPTION 'tenant % is moving to another server; retry shortly', tenant USING ERRCODE = 'TG002';
  END IF;
  -- No move (a trigger outliving its move cannot happen: both go in one transaction): capture nothing.
  IF moving IS NULL THEN
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    old_key := to_jsonb(OLD) -> key_column;
    INSERT INTO public.tenantgate_move_changes (tenant_id, table_name, key) VALUES (tenant, TG_TABLE_NAME, old_key);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    new_key := to_jsonb(NEW) -> key_column;
    IF new_key IS DISTINCT FROM old_key THEN
      INSERT INTO public.tenantgate_move_changes (tenant_id, table_name, key) VALUES (tenant, TG_TABLE_NAME, new_key);
    END IF;
  END IF;
  RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION tenantgate_move_capture() FROM PUBLIC;

-- The capture triggers' names: from the tenant id's hex only, so nothing a caller sends reaches DDL.
CREATE FUNCTION tenantgate_move_trigger_names(tenant uuid) RETURNS text[]
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT ARRAY['tenantgate_move_' || replace(tenant::text, '-', '') || '_w',
                     'tenantgate_move_' || replace(tenant::text, '-', '') || '_d'] $$;

-- Starts capturing the tenant's writes to `tables` (its users and idempotency_keys, shared or its own
-- schema's). Raises unique_violation when a move of the tenant is already recorded here. The caller
-- sets lock_timeout: CREATE TRIGGER on a shared table waits for, and then holds up, every tenant's
-- writes to it.
CREATE FUNCTION tenantgate_move_begin(tenant uuid, tables regclass[]) RETURNS void
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  names text[] := public.tenantgate_move_trigger_names(tenant);
  t regclass;
  key_columns name[];
BEGIN
  INSERT INTO public.tenantgate_moves (tenant_id, state) VALUES (tenant, 'copying');
  FOREACH t IN ARRAY tables LOOP
    -- The row's key within the tenant: the primary key is (tenant_id, <key>) on every tenant table.
    SELECT array_agg(a.attname ORDER BY k.ord) INTO key_columns
    FROM pg_index i
    CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
    WHERE i.indrelid = t AND i.indisprimary;
    IF key_columns IS NULL OR array_length(key_columns, 1) <> 2 OR key_columns[1] <> 'tenant_id' THEN
      RAISE EXCEPTION 'table % has no primary key (tenant_id, key)', t USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- regclass prints qualified here (search_path has no schema of ours).
    EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER INSERT OR UPDATE ON %s FOR EACH ROW WHEN (NEW.tenant_id = %L::uuid) '
                   'EXECUTE FUNCTION public.tenantgate_move_capture(%L, %L)', names[1], t, tenant, tenant, key_columns[2]);
    EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER DELETE ON %s FOR EACH ROW WHEN (OLD.tenant_id = %L::uuid) '
                   'EXECUTE FUNCTION public.tenantgate_move_capture(%L, %L)', names[2], t, tenant, tenant, key_columns[2]);
  END LOOP;
END
$$;

-- Ends a move here, whatever its state: drops the capture triggers from `tables`, forgets the changes
-- and the move. The caller sets lock_timeout: DROP TRIGGER locks the table against everyone.
CREATE FUNCTION tenantgate_move_end(tenant uuid, tables regclass[]) RETURNS void
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  names text[] := public.tenantgate_move_trigger_names(tenant);
  t regclass;
BEGIN
  FOREACH t IN ARRAY tables LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', names[1], t);
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', names[2], t);
  END LOOP;
  DELETE FROM public.tenantgate_move_changes WHERE tenant_id = tenant;
  DELETE FROM public.tenantgate_moves WHERE tenant_id = tenant;
END
$$;

REVOKE EXECUTE ON FUNCTION tenantgate_move_begin(uuid, regclass[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION tenantgate_move_end(uuid, regclass[]) FROM PUBLIC;

-- The shared tables are forced under RLS (sql/001, sql/011): their owner sees no row. The mover (the
-- owner, the role migrating here) reads and writes the rows of the one tenant it names in the setting
-- tenantgate.move_tenant, which it sets per transaction; without it, nothing. The policy applies TO the
-- owner alone, so no other role's plans change (tenant roles and the shared role are no members of it:
-- src/move/preflight.ts checks). A schema tenant's tables are not forced, so their owner needs none.
DO $do$
BEGIN
  EXECUTE format($p$
    CREATE POLICY users_move ON users TO %I
      USING (tenant_id = NULLIF(current_setting('tenantgate.move_tenant', true), '')::uuid)
      WITH CHECK (tenant_id = NULLIF(current_setting('tenantgate.move_tenant', true), '')::uuid)$p$, current_user);
  EXECUTE format($p$
    CREATE POLICY idempotency_keys_move ON idempotency_keys TO %I
      USING (tenant_id = NULLIF(current_setting('tenantgate.move_tenant', true), '')::uuid)
      WITH CHECK (tenant_id = NULLIF(current_setting('tenantgate.move_tenant', true), '')::uuid)$p$, current_user);
END
$do$;

-- Removing a schema tenant (sql/009) ran DROP OWNED BY, which needs the privileges of the role: an owner
-- that is no superuser only administers the roles it creates on PostgreSQL 16+ (no INHERIT), so moving
-- a schema tenant away, or deleting one, failed there with "permission denied to drop objects". The role
-- owns nothing, and its only grants are on its schema and the tables and default privileges in it, which
-- DROP SCHEMA ... CASCADE removes; DROP OWNED now runs only when the owner can run it.
CREATE OR REPLACE FUNCTION tenantgate_drop_schema_tenant(role_name text, schema_name text) RETURNS void
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF role_name !~ '^t_[0-9a-f]{32}$' OR schema_name !~ '^s_[0-9a-f]{32}$' THEN
    RAISE EXCEPTION 'not a schema tenant: %, %', role_name, schema_name USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = role_name;
  EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', schema_name);
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = role_name) THEN
    IF pg_has_role(role_name, 'USAGE') THEN
      EXECUTE format('DROP OWNED BY %I', role_name);
    END IF;
    EXECUTE format('DROP ROLE %I', role_name);
  END IF;
END
$$;
