// Validates the JSON body of POST /users. Unknown fields are rejected rather than ignored, so a client
// never believes it set `tenant_id`, `id` or `confirmed` when the gateway decides those itself.

import { BadRequest } from '../errors.js';
import { z } from 'zod';
import { measureText, TEXT_PROBLEM_MESSAGES } from '../http/text.js';
import { textSchema } from '../http/text-schema.js';

export interface CreateUserInput {
  firstName: string;
  lastName: string;
}

const NAME_FIELDS = ['first_name', 'last_name'] as const;
type NameField = (typeof NAME_FIELDS)[number];
const nameFields: ReadonlySet<string> = new Set(NAME_FIELDS);
const MAX_NAME_LENGTH = 50;

/** What parseCreateUser accepts, for the API document (test/unit/request-schemas.test.ts holds them equal). */
export const createUserSchema = z
  .strictObject({
    first_name: textSchema(MAX_NAME_LENGTH).describe('1 to 50 characters, not blank'),
    last_name: textSchema(MAX_NAME_LENGTH).describe('1 to 50 characters, not blank'),
  } satisfies Record<NameField, z.ZodType>)
  .describe('A new user. The gateway sets id, confirmed and the timestamps; any other field is refused.');

export function parseCreateUser(body: unknown): CreateUserInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest('invalid_body', 'request body must be a JSON object');
  }
  for (const key of Object.keys(body)) {
    if (!nameFields.has(key)) {
      throw new BadRequest('unknown_field', `unknown field ${JSON.stringify(key)}; allowed fields are ${NAME_FIELDS.join(', ')}`, key);
    }
  }
  return { firstName: parseName(body, 'first_name'), lastName: parseName(body, 'last_name') };
}

function invalid(field: NameField, message: string): BadRequest {
  return new BadRequest('invalid_field', message, field);
}

function parseName(body: object, field: NameField): string {
  // Own properties only: the value must come from the request, never from a prototype.
  const value: unknown = Object.hasOwn(body, field) ? (body as Record<NameField, unknown>)[field] : undefined;
  if (value === undefined || value === null) throw invalid(field, `${field} is required`);
  if (typeof value !== 'string') throw invalid(field, `${field} must be a string`);
  // Twice the limit in UTF-16 units is the most 50 code points can take; longer needs no scan.
  const length = value.length > 2 * MAX_NAME_LENGTH ? Infinity : scanName(value, field);
  if (length < 1 || length > MAX_NAME_LENGTH) {
    throw invalid(field, `${field} must be 1 to ${MAX_NAME_LENGTH} characters`);
  }
  if (value.trim().length === 0) throw invalid(field, `${field} must not be blank`);
  return value;
}

function scanName(value: string, field: NameField): number {
  const measured = measureText(value);
  if (typeof measured !== 'number') throw invalid(field, `${field} ${TEXT_PROBLEM_MESSAGES[measured]}`);
  return measured;
}
