// Parses the query string of GET /users (the sqlx-paginated parameter names of the reference service)
// into typed, whitelisted values. Runs on every list request, so it avoids schemas and per-call regexes; listUsersQuerySchema
// describes the same parameters for the API document.

import { z } from 'zod';
import { BadRequest } from '../errors.js';
import { isUuid, parsePositiveInteger as parseInteger } from '../http/params.js';
import { decodeCursor, type CursorKey } from './cursor.js';
import {
  DATE_COLUMNS,
  FILTER_COLUMNS,
  FILTER_KINDS,
  SEARCHABLE_COLUMNS,
  SORTABLE_COLUMNS,
  isDateColumn,
  isSearchableColumn,
  isSortableColumn,
  type DateColumn,
  type FilterColumn,
  type SearchableColumn,
  type SortableColumn,
} from './columns.js';

export interface ListParams {
  page: number;
  pageSize: number;
  sortColumn: SortableColumn;
  sortDirection: 'asc' | 'desc';
  /** `pattern` is for ILIKE: the trimmed term with \ % _ escaped by a backslash, wrapped in %. */
  search?: { pattern: string; columns: readonly SearchableColumn[] };
  dateColumn: DateColumn;
  /** Validated RFC 3339 text for a timestamptz parameter; inclusive (>=). */
  dateAfter?: string;
  /** Validated RFC 3339 text for a timestamptz parameter; inclusive (<=). */
  dateBefore?: string;
  filters: ReadonlyArray<{ column: FilterColumn; value: string | boolean }>;
  /** Keyset pagination: resume after this row (then `page` is not used). */
  cursor?: CursorKey;
  /** How `total` is computed: exact up to a cap (default), exact at any cost, or not at all. */
  count: CountMode;
}

export const COUNT_MODES = ['capped', 'exact', 'none'] as const;
export type CountMode = (typeof COUNT_MODES)[number];

const DEFAULT_PAGE_SIZE = 10;
const MAX_PAGE = 100_000;
const MAX_PAGE_SIZE = 100;
const MAX_SEARCH_LENGTH = 100;
const MAX_FILTER_TEXT_LENGTH = 50;

const PARAM_NAMES = [
  'page',
  'page_size',
  'sort_column',
  'sort_direction',
  'search',
  'search_columns',
  'date_column',
  'date_after',
  'date_before',
  'cursor',
  'count',
  ...FILTER_COLUMNS,
] as const;
type ParamName = (typeof PARAM_NAMES)[number];
type RawParams = Partial<Record<ParamName, string>>;
const paramNames: ReadonlySet<string> = new Set(PARAM_NAMES);

const LIKE_SPECIALS = /[\\%_]/g;
// `\d` without the u flag is ASCII 0-9 only, so other scripts' digits do not slip through.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;
// PostgreSQL rejects a UTC offset beyond ±15:59 ("time zone displacement out of range").
const MAX_OFFSET_HOURS = 15;

const UNKNOWN_HINT = `allowed parameters are ${PARAM_NAMES.join(', ')}`;
const SEARCH_COLUMNS_MESSAGE = 'search_columns must be a comma-separated list of distinct columns from ' + SEARCHABLE_COLUMNS.join(', ');
const TIMESTAMP_HINT =
  'an RFC 3339 date-time such as 2024-01-31T12:00:00Z or 2024-01-31T12:00:00.123456+02:00' + ' (UTC offset at most ±15:59; in a URL, + may be written %2B)';

const columnList = `(${SEARCHABLE_COLUMNS.join('|')})`;

/**
 * The query parameters parseListParams reads, for the API document: `satisfies` keeps the names equal
 * to PARAM_NAMES, and test/unit/request-schemas.test.ts holds the values to what the parser accepts.
 */
export const listUsersQuerySchema = z.object({
  page: z.int().min(1).max(MAX_PAGE).default(1).describe('page number; not with cursor'),
  page_size: z.int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  sort_column: z.enum(SORTABLE_COLUMNS).default('created_at'),
  sort_direction: z.enum(['ascending', 'descending']).default('descending'),
  search: z
    .string()
    .max(2 * MAX_SEARCH_LENGTH)
    .optional()
    .describe(`case-insensitive substring of the search columns; at most ${MAX_SEARCH_LENGTH} characters once trimmed`),
  search_columns: z
    .string()
    .regex(new RegExp(`^\\s*${columnList}\\s*(,\\s*${columnList}\\s*)*$`))
    .optional()
    .describe(`comma-separated, distinct, from ${SEARCHABLE_COLUMNS.join(', ')} (default: all)`),
  date_column: z.enum(DATE_COLUMNS).default('created_at').describe('the column date_after and date_before apply to'),
  date_after: z.string().meta({ format: 'date-time' }).optional().describe(`inclusive lower bound: ${TIMESTAMP_HINT}`),
  date_before: z.string().meta({ format: 'date-time' }).optional().describe(`inclusive upper bound: ${TIMESTAMP_HINT}`),
  cursor: z.string().optional().describe('next_cursor from the previous page (keyset pagination); its sort applies'),
  count: z.enum(COUNT_MODES).default('capped').describe('how total is computed: exact up to a cap, exact at any cost, or not at all'),
  id: z.guid().optional().describe('equality filter'),
  first_name: z.string().min(1).max(MAX_FILTER_TEXT_LENGTH).optional().describe('equality filter'),
  last_name: z.string().min(1).max(MAX_FILTER_TEXT_LENGTH).optional().describe('equality filter'),
  confirmed: z.boolean().optional().describe('equality filter'),
} satisfies Record<ParamName, z.ZodType>);

