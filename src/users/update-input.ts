// Validates the JSON body of PATCH /v1/internal/users/{id}: any of first_name, last_name (the create
// rules: 1–50 characters, not blank, no control characters) and confirmed (a boolean), at least one.
// Unknown fields (id, tenant_id, created_at…) are rejected, never ignored.
import { z } from 'zod';
import { BadRequest } from '../errors.js';
import { measureText, TEXT_PROBLEM_MESSAGES } from '../http/text.js';
import { textSchema } from '../http/text-schema.js';

export interface UpdateUserInput {
  readonly firstName?: string;
  readonly lastName?: string;
  readonly confirmed?: boolean;
}

const FIELDS = ['first_name', 'last_name', 'confirmed'] as const;
const known: ReadonlySet<string> = new Set(FIELDS);
const MAX_NAME_LENGTH = 50;

/** What parseUpdateUser accepts, for the API document (test/unit/request-schemas.test.ts holds them equal). */
export const updateUserSchema = z
  .strictObject({
    first_name: textSchema(MAX_NAME_LENGTH).optional().describe('1 to 50 characters, not blank; cannot be cleared'),
    last_name: textSchema(MAX_NAME_LENGTH).optional().describe('1 to 50 characters, not blank; cannot be cleared'),
    confirmed: z.boolean().optional(),
  } satisfies Record<(typeof FIELDS)[number], z.ZodType>)
  .refine((body) => Object.keys(body).length > 0)
  // The refinement is not JSON Schema; minProperties says the same in the document.
  .meta({ minProperties: 1 })
  .describe('The fields to change, at least one. id, the timestamps and any other field are refused.');

export function parseUpdateUser(body: unknown): UpdateUserInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest('invalid_body', 'request body must be a JSON object', 'body');
  }
  const keys = Object.keys(body);
  for (const key of keys) {
    if (!known.has(key)) {
      throw new BadRequest('unknown_field', `unknown field ${JSON.stringify(key)}; allowed fields are ${FIELDS.join(', ')}`, key);
    }
  }
  if (keys.length === 0) {
    throw new BadRequest('invalid_body', `the body must set at least one of ${FIELDS.join(', ')}`, 'body');
  }
  const fields = body as Record<string, unknown>;
  const input: { firstName?: string; lastName?: string; confirmed?: boolean } = {};
  if (Object.hasOwn(fields, 'first_name')) input.firstName = parseName(fields.first_name, 'first_name');
  if (Object.hasOwn(fields, 'last_name')) input.lastName = parseName(fields.last_name, 'last_name');
  if (Object.hasOwn(fields, 'confirmed')) {
    if (typeof fields.confirmed !== 'boolean') throw invalid('confirmed', 'confirmed must be true or false');
    input.confirmed = fields.confirmed;
  }
  return input;
}

function invalid(field: string, message: string): BadRequest {
  return new BadRequest('invalid_field', message, field);
}

function parseName(value: unknown, field: string): string {
  if (value === null || value === undefined) throw invalid(field, `${field} must be a string (it cannot be cleared)`);
  if (typeof value !== 'string') throw invalid(field, `${field} must be a string`);
  // Twice the limit in UTF-16 units is the most 50 code points can take; longer needs no scan.
  const measured = value.length > 2 * MAX_NAME_LENGTH ? Infinity : measureText(value);
  if (typeof measured !== 'number') throw invalid(field, `${field} ${TEXT_PROBLEM_MESSAGES[measured]}`);
  if (measured < 1 || measured > MAX_NAME_LENGTH) throw invalid(field, `${field} must be 1 to ${MAX_NAME_LENGTH} characters`);
  if (value.trim().length === 0) throw invalid(field, `${field} must not be blank`);
  return value;
}
