// The master-key ring (CREDENTIALS_KEYS, newest first): what it seals, what it can still open, what it
// refuses, and that its parse errors never repeat key material.
import { describe, expect, it } from 'vitest';
import { CredentialError, CredentialKeyError, openCredential, parseCredentialsKey, sealCredential } from '../../src/crypto/credentials.js';
import { parseKeyRing, singleKeyRing, type KeyRing } from '../../src/crypto/key-ring.js';

// Fixed, distinct keys (digits and letters mixed, so an 8-character window never looks like English).
const HEX_A = '0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9';
const HEX_B = '9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0';
const HEX_C = '13579bdf02468ace13579bdf02468ace13579bdf02468ace13579bdf02468ace';
const KEY_A = parseCredentialsKey(HEX_A);
const KEY_B = parseCredentialsKey(HEX_B);
const KEY_C = parseCredentialsKey(HEX_C);
const RING = parseKeyRing(`k2:${HEX_B},k1:${HEX_A}`);
const PLAINTEXT = 'role-password-Zq8#ü';

function openFailure(ring: KeyRing, sealed: string): CredentialError {
  try {
    ring.open(sealed);
  } catch (error) {
    expect(error).toBeInstanceOf(CredentialError);
    return error as CredentialError;
  }
  throw new Error('open returned instead of throwing');
}

function parseFailure(spec: string): CredentialKeyError {
  try {
    parseKeyRing(spec);
  } catch (error) {
    expect(error).toBeInstanceOf(CredentialKeyError);
    return error as CredentialKeyError;
  }
  throw new Error('parseKeyRing returned instead of throwing');
}

/** True when `text` contains any 8-character run of `secret` (either case). */
function leaks(text: string, secret: string): boolean {
  const haystack = text.toLowerCase();
  for (let i = 0; i + 8 <= secret.length; i++) {
    if (haystack.includes(secret.slice(i, i + 8).toLowerCase())) return true;
  }
  return false;
}

function flipLastHexDigit(sealed: string): string {
  const last = sealed.at(-1);
  return sealed.slice(0, -1) + (last === '0' ? '1' : '0');
}

describe('parseKeyRing', () => {
  it('seals under the first (newest) key, tagged with its id', () => {
    const sealed = RING.seal(PLAINTEXT);
    expect(RING.currentId).toBe('k2');
    expect(sealed).toMatch(/^k2\$[0-9a-f]+$/);
    // The part after the tag is the reference format, under key k2 alone.
    expect(openCredential(sealed.slice(3), KEY_B)).toBe(PLAINTEXT);
    expect(() => openCredential(sealed.slice(3), KEY_A)).toThrow(CredentialError);
    expect(RING.open(sealed)).toBe(PLAINTEXT);
  });

  it('uses a fresh nonce for every seal', () => {
    expect(RING.seal(PLAINTEXT)).not.toBe(RING.seal(PLAINTEXT));
  });

  it('opens values sealed under an older key of the ring (k1$…)', () => {
    const olderRing = parseKeyRing(`k1:${HEX_A}`);
    const sealed = olderRing.seal(PLAINTEXT);
    expect(sealed).toMatch(/^k1\$/);
    expect(RING.open(sealed)).toBe(PLAINTEXT);
    expect(RING.open(`k1$${sealCredential(PLAINTEXT, KEY_A)}`)).toBe(PLAINTEXT);
  });

  it('opens untagged reference-format values sealed with any key of the ring', () => {
    expect(RING.open(sealCredential(PLAINTEXT, KEY_A))).toBe(PLAINTEXT);
    expect(RING.open(sealCredential(PLAINTEXT, KEY_B))).toBe(PLAINTEXT);
    expect(RING.open(singleKeyRing(KEY_A).seal(''))).toBe('');
  });

  it('refuses a key id that is not in the ring', () => {
    const error = openFailure(RING, `k3$${sealCredential(PLAINTEXT, KEY_C)}`);
    expect(error.code).toBe('authentication_failed');
    expect(openFailure(RING, `$${sealCredential(PLAINTEXT, KEY_A)}`).code).toBe('authentication_failed');
  });

  it('refuses a tagged value sealed with a different key than its tag names', () => {
    expect(openFailure(RING, `k1$${sealCredential(PLAINTEXT, KEY_B)}`).code).toBe('authentication_failed');
    expect(openFailure(RING, `k2$${sealCredential(PLAINTEXT, KEY_A)}`).code).toBe('authentication_failed');
  });

  it('refuses an untagged value that no key of the ring opens', () => {
    expect(openFailure(RING, sealCredential(PLAINTEXT, KEY_C)).code).toBe('authentication_failed');
  });

  it('refuses tampered values, tagged or not', () => {
    expect(openFailure(RING, flipLastHexDigit(RING.seal(PLAINTEXT))).code).toBe('authentication_failed');
    expect(openFailure(RING, flipLastHexDigit(sealCredential(PLAINTEXT, KEY_A))).code).toBe('authentication_failed');
    expect(openFailure(RING, `k2$${RING.seal(PLAINTEXT).slice(3, -2)}`).code).toBe('authentication_failed');
    expect(openFailure(RING, 'k2$not-hex').code).toBe('malformed');
    expect(openFailure(RING, 'zz').code).toBe('malformed');
  });

  it('never puts the key, the value or the plaintext in an open error', () => {
    const sealed = sealCredential(PLAINTEXT, KEY_C);
    for (const value of [sealed, `k3$${sealed}`, `k1$${sealed}`, flipLastHexDigit(RING.seal(PLAINTEXT))]) {
      const { message } = openFailure(RING, value);
      for (const secret of [HEX_A, HEX_B, HEX_C, sealed, PLAINTEXT]) expect(leaks(message, secret), message).toBe(false);
    }
  });

  it('reports whether a value is already under the current key', () => {
    expect(RING.isCurrent(RING.seal(PLAINTEXT))).toBe(true);
    expect(RING.isCurrent(parseKeyRing(`k1:${HEX_A}`).seal(PLAINTEXT))).toBe(false);
    expect(RING.isCurrent(sealCredential(PLAINTEXT, KEY_B))).toBe(false);
    // An id that merely starts with the current id is another key.
    expect(RING.isCurrent(`k22$${sealCredential(PLAINTEXT, KEY_B)}`)).toBe(false);
  });

  it('accepts whitespace around entries and upper-case hex', () => {
    const ring = parseKeyRing(` new_key-2:${HEX_B.toUpperCase()} , old:${HEX_A} `);
    expect(ring.currentId).toBe('new_key-2');
    expect(ring.open(parseKeyRing(`old:${HEX_A}`).seal(PLAINTEXT))).toBe(PLAINTEXT);
  });
});

