-- Tenant roles (and the shared role) may not create large objects: they live outside every table and
-- its row-level security, and a tenant could fill the disk with them. Function privileges are kept per
-- database, so this affects only this one. Revoking needs the owner of pg_catalog's functions (a
-- superuser): a migrating role that is not one gets a warning and the privilege stays, as PostgreSQL's
-- default has it. A role's right to ALTER ROLE itself (its own password, its own settings) cannot be
-- taken away in PostgreSQL; tenant roles never learn their passwords, so none can log in to use it.
DO $$
BEGIN
  REVOKE EXECUTE ON FUNCTION lo_create(oid), lo_creat(integer), lo_from_bytea(oid, bytea),
    lo_import(text), lo_import(text, oid) FROM PUBLIC;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE WARNING 'large-object creation is still open to every role: revoking it needs a superuser';
END
$$;
