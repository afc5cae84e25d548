-- The change feed stops trusting NOTIFY, and strangers stop reaching the catalog database.
-- - Only the gateway's roles may connect: CONNECT is taken from PUBLIC and given to the shared role and
--   to tenantgate_tenant (tenant roles log in here for their dedicated pools, through that base role).
--   The owner and superusers keep connecting as always. Tenant roles can still LISTEN and NOTIFY, so
--   this alone does not make the feed trustworthy; the next point does.
-- - A notification is only a wake-up: its payload is empty, and listeners read what changed from
--   tenant_events, which only the catalog's owner can write. A forged notification causes a read that
--   finds nothing new; a role that LISTENs learns that something changed, not which tenant or how.
-- Changing CONNECT needs the database's owner (or a superuser); a migrating role that is neither gets a
-- warning and PostgreSQL's default (every role may connect) stays.
DO $do$
BEGIN
  EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I, tenantgate_tenant', current_database(), tenantgate_authenticator());
EXCEPTION WHEN insufficient_privilege THEN
  RAISE WARNING 'every role may still connect to database %: changing that needs its owner or a superuser', current_database();
END
$do$;

CREATE OR REPLACE FUNCTION tenants_changed() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
DECLARE
  change text;
  tenant uuid;
  event_id bigint;
BEGIN
  IF TG_OP = 'DELETE' THEN
    change := 'deleted';
    tenant := OLD.id;
  ELSIF TG_OP = 'INSERT' THEN
    change := 'created';
    tenant := NEW.id;
  ELSIF NEW.credentials_version IS DISTINCT FROM OLD.credentials_version THEN
    change := 'credentials';
    tenant := NEW.id;
  ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
    change := 'status';
    tenant := NEW.id;
  ELSE
    change := 'settings';
    tenant := NEW.id;
  END IF;
  INSERT INTO tenant_events (tenant_id, kind) VALUES (tenant, change) RETURNING id INTO event_id;
  -- Identical notifications of one transaction are folded into one: one wake-up per commit.
  PERFORM pg_notify('tenantgate_tenants', '');
  -- Keep a day of history: enough for any listener outage worth replaying; longer ones resync fully.
  IF event_id % 1000 = 0 THEN
    DELETE FROM tenant_events WHERE at < now() - interval '1 day';
  END IF;
  RETURN NULL;
END
$$;
