-- Where each tenant lives and how it is kept apart: its placement. Today every tenant is on the
-- catalog's own server ('main') under the row model ('rls'); the columns exist so that other servers
-- and isolation models plug in without touching the request path. A placement is read with the tenant,
-- changed only through the catalog, and followed by every instance through the change feed: a change
-- records a 'placement' event (beside the 'settings' one the row trigger records), on which every
-- instance closes the tenant's pools before routing it anew.
ALTER TABLE tenants
  ADD COLUMN server text NOT NULL DEFAULT 'main' CHECK (server ~ '^[a-z][a-z0-9_]{0,39}$'),
  ADD COLUMN model text NOT NULL DEFAULT 'rls' CHECK (model IN ('rls')),
  -- The tenant's own schema (schema model) or database (database model); null for 'rls'.
  ADD COLUMN data_name text CHECK (data_name ~ '^[a-z][a-z0-9_]{0,62}$');

CREATE FUNCTION tenants_placement_changed() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  INSERT INTO tenant_events (tenant_id, kind) VALUES (NEW.id, 'placement');
  PERFORM pg_notify('tenantgate_tenants', '');
  RETURN NULL;
END
$$;

CREATE TRIGGER tenants_placement_changed AFTER UPDATE OF server, model, data_name ON tenants
  FOR EACH ROW
  WHEN (OLD.server IS DISTINCT FROM NEW.server OR OLD.model IS DISTINCT FROM NEW.model
        OR OLD.data_name IS DISTINCT FROM NEW.data_name)
  EXECUTE FUNCTION tenants_placement_changed();
