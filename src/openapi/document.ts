// Assembles the OpenAPI 3.1 document from the operations the route modules declare (./operations) and
// the zod schemas the parsers are checked against: JSON Schema from z.toJSONSchema (draft 2020-12, the
// dialect of OpenAPI 3.1), error answers from ./error-codes.ts, security from the configured trust
// model. Built once at start-up; pure.
import { z } from 'zod';
import { ERROR_CODES, ERRORS, statusOf, type ErrorCode } from './error-codes.js';
import type { Access, NamedSchema, Operation, Reply, RequestHeader, ResponseHeader } from './operation.js';
import { adminClusterOperations } from './operations/admin-cluster.js';
import { adminServerOperations } from './operations/admin-servers.js';
import { adminTenantOperations } from './operations/admin-tenants.js';
import { healthOperations } from './operations/health.js';
import { referenceOperations } from './operations/reference.js';
import { usersOperations } from './operations/users.js';

/**
 * Every route the app mounts; test/integration/openapi.test.ts fails when a mounted route is missing
 * here. To add one: append an Operation to the list in ./operations/<area>.ts (method, OpenAPI path,
 * operationId, tag, summary, access, its zod params/query/body and its replies), and name in `errors`
 * only the codes its kind does not already imply (errorCodesOf). A new area's list joins this one.
 */
export const OPERATIONS: readonly Operation[] = [
  ...healthOperations,
  ...referenceOperations,
  ...usersOperations,
  ...adminTenantOperations,
  ...adminServerOperations,
  ...adminClusterOperations,
];

export interface DocumentOptions {
  readonly authMode: 'network' | 'jwt';
  /** TENANT_FROM: x-tenant-id, the caller JWT's claim, or the Host's subdomain. */
  readonly tenantFrom: 'header' | 'jwt' | 'host';
}

/** The API's version (info.version): raised when the API changes, not with each release. */
const API_VERSION = '1.0.0';

type Json = Record<string, unknown>;
export type OpenApiDocument = Readonly<Json>;

export function buildApiDocument(options: DocumentOptions, operations: readonly Operation[] = OPERATIONS): OpenApiDocument {
  const components = namedSchemas(operations);
  const paths: Record<string, Json> = {};
  for (const op of operations) {
    paths[op.path] = { ...paths[op.path], [op.method]: operation(op, options, components.refs) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'tenantgate',
      version: API_VERSION,
      description: INFO,
    },
    servers: [{ url: '/' }],
    tags: [
      { name: 'Users', description: "A tenant's users, under PostgreSQL isolation (/v1/internal/*)" },
      { name: 'Tenants', description: 'Tenant administration (admin JWT)' },
      { name: 'Servers', description: 'The PostgreSQL servers tenants live on (admin JWT)' },
      { name: 'Health', description: 'Liveness, readiness, metrics' },
      { name: 'Reference', description: 'This document and its interactive reference' },
    ],
    paths,
    components: {
      schemas: { ...components.schemas, Error: jsonSchema(errorEnvelope(Object.keys(ERROR_CODES) as ErrorCode[])) },
      securitySchemes: securitySchemes(options),
      headers: {
        RequestId: { description: 'the request id (x-request-id sent, else generated)', schema: { type: 'string' } },
        RetryAfter: { description: 'seconds after which a retry may succeed', schema: { type: 'integer', minimum: 1 } },
        Allow: {
          description: "the path's methods, comma-separated (HEAD wherever GET is)",
          required: true,
          schema: { type: 'string' },
          example: 'GET, HEAD, POST',
        },
      },
      responses: {
        // No operation can list it (it answers the methods a path does not list): see info.description.
        MethodNotAllowed: {
          description: '`method_not_allowed`: the path exists, but not for this method; Allow lists its methods',
          headers: { 'x-request-id': { $ref: '#/components/headers/RequestId' }, Allow: { $ref: '#/components/headers/Allow' } },
          content: {
            'application/json': {
              schema: jsonSchema(errorEnvelope(['method_not_allowed'])),
              example: { error: { code: 'method_not_allowed', message: ERROR_CODES.method_not_allowed[1] } },
            },
          },
        },
      },
    },
  };
}

