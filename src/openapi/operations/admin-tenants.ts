// Tenant administration (src/routes/admin-tenants.ts): the answers' schemas and the operations.
import { z } from 'zod';
import { createTenantSchema, tenantLimitsSchema, tenantListQuerySchema } from '../../tenants/request-schemas.js';
import { ISOLATION_MODEL_NAMES } from '../../tenants/placement.js';
import type { NamedSchema, Operation } from '../operation.js';
import { ERRORS } from '../error-codes.js';
import { moveTenantSchema } from '../../servers/request-schemas.js';

// Catalog timestamps are JS Dates in JSON: millisecond precision.
const instant = z.string().meta({ format: 'date-time' });
const limit = z.int().nullable();

const tenantFields = {
  id: z.guid(),
  name: z.string(),
  db_user: z.string().describe("the tenant's PostgreSQL role (its password is never shown)"),
  status: z.enum(['active', 'suspended']),
  server: z.string().describe('the server its data lives on'),
  model: z.enum(ISOLATION_MODEL_NAMES),
  created_at: instant,
};

const tenant: NamedSchema = {
  name: 'Tenant',
  schema: z.strictObject({
    ...tenantFields,
    rate_limit_rps: limit.describe('own rate limit; null: the gateway-wide RATE_LIMIT_RPS'),
    rate_limit_burst: limit,
    updated_at: instant,
  }),
};

const example = {
  id: '0b6f4a1e-9c55-4f0e-8d2a-3f1c2b7a9e10',
  name: 'acme',
  db_user: 't_0b6f4a1e9c554f0e8d2a3f1c2b7a9e10',
  status: 'active',
  server: 'main',
  model: 'rls',
  created_at: '2026-11-24T17:22:53.182Z',
};
const tenantExample = { ...example, rate_limit_rps: null, rate_limit_burst: null, updated_at: example.created_at };

const tenantStatus: NamedSchema = {
  name: 'TenantStatus',
  schema: z.strictObject({ id: z.guid(), status: z.enum(['active', 'suspended']) }),
};

const serverMove = z
  .strictObject({
    kind: z.literal('server').describe('a move to another server'),
    tenant_id: z.guid(),
    from: z.string().describe('the server it was on'),
    to: z.string().describe('the server it is moving to'),
    state: z.enum(['running', 'done', 'failed']),
    step: z
      .enum(['prepare', 'capture', 'copy', 'catch-up', 'fence', 'switch', 'grace', 'cleanup'])
      .nullable()
      .describe('the step under way (the last one once finished)'),
    started_at: instant,
    finished_at: instant.nullable(),
    report: z
      .strictObject({
        rows: z.int().describe('rows in the snapshot copy'),
        changes: z.int().describe('changes applied by catch-up and the final drain'),
        copyMs: z.number(),
        catchUpRounds: z.int(),
        fenceAttempts: z.int(),
        pauseMs: z.number().describe("from the fence to the switch: the tenant's writes waited at most this long"),
        pause: z.strictObject({ fenceMs: z.number(), drainMs: z.number(), switchMs: z.number() }),
        switchedAfterMs: z.number(),
        oldCopyRemoved: z.boolean(),
        cleanupMs: z.number(),
        totalMs: z.number(),
        dataVersion: z.int().nullable(),
      })
      .nullable(),
    error: z.strictObject({ code: z.string(), message: z.string() }).nullable(),
  })
  .meta({ title: 'ServerMove' });

const nodeMove = z
  .strictObject({
    kind: z.literal('node').describe("a move between the workers of the tenant's Citus cluster"),
    tenant_id: z.guid(),
    server: z.string().describe('the Citus server (coordinator) it lives on, and stays on'),
    from: z.string().describe('the worker it was on (host:port)'),
    to: z.string().describe('the worker it is moving to (host:port)'),
    state: z.enum(['running', 'done', 'failed']),
    step: z.enum(['isolate', 'move']).nullable().describe('isolate: its shard is split so that only its rows move; move: Citus copies and switches'),
    started_at: instant,
    finished_at: instant.nullable(),
    report: z
      .strictObject({
        shard_id: z.int().describe('the users shard that moved (colocated shards went with it)'),
        isolated_first: z.boolean().describe('a row-model tenant sharing its shard was isolated first'),
        isolateMs: z.number().nullable(),
        moveMs: z.number(),
        totalMs: z.number(),
      })
      .nullable(),
    error: z.strictObject({ code: z.string(), message: z.string() }).nullable(),
  })
  .meta({ title: 'NodeMove' });

const moveStatus: NamedSchema = {
  name: 'TenantMove',
  schema: z.union([serverMove, nodeMove]),
};

