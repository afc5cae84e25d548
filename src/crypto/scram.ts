// Builds PostgreSQL SCRAM-SHA-256 password verifiers (RFC 5802 / RFC 7677), so `ALTER ROLE … PASSWORD`
// receives the verifier and the plaintext never reaches the server, its logs or pg_stat_statements.

import { createHash, createHmac, pbkdf2, pbkdf2Sync, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

/** PostgreSQL's own default (scram_iterations). */
const DEFAULT_ITERATIONS = 4096;
const DEFAULT_SALT_BYTES = 16;
const KEY_BYTES = 32;

const pbkdf2Async = promisify(pbkdf2);

export interface ScramOptions {
  /** Defaults to 16 random bytes. */
  salt?: Buffer;
  /** Defaults to 4096. */
  iterations?: number;
}

/** `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, all base64, as stored in pg_authid. */
export function scramSha256Verifier(password: string, options: ScramOptions = {}): string {
  const { salt, iterations } = checkInputs(password, options);
  // Synchronous: runs only when one tenant role is created or rotated (under a millisecond).
  return format(pbkdf2Sync(password, salt, iterations, KEY_BYTES, 'sha256'), salt, iterations);
}

/** The same, off the event loop (libuv's thread pool): for creating thousands of tenants at once. */
export async function scramSha256VerifierAsync(password: string, options: ScramOptions = {}): Promise<string> {
  const { salt, iterations } = checkInputs(password, options);
  return format(await pbkdf2Async(password, salt, iterations, KEY_BYTES, 'sha256'), salt, iterations);
}

function checkInputs(password: string, options: ScramOptions): { salt: Buffer; iterations: number } {
  // PostgreSQL runs SASLprep on the password before hashing; restricting to printable ASCII makes
  // SASLprep the identity, so our verifier is exactly what the server would compute.
  if (!/^[\x21-\x7e]+$/.test(password)) {
    throw new RangeError('SCRAM password must be non-empty printable ASCII (0x21-0x7e)');
  }
  const iterations = options.iterations ?? DEFAULT_ITERATIONS;
  if (!Number.isSafeInteger(iterations) || iterations < 1) {
    throw new RangeError(`SCRAM iterations must be a positive integer; got ${iterations}`);
  }
  const salt = options.salt ?? randomBytes(DEFAULT_SALT_BYTES);
  if (salt.length === 0) {
    throw new RangeError('SCRAM salt must not be empty');
  }
  return { salt, iterations };
}

function format(saltedPassword: Buffer, salt: Buffer, iterations: number): string {
  const clientKey = hmac(saltedPassword, 'Client Key');
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = hmac(saltedPassword, 'Server Key');
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}` + `$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
