// The Idempotency-Key header and the request fingerprint it is bound to. A key is the client's: any
// visible ASCII, 1–255 characters (a UUID is typical). The fingerprint is what "the same request" means:
// the operation (with its target, e.g. the user id) and the validated body (parsed, so whitespace and key
// order do not matter).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { BadRequest } from '../errors.js';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** Set on an answer replayed from an earlier request with the same key. */
export const REPLAYED_HEADER = 'Idempotency-Replayed';

const KEY = /^[\x21-\x7e]{1,255}$/;

/** What parseIdempotencyKey accepts, for the API document (test/unit/request-schemas.test.ts holds them equal). */
export const idempotencyKeySchema = z.string().regex(KEY);

/** The key, or undefined when the header is absent. */
export function parseIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!KEY.test(header)) {
    throw new BadRequest('invalid_idempotency_key', `${IDEMPOTENCY_HEADER} must be 1 to 255 visible ASCII characters (no spaces)`, IDEMPOTENCY_HEADER);
  }
  return header;
}

/** SHA-256 (hex) of the operation and the validated input in a fixed field order. */
export function requestFingerprint(operation: string, input: Readonly<Record<string, unknown>>): string {
  const fields = Object.keys(input)
    .sort()
    .map((k) => [k, input[k]]);
  return createHash('sha256')
    .update(`${operation}\n${JSON.stringify(fields)}`)
    .digest('hex');
}
