// Proves the GET /users query parser: defaults, each rule at its boundaries, and the errors raised.

import { describe, it, expect } from 'vitest';
import { BadRequest } from '../../src/errors.js';
import { parseListParams, type ListParams } from '../../src/users/list-params.js';

function parse(query: string | Record<string, string>): ListParams {
  return parseListParams(new URLSearchParams(query));
}

function rejection(query: string | Record<string, string>): BadRequest {
  try {
    parse(query);
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequest);
    return error as BadRequest;
  }
  throw new Error(`expected ${JSON.stringify(query)} to be rejected`);
}

function expectInvalid(query: string | Record<string, string>, field: string, message?: string) {
  const error = rejection(query);
  expect(error.code).toBe('invalid_parameter');
  expect(error.field).toBe(field);
  expect(error.status).toBe(400);
  if (message !== undefined) expect(error.message).toBe(message);
  return error;
}

describe('parseListParams defaults', () => {
  it('an empty query yields page 1 of 10, newest created first, no search, no filters', () => {
    expect(parse('')).toEqual({
      page: 1,
      pageSize: 10,
      sortColumn: 'created_at',
      sortDirection: 'desc',
      search: undefined,
      dateColumn: 'created_at',
      dateAfter: undefined,
      dateBefore: undefined,
      filters: [],
      count: 'capped',
    });
  });
});

describe('page and page_size', () => {
  const pageSizeMessage = 'page_size must be an integer from 1 to 100';

  it.each([
    ['1', 1],
    ['100', 100],
    ['01', 1],
    ['0000000000000000000000000000050', 50],
  ])('accepts page_size %s as %d', (text, expected) => {
    expect(parse({ page_size: text }).pageSize).toBe(expected);
  });

  it.each(['0', '101', '-1', '+1', '1.5', '1e2', '0x10', ' 1', '1 ', '', 'ten', '１', '٣'])('rejects page_size %j', (text) => {
    expectInvalid({ page_size: text }, 'page_size', pageSizeMessage);
  });

  it('rejects a 400-digit page_size as out of range rather than overflowing', () => {
    expectInvalid({ page_size: '9'.repeat(400) }, 'page_size', pageSizeMessage);
    expectInvalid({ page_size: '1'.repeat(400) }, 'page_size', pageSizeMessage);
  });

  it('accepts page from 1 to 100000', () => {
    expect(parse({ page: '1' }).page).toBe(1);
    expect(parse({ page: '01' }).page).toBe(1);
    expect(parse({ page: '100000' }).page).toBe(100_000);
  });

  it.each(['0', '100001', '-1', '1.5', '1e2', '9'.repeat(400), '9007199254740993'])('rejects page %j', (text) => {
    expectInvalid({ page: text }, 'page', 'page must be an integer from 1 to 100000');
  });
});

describe('sorting', () => {
  it.each(['id', 'first_name', 'last_name', 'confirmed', 'created_at', 'updated_at'])('accepts sort_column %s', (column) => {
    expect(parse({ sort_column: column }).sortColumn).toBe(column);
  });

  it.each(['id; DROP TABLE users', 'ID', 'tenant_id', 'password', '"id"', 'constructor', ''])('rejects sort_column %j outside the whitelist', (column) => {
    const error = expectInvalid({ sort_column: column }, 'sort_column');
    expect(error.message).toBe('sort_column must be one of id, first_name, last_name, confirmed, created_at, updated_at');
  });

  it('maps ascending and descending to asc and desc', () => {
    expect(parse({ sort_direction: 'ascending' }).sortDirection).toBe('asc');
    expect(parse({ sort_direction: 'descending' }).sortDirection).toBe('desc');
  });

  it.each(['asc', 'desc', 'ASCENDING', 'Descending', ' ascending', ''])('rejects sort_direction %j', (direction) => {
    expectInvalid({ sort_direction: direction }, 'sort_direction', 'sort_direction must be ascending or descending');
  });
});

