-- Several PostgreSQL servers. The catalog lists the servers tenants may live on; `main` is the catalog's
-- own (DATABASE_URL, so no URL is stored for it). Every server carries this same schema (the gateway
-- runs these migrations on a server when it is added), so a tenant's tables, roles and functions are
-- the same wherever it lives. On a data server, `tenants` holds a row per tenant it hosts (the target
-- of its users' foreign key), with no password: the catalog on main is the only place secrets are.
--
-- A placement change (server, model or data name) bumps the tenant's placement_version, in the same
-- row, and the 'placement' event carries it: an instance applies placements in order and never goes
-- back to an older one (src/tenants/directory.ts).
CREATE TABLE servers (
  name            text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,39}$'),
  -- The owner's URL with its password removed; NULL for main.
  url             text,
  -- The URL's password, sealed like tenant passwords (src/crypto/key-ring.ts); never returned.
  password_sealed text,
  -- The server's connection budget for this gateway instance; NULL for main (MAX_CONNECTIONS_TOTAL).
  max_connections integer CHECK (max_connections BETWEEN 4 AND 100000),
  created_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT servers_main_is_the_catalog CHECK ((name = 'main') = (url IS NULL))
);
REVOKE ALL ON servers FROM PUBLIC;
INSERT INTO servers (name) VALUES ('main');

ALTER TABLE tenants
  ADD CONSTRAINT tenants_server_fkey FOREIGN KEY (server) REFERENCES servers (name),
  ADD COLUMN placement_version bigint NOT NULL DEFAULT 1;
CREATE INDEX tenants_server ON tenants (server);

ALTER TABLE tenant_events ADD COLUMN version bigint;

-- Bumped by the row itself, so a placement changed by plain SQL is versioned too.
CREATE FUNCTION tenants_placement_version() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF OLD.server IS DISTINCT FROM NEW.server OR OLD.model IS DISTINCT FROM NEW.model
     OR OLD.data_name IS DISTINCT FROM NEW.data_name THEN
    NEW.placement_version := OLD.placement_version + 1;
  ELSE
    NEW.placement_version := OLD.placement_version;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER tenants_placement_version BEFORE UPDATE ON tenants
  FOR EACH ROW EXECUTE FUNCTION tenants_placement_version();

CREATE OR REPLACE FUNCTION tenants_placement_changed() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  INSERT INTO tenant_events (tenant_id, kind, version) VALUES (NEW.id, 'placement', NEW.placement_version);
  PERFORM pg_notify('tenantgate_tenants', '');
  RETURN NULL;
END
$$;
