-- Tenant statements now name their tables qualified (public.users, "s_…".users) and every session that
-- runs them has search_path = pg_catalog, pg_temp (src/db/tenant-tables.ts), so that no session's path
-- changes between tenants (a change re-plans every cached statement) and an unqualified name resolves to
-- nothing. Functions a tenant statement reaches must then name what they call: the shared users table's
-- trigger (sql/008) called tenantgate_scope() unqualified. Same body, qualified.
DO $do$
BEGIN
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION public.users_before_write() RETURNS trigger
      LANGUAGE plpgsql
      AS $b$
    DECLARE
      caller uuid := public.tenantgate_scope();
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
    $b$ $f$, public.tenantgate_authenticator());
END
$do$;