/**
 * A `+` sent unencoded in a query string arrives as a space (form encoding): `…T10:00:00 01:00` can
 * only have been `…T10:00:00+01:00`, since no valid date-time holds a space there.
 */
const SPACED_OFFSET = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?) (\d{2}:\d{2})$/;

function restorePlus(text: string): string {
  const m = SPACED_OFFSET.exec(text);
  return m === null ? text : `${m[1]}+${m[2]}`;
}

export function parseListParams(query: URLSearchParams): ListParams {
  const raw = collect(query);
  if (raw.date_after !== undefined) raw.date_after = restorePlus(raw.date_after);
  if (raw.date_before !== undefined) raw.date_before = restorePlus(raw.date_before);
  checkDateRange(raw);
  const sortColumn = raw.sort_column === undefined ? undefined : parseSortColumn(raw.sort_column);
  const sortDirection = raw.sort_direction === undefined ? undefined : parseSortDirection(raw.sort_direction);
  const cursor = raw.cursor === undefined ? undefined : parseCursor(raw, sortColumn, sortDirection);
  return {
    page: raw.page === undefined ? 1 : parseInteger('page', raw.page, MAX_PAGE),
    pageSize: raw.page_size === undefined ? DEFAULT_PAGE_SIZE : parseInteger('page_size', raw.page_size, MAX_PAGE_SIZE),
    sortColumn: cursor?.column ?? sortColumn ?? 'created_at',
    sortDirection: cursor?.direction ?? sortDirection ?? 'desc',
    search: parseSearch(raw.search, raw.search_columns),
    dateColumn: raw.date_column === undefined ? 'created_at' : parseDateColumn(raw.date_column),
    dateAfter: raw.date_after,
    dateBefore: raw.date_before,
    filters: parseFilters(raw),
    ...(cursor === undefined ? {} : { cursor }),
    count: raw.count === undefined ? 'capped' : parseCountMode(raw.count),
  };
}

/** A cursor carries its sort; the request may repeat it but not contradict it, nor ask for a page. */
function parseCursor(raw: RawParams, sortColumn: SortableColumn | undefined, sortDirection: 'asc' | 'desc' | undefined): CursorKey {
  if (raw.page !== undefined) {
    throw invalid('page', 'page cannot be combined with cursor: a cursor already says where the page starts');
  }
  const cursor = decodeCursor(raw.cursor ?? '');
  if (sortColumn !== undefined && sortColumn !== cursor.column) {
    throw invalid('sort_column', `sort_column must be ${cursor.column} (the cursor's sort) or left out`);
  }
  if (sortDirection !== undefined && sortDirection !== cursor.direction) {
    throw invalid('sort_direction', `sort_direction must be ${cursor.direction === 'asc' ? 'ascending' : 'descending'} (the cursor's sort) or left out`);
  }
  return cursor;
}

function parseCountMode(text: string): CountMode {
  if ((COUNT_MODES as readonly string[]).includes(text)) return text as CountMode;
  throw invalid('count', `count must be one of ${COUNT_MODES.join(', ')}`);
}

function invalid(field: string, message: string): BadRequest {
  return new BadRequest('invalid_parameter', message, field);
}

/** One pass over the query: every name known, none repeated, no NUL (PostgreSQL text cannot hold it). */
function collect(query: URLSearchParams): RawParams {
  const raw: RawParams = {};
  for (const [name, value] of query) {
    if (!paramNames.has(name)) {
      throw new BadRequest('unknown_parameter', `unknown query parameter ${JSON.stringify(name)}; ${UNKNOWN_HINT}`, name);
    }
    const known = name as ParamName;
    if (raw[known] !== undefined) {
      throw new BadRequest('duplicate_parameter', `${name} must be given at most once`, name);
    }
    if (value.includes('\0')) {
      throw invalid(name, `${name} must not contain the NUL character (U+0000)`);
    }
    raw[known] = value;
  }
  return raw;
}

function parseSortColumn(text: string): SortableColumn {
  if (!isSortableColumn(text)) {
    throw invalid('sort_column', `sort_column must be one of ${SORTABLE_COLUMNS.join(', ')}`);
  }
  return text;
}

