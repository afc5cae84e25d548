-- A schema tenant's Idempotency-Key records: the shared table's columns, key and policy (sql/011) in
-- the tenant's own schema. The tenant_id column stays, so every statement is the same text under both
-- models and the policy holds each row to the session's scope. Runs under search_path = the tenant's
-- schema, pg_temp; names outside it are qualified.
CREATE TABLE idempotency_keys (
  tenant_id   uuid NOT NULL,
  key         text NOT NULL CHECK (pg_catalog.char_length(key) BETWEEN 1 AND 255),
  fingerprint text NOT NULL,
  status      smallint NOT NULL,
  response    jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
  expires_at  timestamptz NOT NULL,
  CONSTRAINT idempotency_keys_pkey PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_tenant_expires_at ON idempotency_keys (tenant_id, expires_at);

ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY idempotency_keys_scope ON idempotency_keys
  USING (tenant_id = public.tenantgate_scope())
  WITH CHECK (tenant_id = public.tenantgate_scope());

DO $$
DECLARE
  tenant_role text := 't_' || pg_catalog.substr(pg_catalog.current_schema()::text, 3);
  shared text := (SELECT value FROM public.gateway_settings WHERE key = 'authenticator_role');
BEGIN
  EXECUTE pg_catalog.format('GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO %I, %I', tenant_role, shared);
END
$$;
