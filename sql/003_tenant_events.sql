-- Fleet coherence: every change to a tenant row is recorded in tenant_events and announced with
-- NOTIFY in the same transaction, by a trigger, so changes made through any gateway instance, the CLI
-- or plain SQL reach every instance on commit. A listener that was disconnected replays the events it
-- missed from the table. Also: per-tenant rate-limit overrides, and a credentials version that tells a
-- password rotation (pools must log in again) from a mere re-encryption under a new master key.

ALTER TABLE tenants
  ADD COLUMN rate_limit_rps integer CHECK (rate_limit_rps >= 0),
  ADD COLUMN rate_limit_burst integer CHECK (rate_limit_burst >= 1),
  ADD COLUMN credentials_version integer NOT NULL DEFAULT 1;

CREATE TABLE tenant_events (
  id        bigserial PRIMARY KEY,
  tenant_id uuid NOT NULL,
  -- created | credentials | status | settings | deleted
  kind      text NOT NULL,
  at        timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON tenant_events FROM PUBLIC;

CREATE FUNCTION tenants_changed() RETURNS trigger
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
  PERFORM pg_notify('tenantgate_tenants', json_build_object('id', event_id, 'tenant_id', tenant, 'kind', change)::text);
  -- Keep a day of history: enough for any listener outage worth replaying; longer ones resync fully.
  IF event_id % 1000 = 0 THEN
    DELETE FROM tenant_events WHERE at < now() - interval '1 day';
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER tenants_changed AFTER INSERT OR UPDATE OR DELETE ON tenants
  FOR EACH ROW EXECUTE FUNCTION tenants_changed();