const INFO = [
  'A multi-tenant PostgreSQL gateway: each request names its tenant and runs under PostgreSQL isolation.',
  '',
  'Every error is `{"error": {"code", "message"}}`; each operation lists the codes it can answer, and',
  '`message` names the field, header or parameter at fault. 503 answers carry `Retry-After`.',
  'Any path that is not listed answers `404 route_not_found`; a listed path asked with a method it does',
  'not list answers `405 method_not_allowed` with an `Allow` header naming its methods',
  '(`#/components/responses/MethodNotAllowed`; HEAD is served wherever GET is). The HTTP server itself may answer',
  '`408 request_timeout`, `431 headers_too_large` or `400 bad_request` before routing, in the same shape.',
].join('\n');

function operation(op: Operation, options: DocumentOptions, refs: ReadonlyMap<z.ZodType, string>): Json {
  const parameters = [
    ...paramsOf(op.pathParams, 'path'),
    ...paramsOf(op.query, 'query'),
    ...(op.headers ?? []).map(headerParameter),
    ...(op.access === 'tenant' && options.tenantFrom !== 'header' ? [tenantHeaderParameter(options)] : []),
  ];
  const responses: Record<string, Json> = {};
  for (const [status, reply] of Object.entries(op.replies)) responses[status] = replyOf(reply, refs);
  for (const [status, codes] of errorsByStatus(op)) responses[status] = errorResponse(status, codes);
  return {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    ...(descriptionOf(op) === undefined ? {} : { description: descriptionOf(op) }),
    security: securityOf(op.access, options),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(op.body === undefined
      ? {}
      : {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schemaRef(op.body.schema, refs), example: op.body.example } },
          },
        }),
    responses,
  };
}

/** The operation's own description, and who may call it where no security scheme says so. */
function descriptionOf(op: Operation): string | undefined {
  const access = op.access === 'monitoring' ? 'Only callers in METRICS_NETWORKS (default: loopback) are answered.' : undefined;
  const parts = [op.description, access].filter((p): p is string => p !== undefined);
  return parts.length === 0 ? undefined : parts.join('\n\n');
}

/** The codes an operation can answer, grouped by status: those its kind implies, then its own. */
export function errorCodesOf(op: Operation): ErrorCode[] {
  const codes: ErrorCode[] = ['internal_error'];
  // The envelope refuses requests while draining, except health checks (src/http/envelope.ts).
  if (!op.path.startsWith('/health')) codes.push('shutting_down');
  if (op.access === 'admin') codes.push(...ERRORS.admin);
  if (op.access === 'tenant') codes.push(...ERRORS.tenant);
  if (op.access === 'monitoring') codes.push(...ERRORS.monitoring);
  if (op.body !== undefined) codes.push(...ERRORS.jsonBody);
  if (op.query !== undefined) codes.push(...ERRORS.query);
  codes.push(...(op.errors ?? []));
  return [...new Set(codes)];
}