const moveExample = {
  kind: 'server',
  tenant_id: '0b6f4a1e-9c55-4f0e-8d2a-3f1c2b7a9e10',
  from: 'main',
  to: 'eu2',
  state: 'running',
  step: 'copy',
  started_at: '2026-12-01T20:00:00.500Z',
  finished_at: null,
  report: null,
  error: null,
};

const idParam = z.object({ id: z.guid().describe("the tenant's id") });

/** POST /{id}/<action>: the same shape for each. */
function statusChange(action: 'suspend' | 'resume', status: 'active' | 'suspended', summary: string): Operation {
  return {
    method: 'post',
    path: `/v1/admin/tenants/{id}/${action}`,
    operationId: `${action}Tenant`,
    tag: 'Tenants',
    summary,
    access: 'admin',
    pathParams: idParam,
    replies: {
      200: {
        description: 'the new status',
        body: tenantStatus,
        example: { id: example.id, status },
      },
    },
    errors: ['invalid_tenant_id', 'tenant_not_found'],
  };
}

export const adminTenantOperations: readonly Operation[] = [
  {
    method: 'post',
    path: '/v1/admin/tenants',
    operationId: 'createTenant',
    tag: 'Tenants',
    summary: 'Create a tenant (catalog row, PostgreSQL role and, under the schema model, its schema) on a server',
    description:
      'On the server named by `server`, else on the one with the fewest tenants (main first among equals). Its role, data and a password-less record of it are made on that server first; the catalog row, which makes it reachable, last.',
    access: 'admin',
    body: { schema: { name: 'CreateTenant', schema: createTenantSchema }, example: { name: 'acme', model: 'rls', server: 'main' } },
    replies: {
      201: { description: 'the tenant created', body: { name: 'CreatedTenant', schema: z.strictObject(tenantFields) }, example },
    },
    errors: ['tenant_exists', 'conflict', 'tenant_model_unsupported', 'unknown_server', 'model_unsupported'],
  },
  {
    method: 'get',
    path: '/v1/admin/tenants',
    operationId: 'listTenants',
    tag: 'Tenants',
    summary: 'List tenants: search by name, filter by status, sort (oldest first by default), page',
    access: 'admin',
    query: tenantListQuerySchema,
    replies: {
      200: {
        description: 'a page of tenants',
        body: {
          name: 'TenantPage',
          schema: z.strictObject({
            records: z.array(tenant.schema),
            page: z.int().min(1),
            page_size: z.int().min(1),
            total: z.int().min(0),
            total_pages: z.int().min(0),
          }),
        },
        example: { records: [tenantExample], page: 1, page_size: 50, total: 1, total_pages: 1 },
      },
    },
  },
  {
    method: 'get',
    path: '/v1/admin/tenants/{id}',
    operationId: 'getTenant',
    tag: 'Tenants',
    summary: 'Read a tenant',
    access: 'admin',
    pathParams: idParam,
    replies: { 200: { description: 'the tenant', body: tenant, example: tenantExample } },
    errors: ['invalid_tenant_id', 'tenant_not_found'],
  },
  {
    method: 'get',
    path: '/v1/admin/tenants/by-name/{name}',
    operationId: 'getTenantByName',
    tag: 'Tenants',
    summary: 'Read a tenant by its name',
    access: 'admin',
    pathParams: z.object({
      name: z.string().min(1).describe('the exact name (names are unique); percent-encode `/` and other reserved characters'),
    }),
    replies: { 200: { description: 'the tenant', body: tenant, example: tenantExample } },
    errors: ['tenant_not_found'],
  },
  {
    method: 'patch',
    path: '/v1/admin/tenants/{id}',
    operationId: 'setTenantLimits',
    tag: 'Tenants',
    summary: "Set or clear the tenant's rate limit",
    access: 'admin',
    pathParams: idParam,
    body: { schema: { name: 'TenantLimits', schema: tenantLimitsSchema }, example: { rate_limit_rps: 50, rate_limit_burst: 100 } },
    replies: {
      200: { description: 'the tenant with its new limit', body: tenant, example: { ...tenantExample, rate_limit_rps: 50, rate_limit_burst: 100 } },
    },
    errors: ['invalid_tenant_id', 'tenant_not_found'],
  },
  {
    method: 'delete',
    path: '/v1/admin/tenants/{id}',
    operationId: 'deleteTenant',
    tag: 'Tenants',
    summary: 'Delete a tenant: its rows or schema, its catalog row and its role',
    access: 'admin',
    pathParams: idParam,
    replies: { 204: { description: 'deleted' } },
    errors: ['invalid_tenant_id', 'tenant_not_found'],
  },
  {
    method: 'post',
    path: '/v1/admin/tenants/{id}/rotate',
    operationId: 'rotateTenant',
    tag: 'Tenants',
    summary: "Rotate the tenant role's password",
    access: 'admin',
    pathParams: idParam,
    replies: {
      200: {
        description: 'when the new password was committed',
        body: { name: 'TenantRotated', schema: z.strictObject({ id: z.guid(), rotated_at: instant }) },
        example: { id: example.id, rotated_at: '2026-11-25T08:00:00.000Z' },
      },
    },
    errors: ['invalid_tenant_id', 'tenant_not_found'],
  },
  statusChange('suspend', 'suspended', 'Suspend a tenant: its requests get 403 tenant_suspended'),
  statusChange('resume', 'active', 'Resume a suspended tenant'),
  {
    method: 'post',
    path: '/v1/admin/tenants/{id}/move',
    operationId: 'moveTenant',
    tag: 'Tenants',
    summary: "Move the tenant's data, while it is served, to another server or to another worker of its Citus cluster; runs in the background",
    description:
      '`{"server"}`: to another server (rls and schema models; not from or to a Citus coordinator: Citus moves its own shards). ' +
      '`{"node": "host:port"}`: on a Citus server, to another worker: a row-model tenant sharing its shard is isolated first (only its rows move), then Citus moves the shard (with its colocated idempotency_keys shard) or the schema tenant\'s distributed schema by logical replication; writes pause for the final catch-up only. Exactly one of the two.',
    access: 'admin',
    pathParams: idParam,
    body: { schema: { name: 'MoveTenant', schema: moveTenantSchema }, example: { server: 'eu2' } },
    replies: { 202: { description: 'the move started; follow it with GET', body: moveStatus, example: moveExample } },
    errors: [...ERRORS.tenantPath, 'unknown_server', 'server_unavailable', ...ERRORS.move, ...ERRORS.citus, 'unknown_node', 'move_same_node'],
  },
  {
    method: 'post',
    path: '/v1/admin/tenants/{id}/isolate',
    operationId: 'isolateTenant',
    tag: 'Tenants',
    summary: 'Citus: give a row-model tenant a shard of its own (its colocated idempotency_keys follow); a no-op when it has one',
    description:
      "Citus splits the tenant's hash value out of the shard it shares (isolate_tenant_to_new_shard, logical replication: the other tenants of that shard pause for its final catch-up only) and answers once it is done. A schema tenant is its own colocation group already: answered with `changed: false`. A tenant on a server that is not a Citus coordinator: 409 not_on_citus.",
    access: 'admin',
    pathParams: idParam,
    replies: {
      200: {
        description: 'where the tenant now lives, alone in its shard',
        body: {
          name: 'TenantIsolation',
          schema: z.strictObject({
            id: z.guid(),
            server: z.string(),
            model: z.enum(['rls', 'schema']),
            node: z.string().describe('the worker holding its shard (host:port)'),
            shard_id: z.int().describe('its users shard'),
            schema: z.string().nullable().describe("a schema tenant's distributed schema"),
            isolated: z.literal(true),
            changed: z.boolean().describe('false: it was alone in its shard already (or is a schema tenant), nothing was done'),
          }),
        },
        example: { id: example.id, server: 'main', model: 'rls', node: '10.0.0.7:5432', shard_id: 102075, schema: null, isolated: true, changed: true },
      },
    },
    errors: [...ERRORS.tenantPath, ...ERRORS.citus],
  },
  {
    method: 'get',
    path: '/v1/admin/tenants/{id}/move',
    operationId: 'getTenantMove',
    tag: 'Tenants',
    summary: "The state of the tenant's latest move run by this instance",
    access: 'admin',
    pathParams: idParam,
    replies: {
      200: {
        description: 'running (with its current step), done (with its report) or failed (with why; the tenant is served from where it was)',
        body: moveStatus,
        example: {
          ...moveExample,
          state: 'done',
          step: 'cleanup',
          finished_at: '2026-12-01T20:00:14.200Z',
          report: {
            rows: 100000,
            changes: 412,
            copyMs: 11300,
            catchUpRounds: 3,
            fenceAttempts: 1,
            pauseMs: 36,
            pause: { fenceMs: 18, drainMs: 17, switchMs: 1 },
            switchedAfterMs: 11700,
            oldCopyRemoved: true,
            cleanupMs: 2000,
            totalMs: 13700,
            dataVersion: null,
          },
        },
      },
    },
    errors: ['invalid_tenant_id', 'move_not_found'],
  },
];
