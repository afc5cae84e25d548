-- An insert by the shared role without a scope is a stale scope (TG001), not a policy violation (42501).
--
-- sql/004's trigger let an insert with no scope through to the WITH CHECK policy, which refused it with
-- 42501. That failed closed, but the gateway could not tell it from a real privilege error: the shared pool
-- re-scopes and retries only on TG001, so the request was answered 500. A session with no scope is exactly
-- what a statement meets when the driver carries it, queued behind its scope, onto a new connection after
-- the old one was lost (postgres.js moves queued queries to the next session; the scope does not follow).
-- Now the shared role's insert raises TG001 before anything is written; the policy still checks the row.
-- Other roles are unchanged: a tenant role always has a scope, and owner-level roles (seeding) give the
-- tenant explicitly. The shared role's name is spliced in once, as in tenantgate_scope().
DO $do$
BEGIN
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION users_before_write() RETURNS trigger
      LANGUAGE plpgsql
      AS $b$
    DECLARE
      caller uuid := tenantgate_scope();
    BEGIN
      IF TG_OP = 'INSERT' THEN
        IF caller IS NULL AND current_user = %L::name THEN
          RAISE EXCEPTION 'the session has no tenant scope' USING ERRCODE = 'TG001';
        END IF;
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
    $b$ $f$, tenantgate_authenticator());
END
$do$;
