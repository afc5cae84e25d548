// The gateway's two secrets, from the environment or (embedded mode only) from the data dir.
import type { Config } from './config.js';
import { parseCredentialsKey } from './crypto/credentials.js';
import { loadOrCreateDevSecrets } from './db/dev-secrets.js';
import { adminKey } from './http/admin-auth.js';

export interface Secrets {
  readonly credentialsKey: Buffer;
  readonly adminKey: Uint8Array;
  /** The embedded server's superuser password; undefined with DATABASE_URL. */
  readonly embeddedPassword: string | undefined;
}

export async function resolveSecrets(config: Config): Promise<Secrets> {
  const dev = config.database.kind === 'embedded' ? await loadOrCreateDevSecrets(config.database.dataDir) : undefined;
  const keyHex = config.credentialsKeyHex ?? dev?.credentialsKeyHex;
  const jwtSecret = config.adminJwtSecret ?? dev?.adminJwtSecret;
  // loadConfig guarantees both outside embedded mode; dev secrets supply them inside it.
  if (keyHex === undefined || jwtSecret === undefined) throw new Error('secrets are missing');
  return {
    credentialsKey: parseCredentialsKey(keyHex),
    adminKey: adminKey(jwtSecret),
    embeddedPassword: dev?.postgresPassword,
  };
}