function parseSortDirection(text: string): 'asc' | 'desc' {
  if (text === 'ascending') return 'asc';
  if (text === 'descending') return 'desc';
  throw invalid('sort_direction', 'sort_direction must be ascending or descending');
}

function parseDateColumn(text: string): DateColumn {
  if (!isDateColumn(text)) {
    throw invalid('date_column', `date_column must be one of ${DATE_COLUMNS.join(', ')}`);
  }
  return text;
}

/** search_columns is validated even without a search term, so a typo there is still reported. */
function parseSearch(term: string | undefined, columnList: string | undefined): ListParams['search'] {
  const columns = columnList === undefined ? SEARCHABLE_COLUMNS : parseSearchColumns(columnList);
  const trimmed = term?.trim();
  if (trimmed === undefined || trimmed.length === 0) return undefined;
  if (!hasAtMostCodePoints(trimmed, MAX_SEARCH_LENGTH)) {
    throw invalid('search', `search must be at most ${MAX_SEARCH_LENGTH} characters`);
  }
  return { pattern: `%${trimmed.replace(LIKE_SPECIALS, '\\$&')}%`, columns };
}

function parseSearchColumns(text: string): SearchableColumn[] {
  const columns: SearchableColumn[] = [];
  for (const part of text.split(',')) {
    const name = part.trim();
    if (!isSearchableColumn(name) || columns.includes(name)) {
      throw invalid('search_columns', SEARCH_COLUMNS_MESSAGE);
    }
    columns.push(name);
  }
  return columns;
}

function checkDateRange(raw: RawParams): void {
  const after = parseInstant('date_after', raw.date_after);
  const before = parseInstant('date_before', raw.date_before);
  if (after === undefined || before === undefined) return;
  const later = after.seconds > before.seconds || (after.seconds === before.seconds && after.nanos > before.nanos);
  if (later) {
    throw invalid('date_after', 'date_after must not be later than date_before');
  }
}

interface Instant {
  seconds: number;
  nanos: number;
}

/** Strict RFC 3339 with a real calendar date; nanosecond precision so the range check is exact. */
function parseInstant(name: string, text: string | undefined): Instant | undefined {
  if (text === undefined) return undefined;
  const m = RFC3339.exec(text);
  const instant = m === null ? undefined : toInstant(m);
  if (instant === undefined) throw invalid(name, `${name} must be ${TIMESTAMP_HINT}`);
  return instant;
}

function toInstant(m: RegExpExecArray): Instant | undefined {
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  const offsetHours = Number(m[9] ?? 0);
  const offsetMinutes = Number(m[10] ?? 0);
  // Year 0 passes RFC 3339 but PostgreSQL has none (1 BC precedes 1 AD) and would fail with a 500.
  // A leap second (:60) is rejected too: PostgreSQL would silently roll it into the next minute.
  const valid =
    year >= 1 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offsetHours <= MAX_OFFSET_HOURS &&
    offsetMinutes <= 59;
  if (!valid) return undefined;
  const offset = (offsetHours * 3600 + offsetMinutes * 60) * (m[8] === '-' ? -1 : 1);
  const local = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  return { seconds: local - offset, nanos: Number((m[7] ?? '').padEnd(9, '0')) };
}

function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
}

/**
 * Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's days_from_civil). Not
 * Date.UTC: it maps years 0-99 to 1900-1999 and would misorder dates in years 1-99.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

function parseFilters(raw: RawParams): ListParams['filters'] {
  const filters: Array<{ column: FilterColumn; value: string | boolean }> = [];
  for (const column of FILTER_COLUMNS) {
    const text = raw[column];
    if (text !== undefined) filters.push({ column, value: parseFilterValue(column, text) });
  }
  return filters;
}

function parseFilterValue(column: FilterColumn, text: string): string | boolean {
  switch (FILTER_KINDS[column]) {
    case 'uuid':
      if (!isUuid(text)) {
        throw invalid(column, `${column} must be a UUID like 123e4567-e89b-12d3-a456-426614174000`);
      }
      return text;
    case 'boolean':
      if (text === 'true') return true;
      if (text === 'false') return false;
      throw invalid(column, `${column} must be true or false`);
    case 'text':
      if (text.length === 0 || !hasAtMostCodePoints(text, MAX_FILTER_TEXT_LENGTH)) {
        throw invalid(column, `${column} must be 1 to ${MAX_FILTER_TEXT_LENGTH} characters`);
      }
      return text;
  }
}

/** Counts code points (an emoji is one), walking the string only when its UTF-16 length leaves doubt. */
function hasAtMostCodePoints(text: string, max: number): boolean {
  if (text.length <= max) return true;
  if (text.length > 2 * max) return false;
  let count = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count <= max;
}
