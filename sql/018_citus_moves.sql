-- Citus: shard moves and splits by logical replication. Citus applies the copied changes on the target
-- worker as a role it makes a member of the table's owner (not a superuser), and PostgreSQL refuses to
-- replicate into a table whose row-level security applies to that role: with FORCE ROW LEVEL
-- SECURITY it does ("cannot replicate into relation with row-level security enabled"), and every
-- move of a row-model tenant stalled at its first UPDATE. FORCE only ever binds the owner, and on a
-- Citus coordinator the owner is a superuser (src/citus/: the gateway needs one there), whom no
-- policy binds anyway: without FORCE nothing changes for any other role, and moves work. Elsewhere
-- (a plain server, or an owner that is no superuser) this migration does nothing.
DO $do$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus')
     OR NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    RETURN;
  END IF;
  SET LOCAL citus.multi_shard_modify_mode = 'sequential';
  ALTER TABLE public.users NO FORCE ROW LEVEL SECURITY;
  ALTER TABLE public.idempotency_keys NO FORCE ROW LEVEL SECURITY;
END
$do$;
