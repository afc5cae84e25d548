-- Citus: count each tenant's statements in citus_stat_tenants (shown by GET /v1/admin/cluster). Citus
-- attributes a router query to the tenant it routes on (a row tenant's tenant_id, a schema tenant's
-- schema) only while citus.stat_tenants_track is 'all' both on the coordinator that plans it and on the
-- worker that runs it; set on the database, Citus passes it on to the workers. A superuser-only
-- setting: the gateway's owner on a coordinator is one (src/citus/). An operator who wants none of it
-- sets it back to 'none'; the cluster listing then shows no tenant activity. Elsewhere a no-op.
DO $do$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
    RETURN;
  END IF;
  EXECUTE format('ALTER DATABASE %I SET citus.stat_tenants_track = %L', current_database(), 'all');
END
$do$;
