// The error codes the gateway answers, by HTTP status, with an example message each: the API's error
// vocabulary as data. The document lists, per operation, which of them it can answer; the contract
// test holds every error response the test suite receives to that list.

/** Every code, with the status it is answered with and a message like the gateway's. */
export const ERROR_CODES = {
  bad_request: [400, 'the request is not valid HTTP'],
  invalid_json: [400, 'the request body is not valid JSON'],
  invalid_body: [400, 'request body must be a JSON object'],
  unknown_field: [400, 'unknown field "tenant_id"; allowed fields are first_name, last_name'],
  invalid_field: [400, 'first_name must be 1 to 50 characters'],
  unknown_parameter: [400, 'unknown query parameter "sort"; allowed parameters are page, page_size, …'],
  duplicate_parameter: [400, 'page must be given at most once'],
  invalid_parameter: [400, 'page_size must be an integer from 1 to 100'],
  invalid_user_id: [400, 'the user id in the path must be a UUID'],
  invalid_idempotency_key: [400, 'Idempotency-Key must be 1 to 255 visible ASCII characters (no spaces)'],
  invalid_tenant_id: [400, 'the x-tenant-id header must be a UUID'],
  missing_tenant_id: [400, 'the x-tenant-id header is required'],
  missing_host: [400, 'the Host header is required: it names the tenant (<tenant>.example.com)'],
  invalid_host: [400, 'the Host header must name a tenant as <tenant>.example.com'],
  conflicting_tenant_id: [400, 'x-tenant-id names another tenant than the Host header'],
  unauthorized: [401, 'an admin bearer token is required (Authorization: Bearer <JWT>)'],
  forbidden: [403, 'the token does not carry role "admin"'],
  untrusted_network: [403, 'callers from this address are not served (TRUSTED_NETWORKS)'],
  tenant_mismatch: [403, 'x-tenant-id does not match the token'],
  invalid_tenant_claim: [403, "the token's tenant claim must be a UUID"],
  tenant_suspended: [403, 'tenant 0b6f4a1e-9c55-4f0e-8d2a-3f1c2b7a9e10 is suspended'],
  tenant_not_found: [404, 'no tenant with id 0b6f4a1e-9c55-4f0e-8d2a-3f1c2b7a9e10'],
  route_not_found: [404, 'no route for GET /v1/nothing'],
  move_not_found: [404, 'this instance has not moved tenant 0b6f4a1e-9c55-4f0e-8d2a-3f1c2b7a9e10'],
  server_not_found: [404, 'no server named "eu2"'],
  user_not_found: [404, 'no user with id 5f0c3a52-8d7e-4b8e-9a51-2f4d6c1e7b90'],
  method_not_allowed: [405, 'PUT is not allowed on /v1/internal/users; allowed: GET, HEAD, POST'],
  tenant_exists: [409, 'a tenant named "acme" already exists'],
  server_exists: [409, 'a server named "eu2" already exists'],
  server_in_use: [409, 'tenants still live on server "eu2"; move or delete them first'],
  conflict: [409, 'a record with the same key already exists'],
  idempotency_key_in_use: [409, 'another request with this Idempotency-Key is being processed; retry shortly'],
  no_key_ring: [409, 'keys rotate needs CREDENTIALS_KEYS (id:hex,… newest first), not a single CREDENTIALS_KEY'],
  model_unsupported: [422, 'server "eu2" is a Citus coordinator: database tenants cannot be placed there (field model); use rls or schema'],
  unknown_server: [422, 'no server named "eu2" (field server); see GET /v1/admin/servers'],
  server_unreachable: [422, 'the gateway could not log in to the server at url (ECONNREFUSED); check host, port, user, password and database'],
  server_refused: [422, "the url's user lacks a privilege the gateway needs on the server (42501); it must own the database and be allowed to create roles"],
  idempotency_key_reused: [422, 'this Idempotency-Key was already used with another request; use a new key for a new request'],
  payload_too_large: [413, 'the request body must be at most 16384 bytes'],
  unsupported_media_type: [415, 'the request body must be application/json'],
  rate_limited: [429, 'tenant 0b6f4a1e-9c55-4f0e-8d2a-3f1c2b7a9e10 is over its request rate; retry in 1 s'],
  internal_error: [500, 'internal error'],
  shutting_down: [503, 'this instance is shutting down; retry on another'],
  not_ready: [503, 'the catalog database is unreachable'],
  database_unavailable: [503, 'the database is unavailable; retry shortly'],
  database_timeout: [503, 'the database did not answer in time; retry shortly'],
  queue_full: [503, 'the gateway is at capacity; retry shortly'],
  tenant_queue_full: [503, 'this tenant has too many requests waiting; retry shortly'],
  queue_timeout: [503, 'no database connection became free within 2000 ms'],
  pool_budget_exhausted: [503, 'no connections are free for a dedicated pool; retry shortly'],
  server_unavailable: [503, 'tenant 0b6f4a1e-9c55-4f0e-8d2a-3f1c2b7a9e10 is placed on a server this gateway cannot reach'],
  tenant_changed: [503, 'the tenant changed while the request ran; retry shortly'],
  tenant_scope_unavailable: [503, 'the tenant scope could not be established; retry shortly'],
  tenant_moving: [503, 'the tenant is moving to another server; retry shortly'],
  tenant_move_failed: [503, 'the move failed and was rolled back; the tenant is served from its source; retry the move'],
  tenant_move_in_progress: [409, 'tenant 0b6f4a1e-9c55-4f0e-8d2a-3f1c2b7a9e10 is already being moved'],
  tenant_data_behind: [409, "the tenant's schema is at version 2, not 3: migrate it first"],
  move_model_unsupported: [409, 'only row-model (rls) and schema-model tenants can be moved'],
  tenant_changed_during_move: [409, 'the tenant was moved, changed or deleted elsewhere during the move'],
  move_same_server: [409, 'the target is on the same PostgreSQL server as the source: a move needs another server'],
  not_on_citus: [409, 'tenant 0b6f4a1e-9c55-4f0e-8d2a-3f1c2b7a9e10 lives on server "main", which is not a Citus coordinator'],
  move_citus_unsupported: [
    409,
    'server "main" is a Citus coordinator: Citus moves its tenants\' shards itself; move the tenant between its workers with {"node": "host:port"}',
  ],
  move_same_node: [409, 'the tenant already lives on node 10.0.0.7:5432'],
  citus_refused: [409, 'Citus refused the operation: could not acquire the lock required to move public.users'],
  unknown_node: [422, 'no worker 10.0.0.9:5432 that may hold shards in server "main"\'s cluster (field node)'],
  move_unsafe_roles: [409, "role t_0b6f4a1e9c554f0e8d2a3f1c2b7a9e10 is a member of the owner: a move would let it read the moving tenant's rows"],
  tenant_schema_behind: [503, "the tenant's schema is being migrated; retry shortly"],
  tenant_model_unsupported: [503, "this instance cannot serve the tenant's isolation model"],
  jwks_unavailable: [503, 'the token keys cannot be fetched right now; retry shortly'],
  write_unconfirmed: [503, 'the database accepted the write but did not return the user; it may have been created: list the users before retrying'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Codes a route answers in a given situation; an operation lists the groups that apply to it. */
export const ERRORS = {
  /** Any request the gateway routes. */
  always: ['internal_error', 'shutting_down'],
  /** A JSON request body (src/http/json-body.ts) checked field by field. */
  jsonBody: ['invalid_json', 'invalid_body', 'unknown_field', 'invalid_field', 'payload_too_large', 'unsupported_media_type'],
  /** Query parameters checked by name and value. */
  query: ['unknown_parameter', 'duplicate_parameter', 'invalid_parameter'],
  /** Admin JWT (src/http/admin-auth.ts) and the catalog behind admin routes. */
  admin: ['unauthorized', 'forbidden', 'database_unavailable', 'database_timeout'],
  /** An Idempotency-Key request header (src/idempotency). */
  idempotencyKey: ['invalid_idempotency_key', 'idempotency_key_in_use', 'idempotency_key_reused'],
  /** A user id path parameter (/v1/internal/users/{id}). */
  userPath: ['invalid_user_id', 'user_not_found'],
  /** A tenant path parameter. */
  tenantPath: ['invalid_tenant_id', 'tenant_not_found'],
  /** Caller authentication, tenant resolution, rate limit and the tenant's pool (/v1/internal/*). */
  tenant: [
    'missing_tenant_id',
    'invalid_tenant_id',
    'missing_host',
    'invalid_host',
    'conflicting_tenant_id',
    'unauthorized',
    'untrusted_network',
    'tenant_mismatch',
    'invalid_tenant_claim',
    'tenant_suspended',
    'tenant_not_found',
    'rate_limited',
    'database_unavailable',
    'database_timeout',
    'queue_full',
    'tenant_queue_full',
    'queue_timeout',
    'pool_budget_exhausted',
    'server_unavailable',
    'tenant_changed',
    'tenant_scope_unavailable',
    'tenant_moving',
    'tenant_schema_behind',
    'tenant_model_unsupported',
    'jwks_unavailable',
  ],
  /** Moving a tenant to another server (src/move/). */
  move: [
    'tenant_move_in_progress',
    'tenant_move_failed',
    'tenant_changed_during_move',
    'tenant_data_behind',
    'move_model_unsupported',
    'move_same_server',
    'move_unsafe_roles',
    'move_citus_unsupported',
  ],
  /** Isolating a tenant, or moving it between the workers of its Citus cluster (src/citus/). */
  citus: ['not_on_citus', 'move_model_unsupported', 'tenant_move_in_progress', 'citus_refused', 'database_unavailable', 'database_timeout'],
  /** METRICS_NETWORKS (/metrics, /health/ready). */
  monitoring: ['untrusted_network'],
} as const satisfies Record<string, readonly ErrorCode[]>;

/** The status a code is answered with. */
export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code][0];
}
