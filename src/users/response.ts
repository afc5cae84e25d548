// Builds the users API's JSON from plain rows. PostgreSQL returns the columns (timestamps as text, so
// no microsecond is lost to a JS Date); Node writes the JSON. Measured on the shared pool, letting
// PostgreSQL build it (json_agg, to_char) cost ~50 µs more planning and ~70 µs more execution per
// request than returning rows, and PostgreSQL, not Node, is what runs out first.
import type { Row } from 'postgres';
import { z } from 'zod';
import type { ListParams } from './list-params.js';

// timestamptz text in the ISO DateStyle with TimeZone UTC: "2026-11-24 17:22:53.1821+00", or as
// to_jsonb writes it (an idempotent write's stored answer): "2026-11-24T17:22:53.1821+00:00".
const PG_UTC_TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?\+00(?::00)?$/;

/** RFC 3339 in UTC with exactly six fractional digits, as the API has always answered. */
export function rfc3339(text: string): string {
  const m = PG_UTC_TIMESTAMP.exec(text);
  if (!m) throw new Error(`unexpected timestamp text from PostgreSQL: ${text}`);
  return `${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(6, '0')}Z`;
}

const timestamp = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/)
  .meta({ format: 'date-time', examples: ['2026-11-24T17:22:53.182100Z'] });

/** A user as the API answers it (the document's User; UserJson is derived from it). */
export const userSchema = z.strictObject({
  id: z.guid(),
  first_name: z.string(),
  last_name: z.string(),
  confirmed: z.boolean(),
  created_at: timestamp,
  updated_at: timestamp,
});

/** A page of users (the document's UserPage). */
export const userPageSchema = z.strictObject({
  records: z.array(userSchema),
  page: z.int().min(1).nullable().describe('null on a page reached by cursor'),
  page_size: z.int().min(1),
  total: z.int().min(0).nullable().describe('null with count=none; a lower bound when total_exact is false'),
  total_pages: z.int().min(0).nullable(),
  total_exact: z.boolean(),
  next_cursor: z.string().nullable().describe('pass as cursor for the next page; null on the last page'),
});

type UserJson = z.infer<typeof userSchema>;

function user(row: Row): UserJson {
  return {
    id: row.id as string,
    first_name: row.first_name as string,
    last_name: row.last_name as string,
    confirmed: row.confirmed as boolean,
    created_at: rfc3339(row.created_at as string),
    updated_at: rfc3339(row.updated_at as string),
  };
}

export function userBody(row: Row): string {
  return JSON.stringify(user(row));
}

/** A page's total: exact, or a lower bound (the capped count), or unknown (count=none). */
export interface PageTotal {
  readonly total: number | null;
  readonly exact: boolean;
}

/**
 * A page of users in the reference shape `{records, page, page_size, total, total_pages}`, plus
 * `total_exact` and `next_cursor`. A page reached by cursor has no number (`page: null`).
 */
export function pageBody(rows: readonly Row[], params: ListParams, total: PageTotal, nextCursor: string | null): string {
  const page: z.infer<typeof userPageSchema> = {
    records: rows.map(user),
    page: params.cursor === undefined ? params.page : null,
    page_size: params.pageSize,
    total: total.total,
    total_pages: total.total === null ? null : Math.ceil(total.total / params.pageSize),
    total_exact: total.exact,
    next_cursor: nextCursor,
  };
  return JSON.stringify(page);
}
