-- Idempotency-Key (POST and PATCH on /v1/internal/users): the first answer to a key, kept per tenant
-- until it expires, so a retry with the same key and body gets that answer instead of a second write.
-- Row-model tenants share this table under the same isolation as `users`; schema tenants have their
-- own (sql/tenant/003). The record is inserted by the write's own statement (src/idempotency/), so it
-- commits with the write or not at all, and a concurrent duplicate blocks on its key until then.
CREATE TABLE idempotency_keys (
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  key         text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
  -- SHA-256 of the request (method, path, validated body): the same key with another request is 422.
  fingerprint text NOT NULL,
  status      smallint NOT NULL,
  -- The written row as the statement returned it; the gateway formats it as it did the first time.
  response    jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  CONSTRAINT idempotency_keys_pkey PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_tenant_expires_at ON idempotency_keys (tenant_id, expires_at);

-- Forced like users: every role, the owner included, sees only the rows of the tenant the session acts
-- for (tenantgate_scope(): a tenant role's own, the shared role's setting; none otherwise).
ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY idempotency_keys_scope ON idempotency_keys
  USING (tenant_id = public.tenantgate_scope())
  WITH CHECK (tenant_id = public.tenantgate_scope());

GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO tenantgate_tenant;
DO $$
BEGIN
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO %I', tenantgate_authenticator());
END
$$;
