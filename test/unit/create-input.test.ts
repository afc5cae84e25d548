// Proves the POST /users body validation: required names, their limits, and unknown fields refused.

import { describe, it, expect } from 'vitest';
import { BadRequest } from '../../src/errors.js';
import { parseCreateUser } from '../../src/users/create-input.js';

function rejection(body: unknown): BadRequest {
  try {
    parseCreateUser(body);
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequest);
    return error as BadRequest;
  }
  throw new Error(`expected ${JSON.stringify(body)} to be rejected`);
}

function expectInvalidField(body: unknown, field: string, message: string): void {
  const error = rejection(body);
  expect(error.code).toBe('invalid_field');
  expect(error.field).toBe(field);
  expect(error.status).toBe(400);
  expect(error.message).toBe(message);
}

describe('parseCreateUser', () => {
  it('returns the names exactly as given, untrimmed', () => {
    expect(parseCreateUser({ first_name: ' Ann ', last_name: 'Lee' })).toEqual({
      firstName: ' Ann ',
      lastName: 'Lee',
    });
  });

  it('accepts SQL-looking names as plain data', () => {
    const lastName = "Robert'); DROP TABLE users;--";
    expect(parseCreateUser({ first_name: 'Bobby', last_name: lastName }).lastName).toBe(lastName);
  });

  it.each([null, [], [{ first_name: 'a', last_name: 'b' }], 'text', 42, true, undefined])('rejects body %j that is not a JSON object', (body) => {
    const error = rejection(body);
    expect(error.code).toBe('invalid_body');
    expect(error.message).toBe('request body must be a JSON object');
  });

  it.each(['tenant_id', 'id', 'confirmed', 'created_at', 'firstName', '__proto__'])('rejects unknown field %s rather than ignoring it', (field) => {
    const body = JSON.parse(`{"first_name":"a","last_name":"b",${JSON.stringify(field)}:"x"}`);
    const error = rejection(body);
    expect(error.code).toBe('unknown_field');
    expect(error.field).toBe(field);
    expect(error.message).toBe(`unknown field ${JSON.stringify(field)}; allowed fields are first_name, last_name`);
  });

  it('requires first_name and last_name', () => {
    const message = 'first_name is required';
    expectInvalidField({ last_name: 'b' }, 'first_name', message);
    expectInvalidField({ first_name: null, last_name: 'b' }, 'first_name', message);
    expectInvalidField({ first_name: 'a' }, 'last_name', 'last_name is required');
    expectInvalidField({}, 'first_name', 'first_name is required');
  });

  it('ignores inherited properties: a name must be the request’s own', () => {
    const body: object = Object.create({ first_name: 'a' });
    Object.assign(body, { last_name: 'b' });
    expectInvalidField(body, 'first_name', 'first_name is required');
  });

  it.each([1, true, ['a'], { value: 'a' }])('rejects a non-string first_name %j', (value) => {
    const message = 'first_name must be a string';
    expectInvalidField({ first_name: value, last_name: 'b' }, 'first_name', message);
  });

  it('accepts 1 and 50 characters, rejects 0 and 51', () => {
    const message = 'last_name must be 1 to 50 characters';
    expect(parseCreateUser({ first_name: 'a', last_name: 'b' }).lastName).toBe('b');
    const fifty = 'b'.repeat(50);
    expect(parseCreateUser({ first_name: 'a', last_name: fifty }).lastName).toBe(fifty);
    expectInvalidField({ first_name: 'a', last_name: '' }, 'last_name', message);
    expectInvalidField({ first_name: 'a', last_name: 'b'.repeat(51) }, 'last_name', message);
    expectInvalidField({ first_name: 'a', last_name: 'b'.repeat(100_000) }, 'last_name', message);
  });

  it('counts an emoji as one character', () => {
    const fifty = '😀'.repeat(50);
    expect(parseCreateUser({ first_name: fifty, last_name: 'b' }).firstName).toBe(fifty);
    expectInvalidField({ first_name: `${fifty}😀`, last_name: 'b' }, 'first_name', 'first_name must be 1 to 50 characters');
  });

  it('counts combining marks as characters of their own', () => {
    const decomposed = 'e\u0301'; // é as two code points
    expect(parseCreateUser({ first_name: decomposed.repeat(25), last_name: 'b' }).firstName).toBe(decomposed.repeat(25));
    expectInvalidField({ first_name: `${decomposed.repeat(25)}e`, last_name: 'b' }, 'first_name', 'first_name must be 1 to 50 characters');
  });

  it.each([' ', '   ', '\u00a0', '\u3000'])('rejects a blank first_name %j', (value) => {
    const message = 'first_name must not be blank';
    expectInvalidField({ first_name: value, last_name: 'b' }, 'first_name', message);
  });

  it.each(['\u0000', 'a\u0000b', 'a\tb', 'a\nb', 'a\rb', '\u001f', 'a\u007f'])('rejects control characters in first_name %j', (value) => {
    expectInvalidField({ first_name: value, last_name: 'b' }, 'first_name', 'first_name must not contain control characters (U+0000 to U+001F, U+007F)');
  });

  it.each(['\ud83d', 'a\ude00', '\ude00\ud83d'])('rejects a lone surrogate %j', (value) => {
    expectInvalidField({ first_name: 'a', last_name: value }, 'last_name', 'last_name must be valid Unicode text');
  });
});
