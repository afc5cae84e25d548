// The rules of ./text.ts as a zod schema, for the API document. A module of its own: the CLI loads
// text.ts, and importing zod costs it ~150 ms at every start.
import { z } from 'zod';

/**
 * The same rules as a schema, for the API document: 1 to `max` code points (JSON Schema's maxLength
 * counts code points, as measureText does), no control characters or lone surrogates, not blank.
 * The `u` flag makes the pattern see a surrogate pair as one character and a lone half as itself.
 */
export function textSchema(max: number): z.ZodString {
  return z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\u0000-\u001F\u007F\uD800-\uDFFF]*$/u)
    .regex(/\S/u);
}
