import { describe, expect, it } from 'vitest';
import { BadRequest } from '../../src/errors.js';
import { parseUpdateUser } from '../../src/users/update-input.js';

const fails = (body: unknown): BadRequest => {
  try {
    parseUpdateUser(body);
  } catch (err) {
    if (err instanceof BadRequest) return err;
    throw err;
  }
  throw new Error('expected a BadRequest');
};

describe('parseUpdateUser', () => {
  it('takes any non-empty subset of first_name, last_name, confirmed', () => {
    expect(parseUpdateUser({ confirmed: false })).toEqual({ confirmed: false });
    expect(parseUpdateUser({ first_name: 'Ada', last_name: 'L' })).toEqual({ firstName: 'Ada', lastName: 'L' });
    expect(parseUpdateUser({ first_name: '😀'.repeat(50) })).toEqual({ firstName: '😀'.repeat(50) });
  });

  it.each([
    [{}, 'invalid_body', 'body'],
    [null, 'invalid_body', 'body'],
    ['x', 'invalid_body', 'body'],
    [{ confirmed: 1 }, 'invalid_field', 'confirmed'],
    [{ first_name: 5 }, 'invalid_field', 'first_name'],
    [{ first_name: '' }, 'invalid_field', 'first_name'],
    [{ last_name: '😀'.repeat(51) }, 'invalid_field', 'last_name'],
    [{ last_name: '\ud800' }, 'invalid_field', 'last_name'],
    [{ updated_at: 'now' }, 'unknown_field', 'updated_at'],
  ])('%j is %s naming %s', (body, code, field) => {
    const err = fails(body);
    expect(err.code).toBe(code);
    expect(err.field).toBe(field);
  });

  it('reads own properties only', () => {
    const body = Object.create({ confirmed: true }) as object;
    expect(fails(body).code).toBe('invalid_body');
  });
});