function errorsByStatus(op: Operation): Map<string, ErrorCode[]> {
  const byStatus = new Map<string, ErrorCode[]>();
  for (const code of errorCodesOf(op).sort((a, b) => statusOf(a) - statusOf(b))) {
    const status = String(statusOf(code));
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return byStatus;
}

function errorEnvelope(codes: readonly ErrorCode[]): z.ZodType {
  return z.strictObject({
    error: z.strictObject({ code: z.enum(codes as [ErrorCode, ...ErrorCode[]]), message: z.string().min(1) }),
  });
}

function errorResponse(status: string, codes: readonly ErrorCode[]): Json {
  const retry = status === '503' || status === '429';
  return {
    description: `${codes.map((c) => `\`${c}\``).join(', ')}`,
    headers: { 'x-request-id': { $ref: '#/components/headers/RequestId' }, ...(retry ? { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } } : {}) },
    content: {
      'application/json': {
        schema: jsonSchema(errorEnvelope(codes)),
        examples: Object.fromEntries(codes.map((code) => [code, { value: { error: { code, message: ERROR_CODES[code][1] } } }])),
      },
    },
  };
}

function replyOf(reply: Reply, refs: ReadonlyMap<z.ZodType, string>): Json {
  const own = Object.entries(reply.headers ?? {}).map(([name, header]) => [name, responseHeader(header)] as const);
  const headers = { 'x-request-id': { $ref: '#/components/headers/RequestId' }, ...Object.fromEntries(own) };
  if (reply.body === undefined) return { description: reply.description, headers };
  const media = { schema: schemaRef(reply.body, refs), ...(reply.example === undefined ? {} : { example: reply.example }) };
  return { description: reply.description, headers, content: { [reply.contentType ?? 'application/json']: media } };
}

/** Named schemas become components (a schema named twice must be the same schema). */
function namedSchemas(operations: readonly Operation[]): { schemas: Json; refs: Map<z.ZodType, string> } {
  const registry = z.registry<{ id: string }>();
  const refs = new Map<z.ZodType, string>();
  const add = (named: NamedSchema | z.ZodType | undefined): void => {
    if (named === undefined || named instanceof z.ZodType) return;
    const known = registry.get(named.schema)?.id;
    if (known === undefined) {
      if ([...refs.values()].includes(named.name)) throw new Error(`two schemas are named ${named.name}`);
      registry.add(named.schema, { id: named.name });
      refs.set(named.schema, named.name);
    } else if (known !== named.name) {
      throw new Error(`one schema is named both ${known} and ${named.name}`);
    }
  };
  for (const op of operations) {
    add(op.body?.schema);
    for (const reply of Object.values(op.replies)) add(reply.body);
  }
  const { schemas } = z.toJSONSchema(registry, { uri: (id) => `#/components/schemas/${id}`, unrepresentable: 'any' });
  const cleaned: Json = {};
  for (const [name, schema] of Object.entries(schemas)) {
    const { $schema: _s, $id: _i, ...rest } = schema as Json;
    cleaned[name] = rest;
  }
  return { schemas: cleaned, refs };
}

function schemaRef(named: NamedSchema | z.ZodType, refs: ReadonlyMap<z.ZodType, string>): Json {
  if (named instanceof z.ZodType) return jsonSchema(named);
  return { $ref: `#/components/schemas/${refs.get(named.schema) ?? named.name}` };
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'output'): Json {
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  return rest;
}

/** One parameter per field; a field with a default or `.optional()` is optional. */
function paramsOf(object: z.ZodObject | undefined, where: 'path' | 'query'): Json[] {
  if (object === undefined) return [];
  const schema = jsonSchema(object, 'input');
  const properties = (schema.properties ?? {}) as Record<string, Json>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(description === undefined ? {} : { description }),
      schema: rest,
    };
  });
}

function headerParameter(header: RequestHeader): Json {
  return {
    name: header.name,
    in: 'header',
    required: header.required,
    description: header.description,
    schema: jsonSchema(header.schema),
    example: header.example,
  };
}

function responseHeader(header: ResponseHeader): Json {
  return { description: header.description, required: header.required, schema: jsonSchema(header.schema), example: header.example };
}

function tenantHeaderParameter(options: DocumentOptions): Json {
  return {
    name: 'x-tenant-id',
    in: 'header',
    required: false,
    description:
      options.tenantFrom === 'host'
        ? 'optional: when sent, it must name the tenant the Host header names'
        : "optional: when sent, it must equal the token's tenant claim",
    schema: { type: 'string', format: 'uuid' },
  };
}

function securitySchemes(options: DocumentOptions): Json {
  const schemes: Json = {
    adminJwt: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'HS256 with ADMIN_JWT_SECRET, `exp` required, claim `"role": "admin"` (`npm run cli -- token`)',
    },
  };
  if (options.authMode === 'jwt') {
    schemes.callerJwt = {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'JWT_SECRET (HS256) or JWKS_URL; `exp` required; the tenant claim (JWT_TENANT_CLAIM) names the tenant',
    };
  } else if (options.tenantFrom === 'header') {
    schemes.tenantHeader = {
      type: 'apiKey',
      in: 'header',
      name: 'x-tenant-id',
      description: 'the tenant the request is for (a UUID); the caller must be in TRUSTED_NETWORKS',
    };
  }
  return schemes;
}

function securityOf(access: Access, options: DocumentOptions): Json[] {
  switch (access) {
    case 'admin':
      return [{ adminJwt: [] }];
    case 'tenant':
      if (options.authMode === 'jwt') return [{ callerJwt: [] }];
      // Network mode trusts the caller's address; with TENANT_FROM=host the Host header names the tenant.
      return options.tenantFrom === 'header' ? [{ tenantHeader: [] }] : [];
    default:
      return [];
  }
}
