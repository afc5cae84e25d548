// Keyset pagination cursors: an opaque, URL-safe token naming the sort and the last row a page showed,
// so the next page is an index seek (`(column, id) < (value, id)`) and costs the same at any depth.
// Not signed: it only says where to resume; every value in it is validated here and reaches SQL as a
// bind parameter, and the tenant comes from the request, never from the cursor.
import { BadRequest } from '../errors.js';
import { isUuid } from '../http/params.js';
import { isSortableColumn, type SortableColumn } from './columns.js';

export interface CursorKey {
  readonly column: SortableColumn;
  readonly direction: 'asc' | 'desc';
  /** The sort column's value in the last row: text (timestamps as PostgreSQL's UTC text), or a boolean. */
  readonly value: string | boolean;
  readonly id: string;
}

const VERSION = 1;
const MAX_CURSOR_LENGTH = 512;
// created_at::text in the ISO DateStyle with TimeZone UTC, as the list statement returns it.
const PG_UTC_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?\+00$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify([VERSION, key.column, key.direction, key.value, key.id])).toString('base64url');
}

export function decodeCursor(text: string): CursorKey {
  if (text.length === 0 || text.length > MAX_CURSOR_LENGTH || !BASE64URL.test(text)) throw invalidCursor();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(decoded) || decoded.length !== 5) throw invalidCursor();
  const [version, column, direction, value, id] = decoded as unknown[];
  if (version !== VERSION || typeof column !== 'string' || !isSortableColumn(column)) throw invalidCursor();
  if (direction !== 'asc' && direction !== 'desc') throw invalidCursor();
  if (typeof id !== 'string' || !isUuid(id) || !validValue(column, value)) throw invalidCursor();
  return { column, direction, value, id };
}

function validValue(column: SortableColumn, value: unknown): value is string | boolean {
  switch (column) {
    case 'confirmed':
      return typeof value === 'boolean';
    case 'id':
      return typeof value === 'string' && isUuid(value);
    case 'created_at':
    case 'updated_at':
      return typeof value === 'string' && PG_UTC_TIMESTAMP.test(value);
    case 'first_name':
    case 'last_name':
      return typeof value === 'string' && value.length >= 1 && value.length <= 100 && !value.includes('\0');
  }
}

function invalidCursor(): BadRequest {
  return new BadRequest('invalid_parameter', 'cursor must be a next_cursor value returned by this endpoint, unchanged', 'cursor');
}