describe('parseKeyRing errors', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['empty', '', /at least one key/],
    ['only separators', ' , ,', /at least one key/],
    ['duplicate id', `k1:${HEX_A},k1:${HEX_B}`, /"k1" twice/],
    ['duplicate id with the same key', `k1:${HEX_A},k1:${HEX_A}`, /"k1" twice/],
    ['id with a space', `k 1:${HEX_A}`, /id:hex/],
    ['id with a dollar sign', `k$1:${HEX_A}`, /id:hex/],
    ['id with a dot', `k.1:${HEX_A}`, /id:hex/],
    ['id longer than 32 characters', `${'k'.repeat(33)}:${HEX_A}`, /id:hex/],
    ['empty id', `:${HEX_A}`, /id:hex/],
    ['no colon', HEX_A, /id:hex/],
    ['a second colon', `k1:${HEX_A}:${HEX_B}`, /id:hex/],
    ['hex one character short', `k1:${HEX_A.slice(1)}`, /64 hexadecimal/],
    ['hex one character long', `k1:${HEX_A}0`, /64 hexadecimal/],
    ['non-hex characters', `k1:${HEX_A.slice(0, 62)}zz`, /64 hexadecimal/],
    ['a bad second key', `k2:${HEX_B},k1:${HEX_A.slice(0, 40)}`, /key "k1"/],
  ];

  for (const [what, spec, pattern] of cases) {
    it(`rejects ${what} with a CredentialKeyError that repeats no key material`, () => {
      const error = parseFailure(spec);
      expect(error.code).toBe('invalid_key');
      expect(error.message).toMatch(/CREDENTIALS_KEYS/);
      expect(error.message).toMatch(pattern);
      for (const secret of [HEX_A, HEX_B]) expect(leaks(error.message, secret), error.message).toBe(false);
    });
  }

  it('names the variable it was given', () => {
    expect(() => parseKeyRing('', 'MY_KEYS')).toThrow(/MY_KEYS/);
  });
});

describe('singleKeyRing', () => {
  const single = singleKeyRing(KEY_A);

  it('seals untagged, in the reference service format', () => {
    const sealed = single.seal(PLAINTEXT);
    expect(single.currentId).toBeUndefined();
    expect(sealed).toMatch(/^[0-9a-f]+$/);
    expect(openCredential(sealed, KEY_A)).toBe(PLAINTEXT);
    expect(single.open(sealed)).toBe(PLAINTEXT);
    // …which a ring holding the same key also opens.
    expect(RING.open(sealed)).toBe(PLAINTEXT);
  });

  it('refuses tagged values, even under its own key', () => {
    expect(openFailure(single, `k1$${sealCredential(PLAINTEXT, KEY_A)}`).code).toBe('authentication_failed');
    expect(openFailure(single, parseKeyRing(`k1:${HEX_A}`).seal(PLAINTEXT)).code).toBe('authentication_failed');
  });

  it('refuses values under another key and tampered values', () => {
    expect(openFailure(single, sealCredential(PLAINTEXT, KEY_B)).code).toBe('authentication_failed');
    expect(openFailure(single, flipLastHexDigit(single.seal(PLAINTEXT))).code).toBe('authentication_failed');
  });

  it('counts untagged values as current and tagged ones as not', () => {
    expect(single.isCurrent(single.seal(PLAINTEXT))).toBe(true);
    expect(single.isCurrent(RING.seal(PLAINTEXT))).toBe(false);
  });
});
