import { createHash, createHmac } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { CredentialError, CredentialKeyError, openCredential, parseCredentialsKey, sealCredential } from '../../src/crypto/credentials.js';
import { generateRolePassword } from '../../src/crypto/password.js';
import { scramSha256Verifier } from '../../src/crypto/scram.js';

const REFERENCE_KEY_HEX = '4b5d623f8a9b2dc3e78f5c6a1d3b9f0e2a1c4b7d5e8f0a3c6b9d2e5f8a1c4d7b';
const REFERENCE_SEALED = '3d0353bd1f90f4e2d6b001d0c5a9cc23fd65a4712f1d8f9452750d46fe36aaeec120ac11889138bb156e731194eca0d9ff59';
const key = parseCredentialsKey(REFERENCE_KEY_HEX);
const otherKey = parseCredentialsKey('a'.repeat(64));

function openError(sealed: string, withKey: Buffer = key): CredentialError {
  try {
    openCredential(sealed, withKey);
  } catch (error) {
    expect(error).toBeInstanceOf(CredentialError);
    return error as CredentialError;
  }
  throw new Error('openCredential returned instead of throwing');
}

function keyError(hex: string, variable?: string): CredentialKeyError {
  try {
    parseCredentialsKey(hex, variable);
  } catch (error) {
    expect(error).toBeInstanceOf(CredentialKeyError);
    return error as CredentialKeyError;
  }
  throw new Error('parseCredentialsKey returned instead of throwing');
}

describe('credential sealing', () => {
  it('opens a value sealed by the reference Rust service', () => {
    expect(openCredential(REFERENCE_SEALED, key)).toBe('secure_password_test_1');
  });

  it('round-trips ASCII, empty and non-ASCII plaintexts', () => {
    for (const plaintext of ['secure_password_test_1', '', 'pässwörd-密码-🔑']) {
      expect(openCredential(sealCredential(plaintext, key), key)).toBe(plaintext);
    }
  });

  it('writes lowercase hex of nonce, ciphertext and a 16-byte tag', () => {
    const sealed = sealCredential('secure_password_test_1', key);
    expect(sealed).toMatch(/^[0-9a-f]+$/);
    expect(sealed).toHaveLength((12 + 'secure_password_test_1'.length + 16) * 2);
  });

  it('uses a fresh nonce for every seal of the same plaintext', () => {
    const a = sealCredential('same', key);
    const b = sealCredential('same', key);
    expect(a).not.toBe(b);
    expect(a.slice(0, 24)).not.toBe(b.slice(0, 24));
  });

  it('rejects a value sealed under another key as authentication_failed', () => {
    const sealed = sealCredential('secret', otherKey);
    expect(openError(sealed).code).toBe('authentication_failed');
    expect(openError(REFERENCE_SEALED, otherKey).code).toBe('authentication_failed');
  });

  it('rejects a change to any single byte of nonce, ciphertext or tag', () => {
    const bytes = Buffer.from(REFERENCE_SEALED, 'hex');
    for (let i = 0; i < bytes.length; i++) {
      const tampered = Buffer.from(bytes);
      tampered[i] = (tampered[i] ?? 0) ^ 0x01;
      expect(openError(tampered.toString('hex')).code, `byte ${i}`).toBe('authentication_failed');
    }
  });

  it('rejects truncated, odd-length and non-hex values as malformed', () => {
    const cases = [
      '',
      REFERENCE_SEALED.slice(0, 54), // 27 bytes: shorter than nonce + tag
      REFERENCE_SEALED.slice(0, -1), // odd length
      `${REFERENCE_SEALED.slice(0, -2)}zz`,
      `${REFERENCE_SEALED.slice(0, 10)} ${REFERENCE_SEALED.slice(11)}`,
    ];
    for (const sealed of cases) {
      expect(openError(sealed).code, JSON.stringify(sealed)).toBe('malformed');
    }
  });

  it('treats a value truncated past nonce + tag as tampered, never returning a plaintext', () => {
    expect(openError(REFERENCE_SEALED.slice(0, -2)).code).toBe('authentication_failed');
  });

  it('keeps key and plaintext out of error messages', () => {
    const error = openError(sealCredential('secure_password_test_1', otherKey));
    expect(error.message).not.toContain('secure_password_test_1');
    expect(error.message.toLowerCase()).not.toContain(REFERENCE_KEY_HEX);
    expect(error.message).not.toContain(REFERENCE_SEALED);
  });
});

describe('parseCredentialsKey', () => {
  it('decodes 64 hex characters in either case to 32 bytes', () => {
    expect(parseCredentialsKey(REFERENCE_KEY_HEX)).toHaveLength(32);
    expect(parseCredentialsKey(REFERENCE_KEY_HEX.toUpperCase())).toEqual(key);
    expect(parseCredentialsKey(REFERENCE_KEY_HEX).toString('hex')).toBe(REFERENCE_KEY_HEX);
  });

  it('rejects 63 and 65 characters and non-hex characters', () => {
    for (const hex of [REFERENCE_KEY_HEX.slice(0, 63), `${REFERENCE_KEY_HEX}a`, `${REFERENCE_KEY_HEX.slice(0, 63)}g`, ` ${REFERENCE_KEY_HEX.slice(1)}`, '']) {
      expect(keyError(hex).code).toBe('invalid_key');
    }
  });

  it('names the variable and what is expected, never the value', () => {
    const secret = `${REFERENCE_KEY_HEX.slice(0, 63)}x`;
    const error = keyError(secret, 'TENANT_CREDENTIALS_KEY');
    expect(error.message).toContain('TENANT_CREDENTIALS_KEY');
    expect(error.message).toContain('64 hexadecimal');
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain(REFERENCE_KEY_HEX.slice(0, 16));
    expect(keyError('nothex').message).toContain('CREDENTIALS_KEY');
  });

  it('refuses to seal or open with a key that is not 32 bytes', () => {
    expect(() => sealCredential('x', Buffer.alloc(16))).toThrow(CredentialKeyError);
    expect(() => openCredential(REFERENCE_SEALED, Buffer.alloc(31))).toThrow(CredentialKeyError);
  });
});

