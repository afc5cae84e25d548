import { describe, expect, it } from 'vitest';
import { parseIdempotencyKey, requestFingerprint } from '../../src/idempotency/key.js';

describe('parseIdempotencyKey', () => {
  it('absent is no key; visible ASCII up to 255 is the key as sent', () => {
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
    expect(parseIdempotencyKey('9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d')).toBe('9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d');
    expect(parseIdempotencyKey('~'.repeat(255))).toHaveLength(255);
  });

  it.each(['', ' ', 'a b', 'x'.repeat(256), 'é', 'a\tb'])('%j is refused, naming the header', (key) => {
    expect(() => parseIdempotencyKey(key)).toThrow(expect.objectContaining({ code: 'invalid_idempotency_key', field: 'Idempotency-Key' }));
  });
});

describe('requestFingerprint', () => {
  it('does not depend on field order, but on the operation and every value', () => {
    const base = requestFingerprint('create-user', { first_name: 'A', last_name: 'B' });
    expect(requestFingerprint('create-user', { last_name: 'B', first_name: 'A' })).toBe(base);
    expect(requestFingerprint('create-user', { first_name: 'A', last_name: 'C' })).not.toBe(base);
    expect(requestFingerprint('update-user x', { first_name: 'A', last_name: 'B' })).not.toBe(base);
    expect(requestFingerprint('update-user x', { confirmed: null })).not.toBe(requestFingerprint('update-user x', { confirmed: false }));
  });
});
