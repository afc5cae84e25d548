// Generates the passwords of tenant database roles.

import { randomBytes } from 'node:crypto';

/**
 * 32 random bytes as base64url without padding: 43 ASCII characters, 256 bits of entropy. The
 * alphabet needs no quoting in SQL or connection strings and passes SCRAM's printable-ASCII check.
 */
export function generateRolePassword(): string {
  return randomBytes(32).toString('base64url');
}
