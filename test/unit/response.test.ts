import { describe, expect, it } from 'vitest';
import { parseListParams } from '../../src/users/list-params.js';
import { pageBody, rfc3339, userBody } from '../../src/users/response.js';

describe('rfc3339', () => {
  it.each([
    ['2026-11-24 17:22:53.182131+00', '2026-11-24T17:22:53.182131Z'],
    ['2026-11-24 17:22:53.1821+00', '2026-11-24T17:22:53.182100Z'],
    ['2026-11-24 17:22:53.1+00', '2026-11-24T17:22:53.100000Z'],
    ['2026-11-24 17:22:53+00', '2026-11-24T17:22:53.000000Z'],
  ])('%s → %s (six fractional digits, always)', (text, expected) => {
    expect(rfc3339(text)).toBe(expected);
  });

  it.each(['2026-11-24 17:22:53.182131+02', '2026-11-24T17:22:53Z', 'Tue Nov 24 17:22:53 2026'])('refuses %s (not UTC ISO text)', (text) => {
    expect(() => rfc3339(text)).toThrow();
  });
});

describe('response bodies', () => {
  const row = {
    id: 'a',
    first_name: 'Ada',
    last_name: 'Lovelace',
    confirmed: false,
    created_at: '2026-01-02 03:04:05.6+00',
    updated_at: '2026-01-02 03:04:05.6+00',
    total: '21',
  };

  it('writes a user with exactly the public fields, in order, never tenant_id or total', () => {
    expect(userBody({ ...row, tenant_id: 'x' } as never)).toBe(
      '{"id":"a","first_name":"Ada","last_name":"Lovelace","confirmed":false,"created_at":"2026-01-02T03:04:05.600000Z","updated_at":"2026-01-02T03:04:05.600000Z"}',
    );
  });

  it('writes a page with its total and page count, then total_exact and next_cursor', () => {
    const body = JSON.parse(pageBody([row as never], parseListParams(new URLSearchParams('page=3&page_size=10')), { total: 21, exact: true }, 'abc'));
    expect(body).toMatchObject({ page: 3, page_size: 10, total: 21, total_pages: 3, total_exact: true, next_cursor: 'abc' });
    expect(body.records).toHaveLength(1);
    expect(Object.keys(body)).toEqual(['records', 'page', 'page_size', 'total', 'total_pages', 'total_exact', 'next_cursor']);
  });

  it('writes an unknown total as null with no page count, and a capped one as a lower bound', () => {
    const params = parseListParams(new URLSearchParams('count=none'));
    expect(JSON.parse(pageBody([], params, { total: null, exact: false }, null))).toMatchObject({
      total: null,
      total_pages: null,
      total_exact: false,
      next_cursor: null,
    });
    const capped = JSON.parse(pageBody([], parseListParams(new URLSearchParams('')), { total: 1000, exact: false }, null));
    expect(capped).toMatchObject({ total: 1000, total_pages: 100, total_exact: false });
  });
});
