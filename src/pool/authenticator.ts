// The shared pool's login: the authenticator role created by sql/002, with a random password generated
// by the first gateway that starts, sealed in gateway_settings like tenant passwords, and opened by
// every instance after it.
import type { Sql } from 'postgres';
import type { KeyRing } from '../crypto/key-ring.js';
import { generateRolePassword } from '../crypto/password.js';
import { scramSha256Verifier } from '../crypto/scram.js';

export interface AuthenticatorLogin {
  readonly username: string;
  readonly password: string;
}

// Arbitrary constant: "tenantgate authenticator".
const AUTHENTICATOR_LOCK_KEY = 7_305_531_203;

export async function ensureAuthenticator(catalog: Sql, keys: KeyRing): Promise<AuthenticatorLogin> {
  return catalog.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${AUTHENTICATOR_LOCK_KEY})`;
    const rows = await tx<{ key: string; value: string }[]>`
      SELECT key, value FROM gateway_settings WHERE key IN ('authenticator_role', 'authenticator_password')`;
    const setting = (key: string): string | undefined => rows.find((r) => r.key === key)?.value;
    const username = setting('authenticator_role');
    if (username === undefined) throw new Error('the authenticator role is missing: migrations have not run');
    const sealed = setting('authenticator_password');
    if (sealed !== undefined) return { username, password: keys.open(sealed) };
    const password = generateRolePassword();
    await tx`SELECT tenantgate_set_authenticator_password(${scramSha256Verifier(password)})`;
    await tx`INSERT INTO gateway_settings (key, value) VALUES ('authenticator_password', ${keys.seal(password)})`;
    return { username, password };
  });
}
