// Translates driver and PostgreSQL errors into the gateway's error hierarchy, at the edge of src/db and
// src/pool, so handlers never see a raw database error and callers never see its text.
import { AppError, Conflict, Unavailable } from '../errors.js';

/** SQLSTATE raised by tenantgate_check_scope() and the users trigger when the scope is not the statement's tenant. */
export const STALE_SCOPE = 'TG001';
/**
 * SQLSTATE raised by a moving tenant's capture trigger once its move is fenced (sql/014): the write did
 * nothing, and the tenant's placement is about to switch to another server; retry there.
 */
export const TENANT_MOVING = 'TG002';
/** statement_timeout (or a cancel request) ended the statement. */
const QUERY_CANCELED = '57014';
/** A row names a tenant that is not in the catalog (users.tenant_id references tenants). */
export const FOREIGN_KEY_VIOLATION = '23503';
/**
 * The unique key of an Idempotency-Key record (sql/011, sql/tenant/003): another request with the key
 * committed first (a concurrent duplicate), or an expired record still holds it.
 */
export const IDEMPOTENCY_KEY_CONSTRAINT = 'idempotency_keys_pkey';
/** A table the statement names does not exist: under the schema model, the tenant's schema is gone. */
export const UNDEFINED_TABLE = '42P01';
/** The database a login names does not exist: under the database model, the tenant's database is gone. */
const UNDEFINED_DATABASE = '3D000';

/**
 * The tenant's data is gone under the statement: its row in the catalog (a write's foreign key, row
 * model), its schema (schema model) or its database (database model). Only the catalog may then say
 * whether the tenant is gone.
 */
export function isTenantDataGone(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === FOREIGN_KEY_VIOLATION || code === UNDEFINED_TABLE || code === UNDEFINED_DATABASE;
}

// postgres.js raises these (as `code`) when a connection cannot be had or is lost.
const DRIVER_CONNECTION_CODES = new Set([
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);

/**
 * Citus, when a shard was split or moved under the statement (src/citus/tenant-shards.ts): the
 * statement was planned for a shard that is gone ("could not find valid entry for shard N"), or its
 * distributed transaction lost an intermediate result (CIINF). Either way its transaction rolled
 * back, and sent again it runs on the new shards.
 */
function isCitusShardChange(err: unknown): boolean {
  const code = codeOf(err);
  if (code === 'CIINF') return true;
  return code === 'XX000' && /^could not find valid entry for shard \d+$/.test((err as { message?: unknown }).message as string);
}

// SQLSTATE classes that mean "try again later": connection exceptions (08), insufficient resources
// (53, e.g. too many connections), operator intervention (57: shutdown, terminated backend), and
// transaction rollbacks caused by concurrency (40).
const RETRYABLE_SQLSTATE_CLASSES = new Set(['08', '53', '57', '40']);

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

export function isConnectionFailure(err: unknown): boolean {
  const code = codeOf(err);
  if (code === undefined) return false;
  if (DRIVER_CONNECTION_CODES.has(code)) return true;
  return /^[0-9A-Z]{5}$/.test(code) && RETRYABLE_SQLSTATE_CLASSES.has(code.slice(0, 2));
}

/** Login refused (wrong password after a rotation elsewhere, role dropped). */
export function isAuthenticationFailure(err: unknown): boolean {
  const code = codeOf(err);
  return code !== undefined && code.startsWith('28');
}

/**
 * The AppError for a database failure, or undefined when it is not one we understand (a bug: the
 * caller reports it as an internal error).
 */
export function translateDbError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  const translated = translate(err);
  if (translated) translated.causeCode = codeOf(err);
  return translated;
}

function translate(err: unknown): AppError | undefined {
  // PostgreSQL cancelled the statement (statement_timeout = QUERY_TIMEOUT): a timeout, answered with the
  // same code as the gateway's own deadline, not as an outage.
  if (codeOf(err) === QUERY_CANCELED) return new Unavailable('database_timeout', 'the database did not answer in time; retry shortly', 1);
  if (isConnectionFailure(err) || isAuthenticationFailure(err)) {
    return new Unavailable('database_unavailable', 'the database is unavailable; retry shortly', 1);
  }
  const code = codeOf(err);
  if (code === '23505' && (err as { constraint_name?: unknown }).constraint_name === IDEMPOTENCY_KEY_CONSTRAINT) {
    return new Conflict('idempotency_key_in_use', 'another request with this Idempotency-Key is being processed; retry shortly');
  }
  if (code === '23505') return new Conflict('conflict', 'a record with the same key already exists');
  // The statement's tenant and the session's scope disagreed (sql/004): nothing ran. Only a lost
  // session can cause it, and the shared pool already retried once.
  if (code === TENANT_MOVING) return new Unavailable('tenant_moving', 'the tenant is moving to another server; retry shortly', 1);
  if (isCitusShardChange(err)) return new Unavailable('database_unavailable', 'the database is unavailable; retry shortly', 1);
  if (code === STALE_SCOPE) return new Unavailable('tenant_scope_unavailable', 'the tenant scope could not be established; retry shortly', 1);
  return undefined;
}
