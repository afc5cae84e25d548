import { describe, expect, it } from 'vitest';
import { BadRequest } from '../../src/errors.js';
import { parseTenantListParams } from '../../src/tenants/list-input.js';

describe('parseTenantListParams', () => {
  it('defaults: page 1 of 50, oldest first, no filter', () => {
    expect(parseTenantListParams({})).toEqual({ page: 1, pageSize: 50, sortColumn: 'created_at', sortDirection: 'asc' });
  });

  it('escapes LIKE specials and trims the search', () => {
    expect(parseTenantListParams({ search: [' a%b_c\\ '] }).searchPattern).toBe('%a\\%b\\_c\\\\%');
    expect(parseTenantListParams({ search: ['   '] }).searchPattern).toBeUndefined();
  });

  it('reads status and sort', () => {
    expect(parseTenantListParams({ status: ['suspended'], sort_column: ['name'], sort_direction: ['descending'] })).toMatchObject({
      status: 'suspended',
      sortColumn: 'name',
      sortDirection: 'desc',
    });
  });

  it.each([
    [{ status: ['paused'] }, 'invalid_parameter', 'status'],
    [{ sort_column: ['db_user'] }, 'invalid_parameter', 'sort_column'],
    [{ sort_direction: ['asc'] }, 'invalid_parameter', 'sort_direction'],
    [{ search: ['x'.repeat(101)] }, 'invalid_parameter', 'search'],
    [{ page: ['0'] }, 'invalid_parameter', 'page'],
    [{ status: ['active', 'active'] }, 'duplicate_parameter', 'status'],
    [{ q: ['x'] }, 'unknown_parameter', 'q'],
  ])('%j is %s naming %s', (query, code, field) => {
    let caught: unknown;
    try {
      parseTenantListParams(query);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(BadRequest);
    expect(caught).toMatchObject({ code, field });
  });
});