describe('search', () => {
  it('searches every searchable column by default with a trimmed contains pattern', () => {
    expect(parse({ search: '  ann ' }).search).toEqual({
      pattern: '%ann%',
      columns: ['first_name', 'last_name'],
    });
  });

  it('escapes the LIKE wildcards % and _ and the escape character itself', () => {
    expect(parse({ search: '50%_off\\' }).search?.pattern).toBe('%50\\%\\_off\\\\%');
    expect(parse({ search: '%' }).search?.pattern).toBe('%\\%%');
  });

  it('treats SQL-looking text as plain data to match', () => {
    expect(parse({ search: "'; DROP TABLE users; --" }).search?.pattern).toBe("%'; DROP TABLE users; --%");
    expect(parse({ search: "' OR 1=1 --" }).search?.pattern).toBe("%' OR 1=1 --%");
  });

  it.each(['', ' ', '\t\n ', '\u00a0\u3000'])('treats search %j as no search', (term) => {
    expect(parse({ search: term }).search).toBeUndefined();
  });

  it('counts code points: 100 emoji are accepted, 101 rejected', () => {
    expect(parse({ search: '😀'.repeat(100) }).search?.pattern).toBe(`%${'😀'.repeat(100)}%`);
    expectInvalid({ search: '😀'.repeat(101) }, 'search', 'search must be at most 100 characters');
  });

  it('counts a combining mark as a character of its own', () => {
    const decomposed = 'e\u0301'; // é as two code points
    expect(parse({ search: decomposed.repeat(50) }).search).toBeDefined();
    expectInvalid({ search: `${decomposed.repeat(50)}x` }, 'search');
  });

  it('applies the limit to the trimmed term', () => {
    expect(parse({ search: ` ${'a'.repeat(100)} ` }).search).toBeDefined();
    expectInvalid({ search: 'a'.repeat(101) }, 'search');
  });

  it('restricts the search to the listed columns, tolerating spaces around names', () => {
    expect(parse({ search: 'x', search_columns: ' last_name ' }).search?.columns).toEqual(['last_name']);
    expect(parse({ search: 'x', search_columns: 'last_name, first_name' }).search?.columns).toEqual(['last_name', 'first_name']);
  });

  it.each(['', ' ', 'first_name,', 'first_name,first_name', 'id', 'first_name;last_name'])('rejects search_columns %j', (list) => {
    expectInvalid(
      { search: 'x', search_columns: list },
      'search_columns',
      'search_columns must be a comma-separated list of distinct columns from first_name, last_name',
    );
  });

  it('validates search_columns even when there is no search term', () => {
    expectInvalid({ search_columns: 'frist_name' }, 'search_columns');
  });
});