describe('generateRolePassword', () => {
  it('is 43 base64url characters decoding to 32 bytes', () => {
    const password = generateRolePassword();
    expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(password, 'base64url')).toHaveLength(32);
  });

  it('differs across calls', () => {
    const passwords = new Set(Array.from({ length: 100 }, () => generateRolePassword()));
    expect(passwords.size).toBe(100);
  });
});

describe('scramSha256Verifier', () => {
  // RFC 7677 section 3 test vector.
  const rfcSalt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
  const authMessage =
    'n=user,r=rOprNGfwEbeRWgbNEkqO' +
    ',' +
    'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096' +
    ',' +
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
  const rfcClientProof = Buffer.from('dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=', 'base64');
  const rfcServerSignature = '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';
  const format = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/;

  function parse(verifier: string) {
    const match = format.exec(verifier);
    if (!match) throw new Error(`not a SCRAM verifier: ${verifier}`);
    const [, iterations = '', salt = '', storedKey = '', serverKey = ''] = match;
    return {
      iterations: Number(iterations),
      salt: Buffer.from(salt, 'base64'),
      storedKey: Buffer.from(storedKey, 'base64'),
      serverKey: Buffer.from(serverKey, 'base64'),
    };
  }

  it('produces the server signature of the RFC 7677 exchange', () => {
    const { serverKey } = parse(scramSha256Verifier('pencil', { salt: rfcSalt, iterations: 4096 }));
    const signature = createHmac('sha256', serverKey).update(authMessage).digest('base64');
    expect(signature).toBe(rfcServerSignature);
  });

  it('accepts the RFC 7677 client proof against its StoredKey', () => {
    const { storedKey } = parse(scramSha256Verifier('pencil', { salt: rfcSalt, iterations: 4096 }));
    const clientSignature = createHmac('sha256', storedKey).update(authMessage).digest();
    const clientKey = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) {
      clientKey[i] = (rfcClientProof[i] ?? 0) ^ (clientSignature[i] ?? 0);
    }
    expect(createHash('sha256').update(clientKey).digest()).toEqual(storedKey);
  });

  it('rejects the RFC client proof for a different password', () => {
    const { storedKey } = parse(scramSha256Verifier('pencil2', { salt: rfcSalt, iterations: 4096 }));
    const clientSignature = createHmac('sha256', storedKey).update(authMessage).digest();
    const clientKey = Buffer.from(rfcClientProof.map((byte, i) => byte ^ (clientSignature[i] ?? 0)));
    expect(createHash('sha256').update(clientKey).digest()).not.toEqual(storedKey);
  });

  it('uses PostgreSQL format with 4096 iterations and a 16-byte salt by default', () => {
    const verifier = scramSha256Verifier(generateRolePassword());
    expect(verifier).toMatch(format);
    const parsed = parse(verifier);
    expect(parsed.iterations).toBe(4096);
    expect(parsed.salt).toHaveLength(16);
    expect(parsed.storedKey).toHaveLength(32);
    expect(parsed.serverKey).toHaveLength(32);
  });

  it('honours explicit iterations and salt', () => {
    const salt = Buffer.from('0123456789abcdef');
    const parsed = parse(scramSha256Verifier('pencil', { salt, iterations: 10000 }));
    expect(parsed.iterations).toBe(10000);
    expect(parsed.salt).toEqual(salt);
  });

  it('draws a fresh salt per call', () => {
    const a = parse(scramSha256Verifier('pencil'));
    const b = parse(scramSha256Verifier('pencil'));
    expect(a.salt).not.toEqual(b.salt);
    expect(a.storedKey).not.toEqual(b.storedKey);
  });

  it('throws for passwords outside printable ASCII, without echoing them', () => {
    for (const password of ['pässwörd', 'with space', 'tab\there', '', 'emoji🔑']) {
      expect(() => scramSha256Verifier(password), JSON.stringify(password)).toThrow(RangeError);
    }
    expect(() => scramSha256Verifier('pässwörd')).not.toThrow(/pässwörd/);
  });

  it('rejects non-positive iterations and an empty salt', () => {
    expect(() => scramSha256Verifier('pencil', { iterations: 0 })).toThrow(RangeError);
    expect(() => scramSha256Verifier('pencil', { iterations: 1.5 })).toThrow(RangeError);
    expect(() => scramSha256Verifier('pencil', { salt: Buffer.alloc(0) })).toThrow(RangeError);
  });
});

describe('scramSha256VerifierAsync', () => {
  it('computes exactly the synchronous verifier for the same salt and iterations', async () => {
    const { scramSha256VerifierAsync } = await import('../../src/crypto/scram.js');
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
    expect(await scramSha256VerifierAsync('pencil', { salt })).toBe(scramSha256Verifier('pencil', { salt }));
    await expect(scramSha256VerifierAsync('not ascii ü')).rejects.toThrow(RangeError);
  });
});
