// Seals tenant role passwords at rest with AES-256-GCM. The stored format is the reference Rust
// service's — lowercase hex of nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes), no AAD — so values
// written by either service open in the other.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export class CredentialKeyError extends Error {
  readonly code = 'invalid_key';
  constructor(message: string) {
    super(message);
    this.name = 'CredentialKeyError';
  }
}

export type CredentialErrorCode = 'malformed' | 'authentication_failed';

/** A sealed value could not be opened. Messages never carry the key, the value or the plaintext. */
export class CredentialError extends Error {
  constructor(
    readonly code: CredentialErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CredentialError';
  }
}

/** Decodes the 64-hex-character key from configuration; the error names the variable, never the value. */
export function parseCredentialsKey(hex: string, variable = 'CREDENTIALS_KEY'): Buffer {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new CredentialKeyError(`${variable} must be exactly 64 hexadecimal characters (a 32-byte AES-256 key); got ${hex.length} characters`);
  }
  return Buffer.from(hex, 'hex');
}

export function sealCredential(plaintext: string, key: Buffer): string {
  assertKey(key);
  // A fresh nonce per seal: reusing a nonce under one GCM key leaks the XOR of plaintexts and the
  // authentication key.
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([nonce, ciphertext, cipher.getAuthTag()]).toString('hex');
}

export function openCredential(sealed: string, key: Buffer): string {
  assertKey(key);
  const bytes = decodeSealed(sealed);
  const nonce = bytes.subarray(0, NONCE_BYTES);
  const ciphertext = bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES);
  const tag = bytes.subarray(bytes.length - TAG_BYTES);

  const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(tag);
  let plaintext: Buffer;
  try {
    plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new CredentialError('authentication_failed', 'sealed credential failed authentication (wrong key or tampered value)');
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(plaintext);
  } catch {
    throw new CredentialError('malformed', 'sealed credential does not contain UTF-8 text');
  }
}

function decodeSealed(sealed: string): Buffer {
  // Buffer.from(…, 'hex') silently stops at the first bad character, so the shape is checked first.
  if (sealed.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(sealed)) {
    throw new CredentialError('malformed', 'sealed credential is not an even-length hexadecimal string');
  }
  const bytes = Buffer.from(sealed, 'hex');
  if (bytes.length < NONCE_BYTES + TAG_BYTES) {
    throw new CredentialError('malformed', `sealed credential is ${bytes.length} bytes; at least ${NONCE_BYTES + TAG_BYTES} expected`);
  }
  return bytes;
}

function assertKey(key: Buffer): void {
  if (key.length !== KEY_BYTES) {
    throw new CredentialKeyError(`credentials key must be ${KEY_BYTES} bytes; got ${key.length}`);
  }
}
