// What one route declares for the API document: its method and path, who may call it, the schemas of
// its parameters, body and answers, and the error codes it can answer beyond those its kind implies.
// src/openapi/operations/*.ts hold one list per route module; src/openapi/document.ts assembles them.
import type { z } from 'zod';
import type { ErrorCode } from './error-codes.js';

/**
 * Who may call a route, which also implies error codes (src/openapi/document.ts):
 * public: anyone; monitoring: METRICS_NETWORKS; tenant: AUTH_MODE/TENANT_FROM (/v1/internal/*);
 * admin: an admin JWT.
 */
export type Access = 'public' | 'monitoring' | 'tenant' | 'admin';

/** A schema shown as a named component (#/components/schemas/<name>). */
export interface NamedSchema {
  readonly name: string;
  readonly schema: z.ZodType;
}

/** A request header the operation reads (beyond those its access implies, such as x-tenant-id). */
export interface RequestHeader {
  /** As the gateway spells it, e.g. `Idempotency-Key` (header names are case-insensitive). */
  readonly name: string;
  readonly description: string;
  readonly required: boolean;
  /** A string schema: header values are text. */
  readonly schema: z.ZodString;
  readonly example: string;
}

/** A header an answer carries (x-request-id is on every answer, Retry-After on 429 and 503). */
export interface ResponseHeader {
  readonly description: string;
  /** True when every such answer carries it; false when only some do (say which in `description`). */
  readonly required: boolean;
  readonly schema: z.ZodType;
  readonly example: string;
}

export interface Reply {
  readonly description: string;
  /** JSON unless `contentType` says otherwise; absent for an empty body (204). */
  readonly body?: NamedSchema | z.ZodType;
  readonly contentType?: string;
  readonly example?: unknown;
  /** Headers beyond x-request-id, by name. */
  readonly headers?: Readonly<Record<string, ResponseHeader>>;
}

export interface Operation {
  readonly method: 'get' | 'post' | 'patch' | 'delete';
  /** OpenAPI form: `/v1/admin/tenants/{id}` for Hono's `/v1/admin/tenants/:id`. */
  readonly path: string;
  readonly operationId: string;
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  readonly access: Access;
  readonly pathParams?: z.ZodObject;
  readonly query?: z.ZodObject;
  /** Request headers it reads; the errors a bad value gets go in `errors`. */
  readonly headers?: readonly RequestHeader[];
  readonly body?: { readonly schema: NamedSchema; readonly example: unknown };
  /** The success answers, by status. */
  readonly replies: Readonly<Record<number, Reply>>;
  /** Error codes beyond those of its access, body and query. */
  readonly errors?: readonly ErrorCode[];
}