describe('date range', () => {
  it('defaults the date column and passes timestamps on as given', () => {
    const params = parse({
      date_column: 'updated_at',
      date_after: '2024-01-31T12:00:00.123456Z',
      date_before: '2024-02-01T00:00:00+02:00',
    });
    expect(params.dateColumn).toBe('updated_at');
    expect(params.dateAfter).toBe('2024-01-31T12:00:00.123456Z');
    expect(params.dateBefore).toBe('2024-02-01T00:00:00+02:00');
  });

  it.each(['id', 'deleted_at', 'CREATED_AT', ''])('rejects date_column %j', (column) => {
    expectInvalid({ date_column: column }, 'date_column', 'date_column must be one of created_at, updated_at');
  });

  it.each([
    '2024-02-29T00:00:00Z',
    '2023-12-31T23:59:59.999999999Z',
    '2024-01-31t12:00:00z',
    '2024-01-31T12:00:00-00:00',
    '2024-01-31T12:00:00+15:59',
    '0001-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
  ])('accepts date_after %s', (text) => {
    expect(parse({ date_after: text }).dateAfter).toBe(text);
  });

  it.each([
    '2023-02-29T00:00:00Z', // not a leap year
    '2024-02-30T00:00:00Z',
    '2024-04-31T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-00-10T00:00:00Z',
    '2024-01-00T00:00:00Z',
    '2024-01-01T24:00:00Z',
    '2024-01-01T23:60:00Z',
    '2024-01-01T23:59:60Z', // leap second
    '0000-01-01T00:00:00Z', // PostgreSQL has no year 0
    '2024-01-01T00:00:00+16:00', // beyond PostgreSQL's offset range
    '2024-01-01T00:00:00+01:60',
    '2024-01-01T00:00:00', // no offset
    '2024-01-01 00:00:00Z',
    '2024-01-01',
    '2024-1-01T00:00:00Z',
    '2024-01-01T00:00:00.Z',
    '2024-01-01T00:00:00.1234567890Z',
    '2024-01-01T00:00:00+0100',
    '2024-01-01T00:00:00Z ',
    '+12024-01-01T00:00:00Z',
    '1704067200',
    "2024-01-01T00:00:00Z'; DROP TABLE users; --",
    '',
  ])('rejects date_after %j', (text) => {
    const error = expectInvalid({ date_after: text }, 'date_after');
    expect(error.message).toMatch(/^date_after must be an RFC 3339 date-time/);
  });

  it('reads a + that arrived as a space (sent unencoded in the query string) as the offset sign', () => {
    // As a browser or curl sends it: the query string's + decodes to a space.
    expect(parse('date_after=2026-01-01T10:00:00+01:00&date_before=2026-01-02T10:00:00.5+01:00')).toMatchObject({
      dateAfter: '2026-01-01T10:00:00+01:00',
      dateBefore: '2026-01-02T10:00:00.5+01:00',
    });
    // Encoded, as before; and the error message's own example, pasted into a URL, now works.
    expect(parse('date_after=2026-01-01T10:00:00%2B01:00').dateAfter).toBe('2026-01-01T10:00:00+01:00');
    expect(parse('date_after=2024-01-31T12:00:00.123456+02:00').dateAfter).toBe('2024-01-31T12:00:00.123456+02:00');
    // Only there: a space anywhere else is still an error.
    expectInvalid({ date_after: '2026-01-01 10:00:00+01:00' }, 'date_after');
    expectInvalid({ date_after: '2026-01-01T10:00:00 1:00' }, 'date_after');
  });

  it('names date_before when it is malformed', () => {
    expectInvalid({ date_before: 'yesterday' }, 'date_before');
  });

  it('accepts an equal range, both bounds being inclusive', () => {
    const at = '2024-01-01T00:00:00.000001Z';
    expect(parse({ date_after: at, date_before: at })).toMatchObject({
      dateAfter: at,
      dateBefore: at,
    });
  });

  it('rejects date_after later than date_before, naming date_after', () => {
    const message = 'date_after must not be later than date_before';
    expectInvalid({ date_after: '2024-01-02T00:00:00Z', date_before: '2024-01-01T00:00:00Z' }, 'date_after', message);
    // Differs only below the millisecond, which Date.parse would not see.
    expectInvalid({ date_after: '2024-01-01T00:00:00.0000002Z', date_before: '2024-01-01T00:00:00.0000001Z' }, 'date_after', message);
  });

  it('compares instants, not text, across UTC offsets and early years', () => {
    // 01:00+02:00 is 23:00Z the day before, so this range is valid although the text sorts wrongly.
    expect(parse({ date_after: '2024-01-02T01:00:00+02:00', date_before: '2024-01-01T23:30:00Z' }).dateAfter).toBe('2024-01-02T01:00:00+02:00');
    expectInvalid({ date_after: '2024-01-01T23:30:00Z', date_before: '2024-01-02T01:00:00+02:00' }, 'date_after');
    expectInvalid({ date_after: '0050-01-01T00:00:00Z', date_before: '0049-12-31T00:00:00Z' }, 'date_after');
  });
});

