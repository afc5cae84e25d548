// The statements behind Idempotency-Key, one round trip each, under both isolation models
// (`idempotency_keys` is the shared table or the tenant schema's own, named by w.table). The write and
// its record are one statement, so they commit together or not at all:
//
//   WITH prior    AS (the tenant's live record for the key, with the scope check),
//        written  AS (the write, only if there is no prior record),
//        recorded AS (INSERT the record from the written row),
//        purged   AS (a few of the tenant's expired records, skipping locked ones)
//   SELECT the prior record, or the written row
//
// A concurrent duplicate does the same: its INSERT of the key waits on the first request's
// uncommitted key, and once that commits fails with a unique violation, rolling its own write back
// (src/idempotency/writes.ts then reads the record the first one left).
import { pinnedBy, type SqlWriter, type StatementBuilder } from '../db/statement.js';
import type { TenantScope } from '../users/queries.js';

/** A write as the body of a CTE returning its row; it must run only where `guard` (trusted SQL) holds. */
export type GuardedWrite = (w: SqlWriter, guard: string) => void;

export interface IdempotencyRecord {
  readonly key: string;
  readonly fingerprint: string;
  /** The HTTP status of the first answer. */
  readonly status: number;
  readonly ttlSeconds: number;
}

/** Expired records of other keys removed per write: enough to keep up with the writes that add them. */
const PURGE_PER_WRITE = 8;

/**
 * Rows: `{replay: true, fingerprint, status, response}` for a live prior record, or
 * `{replay: false, response}` with the written row, or none when the write matched nothing.
 */
export function idempotentWriteStatement(scope: TenantScope, record: IdempotencyRecord, write: GuardedWrite): StatementBuilder {
  return pinnedBy(idempotentWrite(scope, record, write), shardPin(scope));
}

/** A write to the tenant's shard that matches no row (keys are never empty): see pinnedBy. */
function shardPin(scope: TenantScope): StatementBuilder {
  return (w) => {
    w.sql('DELETE FROM ');
    w.table('idempotency_keys');
    tenantWhere(w, scope, false);
    w.sql(" AND key = ''");
  };
}

function idempotentWrite(scope: TenantScope, record: IdempotencyRecord, write: GuardedWrite): StatementBuilder {
  return (w) => {
    w.sql('WITH prior AS (SELECT fingerprint, status, response FROM ');
    w.table('idempotency_keys');
    tenantWhere(w, scope, true);
    w.sql(' AND key = ');
    w.value(record.key, 'text');
    w.sql(' AND expires_at > pg_catalog.now()), written AS (');
    write(w, 'NOT EXISTS (SELECT 1 FROM prior)');
    w.sql('), recorded AS (INSERT INTO ');
    w.table('idempotency_keys');
    w.sql(' (tenant_id, key, fingerprint, status, response, expires_at) SELECT ');
    w.value(scope.tenantId, 'uuid');
    w.sql(', ');
    w.value(record.key, 'text');
    w.sql(', ');
    w.value(record.fingerprint, 'text');
    w.sql(', ');
    w.value(record.status, 'int4');
    w.sql(', pg_catalog.to_jsonb(written), pg_catalog.now() + ');
    w.value(record.ttlSeconds, 'int4');
    w.sql(" * interval '1 second' FROM written RETURNING 1)");
    // Other keys only: this key's own expired record is released by releaseExpiredKeyStatement.
    w.sql(', purged AS (DELETE FROM ');
    w.table('idempotency_keys');
    // The tenant named outside the subquery too: Citus routes the DELETE by it (else every shard).
    w.sql(' WHERE tenant_id = ');
    w.value(scope.tenantId, 'uuid');
    w.sql(' AND (tenant_id, key) IN (SELECT tenant_id, key FROM ');
    w.table('idempotency_keys');
    tenantWhere(w, scope, false);
    w.sql(' AND expires_at <= pg_catalog.now() AND key <> ');
    w.value(record.key, 'text');
    w.sql(` LIMIT ${PURGE_PER_WRITE} FOR UPDATE SKIP LOCKED))`);
    w.sql(' SELECT true AS replay, fingerprint, status, response FROM prior');
    w.sql(' UNION ALL SELECT false, NULL::text, NULL::int2, pg_catalog.to_jsonb(written) FROM written');
  };
}

/** Deletes the key's record if it has expired, so that the key can be used again. */
export function releaseExpiredKeyStatement(scope: TenantScope, key: string): StatementBuilder {
  return (w) => {
    w.sql('DELETE FROM ');
    w.table('idempotency_keys');
    tenantWhere(w, scope, true);
    w.sql(' AND key = ');
    w.value(key, 'text');
    w.sql(' AND expires_at <= pg_catalog.now()');
  };
}

function tenantWhere(w: SqlWriter, scope: TenantScope, check: boolean): void {
  w.sql(' WHERE tenant_id = ');
  w.value(scope.tenantId, 'uuid');
  if (check && scope.checkContext) {
    w.sql(' AND public.tenantgate_check_scope(');
    w.value(scope.tenantId, 'uuid');
    w.sql(')');
  }
}
