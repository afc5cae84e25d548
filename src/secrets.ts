// The gateway's two secrets, from the environment or (embedded mode only) from the data dir.
import type { Config } from './config.js';
import { parseCredentialsKey } from './crypto/credentials.js';
import { parseKeyRing, singleKeyRing, type KeyRing } from './crypto/key-ring.js';
import { loadOrCreateDevSecrets } from './db/dev-secrets.js';
import { adminKey } from './http/admin-auth.js';

export interface Secrets {
  /** Seals and opens tenant passwords (CREDENTIALS_KEYS, else CREDENTIALS_KEY, else the dev key). */
  readonly keys: KeyRing;
  readonly adminKey: Uint8Array;
  /** The embedded server's superuser password; undefined with DATABASE_URL. */
  readonly embeddedPassword: string | undefined;
}

export async function resolveSecrets(config: Config): Promise<Secrets> {
  const dev = config.database.kind === 'embedded' ? await loadOrCreateDevSecrets(config.database.dataDir) : undefined;
  const keyHex = config.credentialsKeyHex ?? dev?.credentialsKeyHex;
  const jwtSecret = config.adminJwtSecret ?? dev?.adminJwtSecret;
  // loadConfig guarantees both outside embedded mode; dev secrets supply them inside it.
  if ((keyHex === undefined && config.credentialsKeys === undefined) || jwtSecret === undefined) {
    throw new Error('secrets are missing');
  }
  return {
    keys: config.credentialsKeys !== undefined ? parseKeyRing(config.credentialsKeys) : singleKeyRing(parseCredentialsKey(keyHex ?? '')),
    adminKey: adminKey(jwtSecret),
    embeddedPassword: dev?.postgresPassword,
  };
}