describe('equality filters', () => {
  it('collects filters typed by column', () => {
    const params = parse({
      confirmed: 'true',
      first_name: 'Ann',
      id: '123E4567-E89B-12D3-A456-426614174000',
      last_name: "O'Brien",
    });
    expect(params.filters).toEqual([
      { column: 'id', value: '123E4567-E89B-12D3-A456-426614174000' },
      { column: 'first_name', value: 'Ann' },
      { column: 'last_name', value: "O'Brien" },
      { column: 'confirmed', value: true },
    ]);
    expect(parse({ confirmed: 'false' }).filters).toEqual([{ column: 'confirmed', value: false }]);
  });

  it.each(['00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '01890a5d-ac96-774b-bcce-b302099a8057'])(
    'accepts id %s of any version',
    (id) => {
      expect(parse({ id }).filters).toEqual([{ column: 'id', value: id }]);
    },
  );

  it.each([
    '123e4567e89b12d3a456426614174000',
    '{123e4567-e89b-12d3-a456-426614174000}',
    '123e4567-e89b-12d3-a456-42661417400',
    '123e4567-e89b-12d3-a456-4266141740000',
    '123e4567-e89b-12d3-a456-42661417400g',
    "1' OR '1'='1",
    '',
  ])('rejects id %j', (id) => {
    expectInvalid({ id }, 'id', 'id must be a UUID like 123e4567-e89b-12d3-a456-426614174000');
  });

  it.each(['TRUE', 'True', '1', 't', 'yes', ''])('rejects confirmed %j', (value) => {
    expectInvalid({ confirmed: value }, 'confirmed', 'confirmed must be true or false');
  });

  it('accepts first_name of 1 to 50 code points, emoji counting as one', () => {
    expect(parse({ first_name: 'A' }).filters).toEqual([{ column: 'first_name', value: 'A' }]);
    expect(parse({ first_name: '😀'.repeat(50) }).filters).toHaveLength(1);
    expect(parse({ last_name: "Robert'); DROP TABLE users;--" }).filters).toEqual([{ column: 'last_name', value: "Robert'); DROP TABLE users;--" }]);
  });

  it.each([
    ['first_name', ''],
    ['first_name', 'a'.repeat(51)],
    ['last_name', '😀'.repeat(51)],
  ])('rejects %s %j', (column, value) => {
    expectInvalid({ [column]: value }, column, `${column} must be 1 to 50 characters`);
  });
});

describe('parameter names and NUL', () => {
  it.each(['pagesize', 'PAGE', 'sort', 'sortColumn', 'tenant_id', 'email', ''])('rejects unknown parameter %j, naming it', (name) => {
    const error = rejection({ [name]: '1' });
    expect(error.code).toBe('unknown_parameter');
    expect(error.field).toBe(name);
    expect(error.message).toContain(`unknown query parameter ${JSON.stringify(name)}`);
    expect(error.message).toContain('page_size');
  });

  it.each(['page', 'search', 'id', 'confirmed'])('rejects %s given twice', (name) => {
    const error = rejection(`${name}=1&${name}=1`);
    expect(error.code).toBe('duplicate_parameter');
    expect(error.field).toBe(name);
    expect(error.message).toBe(`${name} must be given at most once`);
  });

  it.each([
    ['search', 'a\u0000b'],
    ['first_name', '\u0000'],
    ['sort_column', 'id\u0000'],
    ['date_after', '2024-01-01T00:00:00Z\u0000'],
  ])('rejects NUL in %s before it can reach PostgreSQL', (name, value) => {
    expectInvalid({ [name]: value }, name, `${name} must not contain the NUL character (U+0000)`);
  });

  it('rejects a percent-encoded NUL', () => {
    expectInvalid('search=%00', 'search');
  });
});
